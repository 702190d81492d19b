"""The Keras Tuner tuner under `NASSearch`.

`NASHyperModel` turns a trial's values into a compiled `keras.Sequential`;
`NASTuner` trains it. Trial bookkeeping (ids, statuses, retries, resume, the
chief/worker protocol) stays Keras Tuner's own. What this module adds is what
a NAS search needs of each trial:

- a failed trial is recorded with its reason and the search goes on: an
  invalid architecture, a NaN or infinite loss, an exception (in a user
  callback or an op factory), or running out of memory, after one retry at
  half the batch size;
- early stopping on the objective and `TerminateOnNaN`, unless the user
  passed their own;
- the best epoch's weights, kept in memory and written once, atomically, at
  the end of the trial; Keras Tuner's own state files are written atomically
  too (`_atomic`), so a kill at any moment leaves a project that resumes;
- one progress line per trial;
- the backend session cleared (and garbage collected) before each trial.
"""

import math
import os
import sys
import time

import keras
import keras_tuner
from keras_tuner.src.engine.tuner import maybe_distribute

from keras_nas import _atomic  # noqa: F401  Atomic Keras Tuner state files.
from keras_nas import builder

__all__ = ["NASHyperModel", "NASTuner", "is_out_of_memory"]


class NASHyperModel(keras_tuner.HyperModel):
    """Builds and compiles the model of a trial's op sequence.

    Args:
        space: A bound `SearchSpace`.
        task: A `data.Task`.
        loss: The loss to compile with.
        metrics: Metrics (names, or Keras metric objects that are cloned for
            every model).
        optimizer: An optimizer name or instance (cloned for every model).
        head: `"auto"`, `"flatten"` or `"gap"`.
    """

    def __init__(self, space, task, loss, metrics, optimizer="adam", head="auto"):
        super().__init__(name="keras_nas")
        self.space = space
        self.task = task
        self.loss = loss
        self.metrics = list(metrics)
        self.optimizer = optimizer
        self.head = head

    def declare_hyperparameters(self, hp):
        self.space.declare(hp)

    def build(self, hp):
        ops = self.space.decode(hp)
        reason = self.space.check(ops)
        if reason is not None:
            raise keras_tuner.errors.FailedTrialError(
                f"invalid architecture: {reason}"
            )
        plan = self.space.plan(ops, head=self.head)
        _, activation = builder.head_for(
            self.task.kind, self.task.num_classes, self.task.num_targets
        )
        model = builder.build_from_plan(
            plan, activation, op_table=self.space.op_table
        )
        model.compile(
            optimizer=self._make_optimizer(hp),
            loss=self.loss,
            metrics=[_clone_metric(m) for m in self.metrics],
        )
        return model

    def _make_optimizer(self, hp):
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = keras.optimizers.get(optimizer)
        else:
            optimizer = optimizer.__class__.from_config(optimizer.get_config())
        if "learning_rate" in hp.values:
            optimizer.learning_rate = float(hp.values["learning_rate"])
        return optimizer


def _clone_metric(metric):
    if isinstance(metric, keras.metrics.Metric):
        return metric.__class__.from_config(metric.get_config())
    return metric


def is_out_of_memory(error):
    """Whether `error` is a backend's out-of-memory error."""
    text = f"{type(error).__name__}: {error}"
    return (
        "ResourceExhausted" in text
        or "RESOURCE_EXHAUSTED" in text
        or "out of memory" in text.lower()
        or isinstance(error, MemoryError)
    )


class KeepBestWeights(keras.callbacks.Callback):
    """Keeps the best epoch's weights and logs in memory; restores them at the
    end. Resets in `on_train_begin`, so one instance serves many fits."""

    def __init__(self, objective):
        super().__init__()
        self.objective = objective

    def on_train_begin(self, logs=None):
        self.best_value = None
        self.best_logs = None
        self.best_weights = None
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.objective.name)
        if value is None or not math.isfinite(float(value)):
            return
        if self.best_value is None or self.objective.better_than(
            float(value), self.best_value
        ):
            self.best_value = float(value)
            self.best_logs = {k: float(v) for k, v in logs.items()}
            self.best_epoch = epoch
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class NASTuner(keras_tuner.Tuner):
    """A Keras Tuner `Tuner` that trains op sequences.

    Args:
        oracle: Any `keras_tuner.Oracle`.
        hypermodel: A `NASHyperModel`.
        patience: Epochs without improvement before early stopping.
        seed: Optional seed; each trial trains under `seed + trial number`.
        trial_hooks: Callables `(tuner, trial)` run after each trial is
            recorded (progress lines, TensorBoard).
        trials_per_process: Optional number of trials after which the
            process exits with `recycle_exit_code` (local workers only).
        **kwargs: As for `keras_tuner.Tuner`.
    """

    def __init__(
        self,
        oracle,
        hypermodel,
        patience=3,
        seed=None,
        trial_hooks=(),
        trials_per_process=None,
        recycle_exit_code=75,
        **kwargs,
    ):
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.patience = patience
        self.seed = seed
        self.trial_hooks = list(trial_hooks)
        self.trials_per_process = trials_per_process
        self.recycle_exit_code = recycle_exit_code
        self.verbose = 1  # `NASSearch.fit` sets it for each search.

    def _populate_initial_space(self):
        # Declare the space without building a model for each condition, as
        # the base class would: every value of ours is declared up front.
        hp = self.oracle.get_space()
        hp.merge(self.hypermodel.space.hyperparameters.space, overwrite=False)
        self.oracle.update_space(hp)

    def _callbacks(self, user_callbacks, trial):
        callbacks = self._deepcopy_callbacks(list(user_callbacks or []))
        self._configure_tensorboard_dir(callbacks, trial)
        objective = self.oracle.objective
        if not any(isinstance(c, keras.callbacks.EarlyStopping) for c in callbacks):
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor=objective.name,
                    mode=objective.direction,
                    patience=self.patience,
                )
            )
        if not any(isinstance(c, keras.callbacks.TerminateOnNaN) for c in callbacks):
            callbacks.append(keras.callbacks.TerminateOnNaN())
        keep = KeepBestWeights(objective)
        callbacks.append(keep)
        return callbacks, keep

    def run_trial(
        self,
        trial,
        x=None,
        y=None,
        validation_data=None,
        epochs=1,
        batch_size=None,
        callbacks=None,
        keras_verbose=0,
        **fit_kwargs,
    ):
        hp = trial.hyperparameters
        initial_epoch = 0
        if "tuner/epochs" in hp.values:  # Hyperband's rounds.
            epochs = hp.values["tuner/epochs"]
            initial_epoch = hp.values["tuner/initial_epoch"]
        if self.seed is not None:
            keras.utils.set_random_seed(int(self.seed) + int(trial.trial_id))
        start = time.perf_counter()
        retried = False
        while True:
            callbacks_, keep = self._callbacks(callbacks, trial)
            model = self._try_build(hp)
            if "tuner/trial_id" in hp.values:
                with maybe_distribute(self.distribution_strategy):
                    _load_weights(model, self._get_checkpoint_fname(
                        hp.values["tuner/trial_id"]))
            try:
                history = model.fit(
                    x,
                    y,
                    validation_data=validation_data,
                    epochs=epochs,
                    initial_epoch=initial_epoch,
                    batch_size=batch_size,
                    callbacks=callbacks_,
                    verbose=keras_verbose,
                    **fit_kwargs,
                )
                break
            except Exception as e:
                if not is_out_of_memory(e):
                    raise
                if batch_size is None or batch_size < 2 or retried:
                    raise keras_tuner.errors.FailedTrialError(
                        f"out of memory at batch size {batch_size}: "
                        f"{type(e).__name__}"
                    ) from e
                retried = True
                batch_size //= 2
                if self.verbose:
                    print(f"Trial {trial.trial_id} ran out of memory; "
                          f"retrying once with batch size {batch_size}.")
        seconds = time.perf_counter() - start
        losses = history.history.get("loss", [])
        for epoch, loss in enumerate(losses):
            if loss is None or not math.isfinite(float(loss)):
                raise keras_tuner.errors.FailedTrialError(
                    f"loss became {loss} at epoch {initial_epoch + epoch + 1}"
                )
        if keep.best_logs is None:
            raise keras_tuner.errors.FailedTrialError(
                f"the objective {self.oracle.objective.name!r} was never finite"
            )
        self._save_checkpoint(trial.trial_id, model)
        metrics = dict(keep.best_logs)
        metrics["epochs"] = float(len(history.epoch))
        metrics["seconds"] = float(seconds)
        return metrics

    def _save_checkpoint(self, trial_id, model):
        """Write the weights beside, then rename: a kill leaves no half file."""
        path = self._get_checkpoint_fname(trial_id)
        tmp = path[: -len(".weights.h5")] + f".tmp{os.getpid()}.weights.h5"
        model.save_weights(tmp)
        os.replace(tmp, path)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # Each trial is its own TensorBoard run; our HParams are written by
        # `tf_only.SearchSummaryWriter` after the trial, instead of Keras
        # Tuner's (which knows neither the ops' sizes nor failed trials).
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            from keras_nas import tf_only

            tf_only.point_tensorboard_at_trial(callbacks, trial.trial_id)

    def _try_build(self, hp):
        # Keras Tuner's own clears the session and then collects garbage a
        # second time; `clear_session()` already collects, and each pass costs
        # a fifth of a second with TensorFlow loaded.
        keras.backend.clear_session()
        return self._build_hypermodel(hp)

    def reload(self):
        super().reload()
        if self._is_worker():
            return
        # A kill between a trial's own file and the oracle's leaves a finished
        # trial listed as ongoing, which Keras Tuner would run again.
        oracle = self.oracle
        finished = {t for t, trial in oracle.trials.items()
                    if trial.status in ("COMPLETED", "FAILED")}
        oracle._retry_queue = [t for t in oracle._retry_queue
                               if t not in finished]
        for trial_id in sorted(finished - set(oracle.end_order), key=int):
            oracle.end_order.append(trial_id)

    def load_model(self, trial):
        model = self._try_build(trial.hyperparameters)
        with maybe_distribute(self.distribution_strategy):
            _load_weights(model, self._get_checkpoint_fname(trial.trial_id))
        return model

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        for hook in self.trial_hooks:
            hook(self, trial)
        self.trials_run = getattr(self, "trials_run", 0) + 1
        if self.trials_per_process and self.trials_run >= self.trials_per_process:
            # A worker that has trained its share exits, and the chief starts
            # a fresh process: the backend's memory goes with this one.
            sys.exit(self.recycle_exit_code)



def _load_weights(model, path):
    # The checkpoint holds the optimizer's variables too; build it first so
    # they load instead of being skipped with a warning.
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(path)
