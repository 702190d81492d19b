"""Training several trials of a `NASTuner` as one pack (`engine.packing`).

`train(tuner, trials, ...)` trains the trials the tuner took from its
oracle at once, and returns for each what training it alone would have
given: its metrics, or the error that failed it. The tuner then records
each as Keras Tuner records any trial (`NASTuner.run_trial` hands back the
outcome), so statuses, retries, the oracle's bookkeeping and every hook are
those of a trial trained alone.

- Candidates with another learning rate (or, under Hyperband, another
  number of epochs) go into another pack; a trial that
  starts from a checkpoint (Hyperband's continued trials, halving's resumed
  or promoted ones) trains alone, since its optimizer's step count is not
  the others'. Those, and a lone candidate, get no outcome here: the tuner
  trains them alone.
- Each candidate is built under its own seed, in the order of the pack,
  after one `clear_session()`: the weights it starts from are those it
  would start from alone.
- A candidate that is done (early stopping, its rung, a NaN loss, the time
  budget) is recorded at that epoch's end from its best epoch's weights;
  once the done ones hold at least `LEAVE_SHARE` of the pack's work, the
  others go on in a smaller pack (one more trace of the training step),
  where their optimizer state follows them.
- Out of memory: the pack is split in two, and each half trains afresh;
  a lone candidate then gets the tuner's own retry at half the batch size.
"""

import logging
import time

import keras

from keras_nas import _compat
from keras_nas.engine import budget as budget_module
from keras_nas.engine import outcome, packing
from keras_nas.engine.failures import is_out_of_memory, machine_error
from keras_nas.engine.hypermodel import LOSS_METRIC

__all__ = ["LEAVE_SHARE", "train"]

_logger = logging.getLogger(__name__)

#: The share of a pack's FLOPs that done candidates must hold before the
#: others go on without them: below it, the done ones ride along (their
#: outputs are computed and ignored) rather than cost another trace.
LEAVE_SHARE = 0.25


def train(tuner, trials, x, y, validation_data, epochs, batch_size,
          callbacks, keras_verbose, fit_kwargs):
    """Train `trials` in packs; `{trial_id: metrics dict or exception}` for
    those trained here (the rest train alone)."""
    groups = {}
    for trial in trials:
        if budget_module.starts_from_checkpoint(tuner, trial):
            continue
        values = trial.hyperparameters.values
        # Hyperband gives each round's trials their epochs.
        key = (values.get("learning_rate"),
               values.get("tuner/epochs", epochs))
        groups.setdefault(key, []).append(trial)
    outcomes = {}
    for (_, group_epochs), group in groups.items():
        if len(group) > 1:
            outcomes.update(_train_pack(
                tuner, group, x, y, validation_data, group_epochs,
                batch_size, callbacks, keras_verbose, fit_kwargs))
    return outcomes


def _train_pack(tuner, trials, x, y, validation_data, epochs, batch_size,
                callbacks, keras_verbose, fit_kwargs):
    outcomes = {}
    keras.backend.clear_session()
    branches = []
    for trial in trials:
        try:
            branches.append(_branch(tuner, trial, len(branches), callbacks,
                                    epochs))
        except Exception as e:  # Recorded as that trial's own failure.
            if machine_error(e, tuner.project_dir) is not None:
                raise
            outcomes[trial.trial_id] = e
    if len(branches) < 2 or not packing.unique_paths(
            [b.model for b in branches]):
        return outcomes  # A lone candidate trains alone.
    start = time.perf_counter()
    try:
        _fit(tuner, branches, x, y, validation_data, epochs, batch_size,
             keras_verbose, fit_kwargs, outcomes)
    except Exception as e:
        if machine_error(e, tuner.project_dir) is not None:
            raise
        pending = [b.trial for b in branches
                   if b.trial.trial_id not in outcomes]
        if is_out_of_memory(e):
            half = len(pending) // 2
            _logger.warning(
                "A pack of %d candidates ran out of memory; training them "
                "in two packs of %d and %d.", len(pending), half,
                len(pending) - half)
            for part in (pending[:half], pending[half:]):
                outcomes.update(_train_pack(
                    tuner, part, x, y, validation_data, epochs, batch_size,
                    callbacks, keras_verbose, fit_kwargs))
            return outcomes
        for trial in pending:  # The user's callback, loss or metric failed.
            outcomes[trial.trial_id] = e
    _logger.debug("Pack of %d trained in %.2f s.", len(branches),
                  time.perf_counter() - start)
    return outcomes


def _branch(tuner, trial, index, callbacks, epochs):
    model = tuner.build_seeded(trial, clear=False)
    model.optimizer.build(model.trainable_variables)
    callbacks_, keep = tuner.trial_callbacks(callbacks, trial)
    budget = tuner.trial_budget(trial, model, epochs)
    branch = packing.Branch(index, model, budget.callbacks + callbacks_)
    branch.trial, branch.keep, branch.budget = trial, keep, budget
    branch.flops = outcome.architecture_cost(tuner,
                                          trial.hyperparameters)["flops"]
    return branch


def _fit(tuner, branches, x, y, validation_data, epochs, batch_size,
         keras_verbose, fit_kwargs, outcomes):
    """Train the pack until every candidate is done, going on in smaller
    packs as done ones leave; each outcome lands in `outcomes`."""
    state = {"pack": None}

    def done(branch):
        outcomes[branch.trial.trial_id] = _outcome(tuner, branch,
                                                   validation_data)

    def failed(branch, error):
        if (machine_error(error, tuner.project_dir) is not None
                or is_out_of_memory(error)):
            raise error  # A full disk ends the search; memory splits.
        outcomes[branch.trial.trial_id] = error

    adapter = packing.BranchCallbacks(
        branches, lambda: state["pack"].optimizer, done, leave=_should_leave,
        loss_metric=LOSS_METRIC, on_error=failed)
    epoch = 0
    while adapter.active() and epoch < epochs:
        active = adapter.active()
        previous = state["pack"]
        pack = packing.pack_model([b.model for b in active])
        tuner.hypermodel.compile_pack(
            pack, active[0].trial.hyperparameters.values)
        px, py, pval = packing.pack_data(x, y, validation_data, len(active))
        _compat.build_training_state(pack, px, py)
        if previous is not None:
            pack.optimizer.build(pack.trainable_variables)
            packing.copy_optimizer_state(previous.optimizer, pack.optimizer)
        # The outputs are renamed in a smaller pack: each branch follows.
        for i, branch in enumerate(active):
            branch.name = packing.output_name(i)
        state["pack"] = pack
        pack.fit(px, py, validation_data=pval, epochs=epochs,
                 initial_epoch=epoch, batch_size=batch_size,
                 callbacks=[adapter], verbose=keras_verbose, **fit_kwargs)
        if adapter.last_epoch is None or adapter.last_epoch + 1 <= epoch:
            break  # No epoch ran (an empty dataset): nothing goes on.
        epoch = adapter.last_epoch + 1
    adapter.finish_all()


def _should_leave(branches):
    total = sum(b.flops for b in branches if not b.left)
    done = [b for b in branches if b.done and not b.left]
    if total <= 0 or sum(b.flops for b in done) < LEAVE_SHARE * total:
        return False
    for b in done:
        b.left = True
    return True


def _outcome(tuner, branch, validation_data):
    """The metrics of a done candidate, or the error that fails it."""
    try:
        return outcome.metrics(
            tuner, branch.trial, branch.model, branch.history, branch.keep,
            branch.budget, initial_epoch=0, seconds=branch.seconds,
            validation_data=validation_data)
    except Exception as e:
        if machine_error(e, tuner.project_dir) is not None:
            raise
        return e
