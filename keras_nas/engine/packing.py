"""Several candidates in one compiled model: the pieces of packed training.

A NAS candidate is small, and one small model's training step leaves the
hardware mostly idle: the time goes to the per-step overhead of the
framework, not to arithmetic. A pack trains `k` candidates as one
functional model: one shared input, each candidate's own
`keras.Sequential` (the very model it would train alone) applied to it, one
named output per candidate (`p0`, `p1`, ...), and the sum of their losses.
No weight is shared, so the gradient of the sum with respect to one
candidate's weights is the gradient of its own loss; with an optimizer
whose state is per weight (Adam, RMSprop, SGD with momentum) and the same
learning rate, each candidate takes the steps it would take alone, on the
same batches. Candidates that differ in learning rate go into different
packs (`engine.pack_runner`).

What is here:

- `pack_model`: the functional model of `k` built candidates;
- `pack_targets` / `pack_data`: the targets, one per output;
- `copy_optimizer_state`: an optimizer's per-weight state and step count
  from one optimizer to another over the same weights, so that a
  candidate's own (unused) optimizer holds what the pack's did for its
  weights when its checkpoint is written, and a smaller pack goes on where
  the larger one was;
- `BranchCallbacks`: each candidate's own callbacks (early stopping, the
  best epoch's weights, halving, the time budget, TensorBoard, the user's)
  run against the candidate's own model and logs (`loss`, `val_accuracy`,
  ... of its output), so each decides for itself when it stops.
"""

import math
import time

import keras

__all__ = ["BranchCallbacks", "copy_optimizer_state", "output_name",
           "pack_data", "pack_model", "pack_targets", "unique_paths"]


def output_name(index):
    """The name of the `index`-th candidate's output in a pack."""
    return f"p{index}"


def unique_paths(models):
    """Whether no two weights of `models` share a path: the optimizer names
    its per-weight state after the weight's path, and `copy_optimizer_state`
    matches them by that name."""
    paths = [v.path for m in models for v in m.trainable_variables]
    return len(paths) == len(set(paths))


def pack_model(branches):
    """One functional model of the built `keras.Sequential`s `branches`:
    their shared input, their outputs by `output_name`. Their layers and
    weights are the pack's: training the pack trains them."""
    shape = branches[0].inputs[0].shape[1:]
    dtype = branches[0].inputs[0].dtype
    for branch in branches[1:]:
        if tuple(branch.inputs[0].shape[1:]) != tuple(shape):
            raise ValueError(
                "Every candidate of a pack must take the same input shape. "
                f"Received: {tuple(shape)} and "
                f"{tuple(branch.inputs[0].shape[1:])}.")
    inputs = keras.Input(shape=shape, dtype=dtype)
    # An `Identity` names each output (a Sequential's own name would).
    outputs = {output_name(i): keras.layers.Identity(name=output_name(i))(
        branch(inputs)) for i, branch in enumerate(branches)}
    return keras.Model(inputs, outputs, name="pack")


def pack_targets(y, count):
    """The targets of a pack of `count`: `y` (the same array, not a copy)
    for each output."""
    return {output_name(i): y for i in range(count)}


def pack_data(x, y, validation_data, count):
    """`(x, y, validation_data)` for a pack of `count`: each target given
    to every output. A `tf.data` dataset of `(x, y)` batches is mapped so
    (`data.tf_datasets.with_targets_per_output`)."""
    names = [output_name(i) for i in range(count)]
    if y is None and x is not None and hasattr(x, "element_spec"):
        from keras_nas.data import tf_datasets

        x = tf_datasets.with_targets_per_output(x, names)
    elif y is not None:
        y = pack_targets(y, count)
    if validation_data is not None:
        if isinstance(validation_data, (tuple, list)):
            validation_data = (validation_data[0],
                               pack_targets(validation_data[1], count))
        else:
            from keras_nas.data import tf_datasets

            validation_data = tf_datasets.with_targets_per_output(
                validation_data, names)
    return x, y, validation_data


def copy_optimizer_state(source, target):
    """Copy into `target` the state `source` holds for the weights both
    were built on, and its step count. Both are built; the weights of
    `target` are among those of `source`, or the other way round.

    Keras optimizers create a weight's state with
    `add_variable_from_reference`, named after the weight's path
    (`tests/test_compat.py` pins it), so state is matched by name; paths
    must be unique (`unique_paths`).
    """
    found = {}
    for variable in source.variables:
        if variable.name in found:
            raise ValueError(
                "Two optimizer variables share the name "
                f"{variable.name!r}: weights with the same path cannot be "
                "told apart.")
        found[variable.name] = variable
    for variable in target.variables:
        other = found.get(variable.name)
        if other is not None and tuple(other.shape) == tuple(variable.shape):
            variable.assign(other)


def branch_logs(logs, name, loss_metric=None):
    """The logs of output `name` as its candidate alone would log them:
    `p3_accuracy` becomes `accuracy`, `val_p3_loss` `val_loss`; with
    `loss_metric`, that metric's log is the loss (`p3_<loss_metric>`
    becomes `loss`)."""
    out = {}
    if not logs:
        return out
    for prefix in ("", "val_"):
        head = f"{prefix}{name}_"
        for key, value in logs.items():
            if key.startswith(head):
                out[prefix + key[len(head):]] = value
        if loss_metric is not None and prefix + loss_metric in out:
            out[prefix + "loss"] = out.pop(prefix + loss_metric)
    return out


class Branch:
    """One candidate in a pack: its own model, callbacks and history.

    Args:
        index: Its position in the pack when the pack was first made.
        model: Its compiled `keras.Sequential`, whose weights the pack
            trains.
        callbacks: Its own callbacks, as it would train with alone.

    Attributes the runner sets (`pack_runner`): `trial`, `keep` (its
    `KeepBestWeights`), `budget` (its `budget.Budget`) and `flops`; `left`
    once it has left the pack it trained in.
    """

    def __init__(self, index, model, callbacks):
        self.name = output_name(index)
        self.model = model
        self.history = keras.callbacks.History()
        self.callbacks = keras.callbacks.CallbackList(
            list(callbacks) + [self.history], model=model)
        self.done = False
        self.left = False
        self.seconds = 0.0
        self.flops = 0.0
        self.trial = self.keep = self.budget = None


class BranchCallbacks(keras.callbacks.Callback):
    """Runs each candidate's own callbacks inside one `fit` of a pack.

    Each candidate's callbacks see its own model and the logs of its output
    under the names they would have alone, so early stopping, the best
    epoch's weights, halving's rungs, the time budget and the user's
    callbacks decide for each candidate. A candidate whose model's
    `stop_training` is set is done at that epoch's end: its callbacks' train
    end runs (its best weights are restored), then `on_done(branch)`
    records it. The pack's own `fit` stops when every candidate is done, or
    when `leave(branches)` says the done ones should leave the pack (the
    caller then goes on with a smaller pack, and this object keeps each
    candidate's state across the fits). Wall time is shared out per epoch
    among the candidates that trained in it.

    Args:
        branches: The `Branch`es of the pack, in output order.
        optimizer: A function returning the pack's optimizer now (a smaller
            pack has another).
        on_done: Called with each branch as it is done.
        leave: Optional `leave(branches) -> bool`, asked after an epoch in
            which a candidate was done while others go on.
        loss_metric: Optional name of a metric each output logs that is
            its loss (see `branch_logs`).
        on_error: Optional `on_error(branch, error)`, called when one of a
            candidate's callbacks raises: that candidate is done (its trial
            fails with the error, as alone) and the others go on; it may
            raise to end the pack instead. Without it, the error ends the
            pack.
    """

    def __init__(self, branches, optimizer, on_done, leave=None,
                 loss_metric=None, on_error=None):
        super().__init__()
        self.loss_metric = loss_metric
        self.on_error = on_error
        self.branches = list(branches)
        self.optimizer = optimizer
        self.on_done = on_done
        self.leave = leave
        self.started = False
        self.last_epoch = None
        self._epoch_start = None

    def active(self):
        return [b for b in self.branches if not b.done]

    def set_params(self, params):
        super().set_params(params)
        for branch in self.active():
            branch.callbacks.set_params(params)

    def on_train_begin(self, logs=None):
        if self.started:  # A smaller pack going on: the same training.
            return
        self.started = True
        for branch in self.branches:
            branch.model.stop_training = False
            self._call(branch, "on_train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        for branch in self.active():
            self._call(branch, "on_epoch_begin", epoch)

    def on_train_batch_begin(self, batch, logs=None):
        for branch in self.active():
            self._call(branch, "on_train_batch_begin", batch)

    def _logs(self, logs, branch):
        if len(self.model.outputs) == 1:  # Keras logs one output bare.
            logs = {f"{prefix}{branch.name}_{key[len(prefix):]}": value
                    for key, value in (logs or {}).items()
                    for prefix in ("val_" if key.startswith("val_")
                                   else "",)}
        return branch_logs(logs, branch.name, self.loss_metric)

    def on_train_batch_end(self, batch, logs=None):
        for branch in self.active():
            self._call(branch, "on_train_batch_end", batch,
                       self._logs(logs, branch))

    def on_epoch_end(self, epoch, logs=None):
        self.last_epoch = epoch
        active = self.active()
        share = (time.perf_counter() - self._epoch_start) / max(len(active), 1)
        optimizer = self.optimizer()
        finished = []
        for branch in active:
            branch.seconds += share
            # What the branch's callbacks save (a rung checkpoint) holds the
            # optimizer state the pack has for its weights.
            copy_optimizer_state(optimizer, branch.model.optimizer)
            own = self._logs(logs, branch)
            if not self._call(branch, "on_epoch_end", epoch, own):
                continue
            if branch.model.stop_training or not _finite(own.get("loss")):
                finished.append(branch)
        for branch in finished:
            self.finish(branch)
        left = self.active()
        if not left or (len(left) < len(active) and self.leave is not None
                        and self.leave(self.branches)):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        # Called at the end of every `fit` of the pack; a candidate is
        # finished only when it is done or the last fit ends (`finish_all`).
        pass

    def finish(self, branch):
        """End `branch`'s training: its callbacks' train end, then
        `on_done`."""
        if branch.done:
            return
        branch.done = True
        if self._call(branch, "on_train_end"):
            self.on_done(branch)

    def _call(self, branch, method, *args):
        """`branch`'s callbacks' `method`; `False` if one raised (the
        branch is then done, its error given to `on_error`)."""
        if self.on_error is None:
            getattr(branch.callbacks, method)(*args)
            return True
        try:
            getattr(branch.callbacks, method)(*args)
        except Exception as e:
            branch.done = True
            self.on_error(branch, e)
            return False
        return True

    def finish_all(self):
        """End every candidate still training (the pack's epochs ran out)."""
        optimizer = self.optimizer()
        for branch in self.active():
            copy_optimizer_state(optimizer, branch.model.optimizer)
            self.finish(branch)


def _finite(value):
    return value is None or math.isfinite(float(value))
