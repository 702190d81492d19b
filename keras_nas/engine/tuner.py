"""The Keras Tuner tuner under `NASSearch`.

`hypermodel.NASHyperModel` turns a trial's values into a compiled
`keras.Sequential`; `NASTuner` trains it. Trial bookkeeping (ids, statuses, retries, resume, the
chief/worker protocol) stays Keras Tuner's own. What this module adds is what
a NAS search needs of each trial:

- early stopping on the objective and `TerminateOnNaN`, unless the user
  passed their own, and the best epoch's weights (`callbacks.KeepBestWeights`)
  written once, atomically, at the end of the trial, with the validation
  predictions of those weights (`predictions`, for ensembles);
- successive halving (`halving`) and the time budget, per trial
  (`budget`);
- out of memory: one retry at half the batch size;
- a failure policy that fits architecture search (`failures`);
- hooks run after each trial (progress lines, TensorBoard);
- the backend session cleared (and garbage collected, the objects older
  than the search left out) before each trial;
- several trials trained at once in one compiled model, each still its own
  trial (`pack_loop`, `pack_runner`, `packing`; `pack_size`).
"""

import logging
import os
import time

import keras
import keras_tuner
from keras_tuner.engine.trial import TrialStatus
from keras_tuner.engine.tuner import maybe_distribute

from keras_nas import _compat
from keras_nas._atomic import weights_bytes, write_atomic
from keras_nas.data.task import primary_objective
from keras_nas.engine import budget as budget_module
from keras_nas.engine import callbacks as callbacks_module
from keras_nas.engine.budget import TimeBudgetExhausted
from keras_nas.engine import (interrupts, outcome, pack_loop, pack_runner,
                              parallel)
from keras_nas.engine.pack_size import PackSize
from keras_nas.engine.failures import (ArchitectureFailure, FailurePolicy,
                                       MachineFailure, is_out_of_memory,
                                       machine_error, reason_of)
from keras_nas.engine.hypermodel import NASHyperModel
from keras_nas.engine.speed import (DEFAULT_STEPS_PER_EXECUTION, frozen_heap,
                                    resolve_steps_per_execution)
from keras_nas.schedulers import promotion
from keras_nas.schedulers.rungs import RungTable

__all__ = ["DEFAULT_STEPS_PER_EXECUTION", "NASHyperModel", "NASTuner",
           "TimeBudgetExhausted", "frozen_heap", "resolve_steps_per_execution"]

_logger = logging.getLogger(__name__)

class NASTuner(keras_tuner.Tuner):
    """A Keras Tuner `Tuner` that trains op sequences.

    Args:
        oracle: Any `keras_tuner.Oracle`.
        hypermodel: A `NASHyperModel`.
        patience: Epochs without improvement before early stopping.
            Defaults to `3`.
        seed: Optional seed; each trial trains under `seed + trial number`.
        max_consecutive_failed_trials: The limit of the `FailurePolicy`.
            Defaults to `3`.
        trial_hooks: Callables `(tuner, trial)` run after each trial is
            recorded (progress lines, TensorBoard).
        trials_per_process: Optional number of trials after which the
            process hands its place to a fresh one (local workers only;
            `parallel.end_share`).
        halving: Optional `halving.Halving`: successive halving of each
            trial's epochs.
        deadline: Optional time (`time.time()`) after which no trial starts
            and the one in flight ends at its next epoch end.
        latency: Optional `latency.LatencyMeter`: each trial then reports
            `latency_ms` too.
        pack_size: A `pack_size.PackSize`: how many trials train at once in
            one compiled model (`pack_loop`, `pack_runner`). Defaults to
            one at a time.
        **kwargs: As for `keras_tuner.Tuner`.
    """

    def __init__(
        self,
        oracle,
        hypermodel,
        patience=3,
        seed=None,
        max_consecutive_failed_trials=3,
        trial_hooks=(),
        trials_per_process=None,
        halving=None,
        deadline=None,
        latency=None,
        pack_size=None,
        **kwargs,
    ):
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.pack_size = pack_size or PackSize(1)
        # Outcomes of trials trained in a pack, until they are recorded.
        self._pack_outcomes = {}
        self._in_pack = False
        self.latency = latency
        self.halving = halving
        self.deadline = deadline
        self.patience = patience
        self.seed = seed
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.trial_hooks = list(trial_hooks)
        self.trials_per_process = trials_per_process
        self.verbose = 1  # `NASSearch.fit` sets it for each search.
        self._trials_run = 0
        self._policy = FailurePolicy(max_consecutive_failed_trials)
        # Whether the last trial failed for its architecture (not the
        # setup); the Ray driver sets it from a worker's outcome.
        self.architecture_failed = False

    # -- Keras Tuner hooks (see `_compat.OVERRIDDEN_HOOKS`) ----------------

    def _populate_initial_space(self):
        # Declare the space without building a model for each condition, as
        # the base class would: every value of ours is declared up front.
        hp = self.oracle.get_space()
        hp.merge(self.hypermodel.space.hyperparameters.space, overwrite=False)
        self.oracle.update_space(hp)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # Each trial is its own TensorBoard run; our HParams are written by
        # `analysis.tensorboard.SearchSummaryWriter` after the trial, instead of Keras
        # Tuner's (which knows neither the ops' sizes nor failed trials).
        callbacks_module.point_tensorboards_at_trial(callbacks, trial.trial_id)

    def _run_and_update_trial(self, trial, *fit_args, **fit_kwargs):
        # A full or read-only disk is the machine's failure: it stops the
        # search (a Keras Tuner `FatalError`) instead of failing trial after
        # trial; the trial stays ongoing and runs again on resume.
        try:
            return super()._run_and_update_trial(trial, *fit_args,
                                                 **fit_kwargs)
        except Exception as e:
            error = machine_error(e, self.project_dir)
            if error is None:
                raise
            raise MachineFailure(error) from e

    def _try_build(self, hp):
        # Keras Tuner's own clears the session and then collects garbage a
        # second time; `clear_session()` already collects, and each pass costs
        # a fifth of a second with TensorFlow loaded.
        keras.backend.clear_session()
        return _compat.build_model(self, hp)

    # -- one trial --------------------------------------------------------

    @property
    def objective(self):
        """The objective training watches (of several, the primary one)."""
        return primary_objective(self.oracle.objective)

    def trial_callbacks(self, user_callbacks, trial):
        """A trial's callbacks: copies of the user's, early stopping and
        `TerminateOnNaN` unless given, the best epoch's weights (also
        returned) and the Ctrl-C check."""
        callbacks = _compat.deepcopy_callbacks(self, list(user_callbacks or []))
        self._configure_tensorboard_dir(callbacks, trial)
        objective = self.objective
        if not any(isinstance(c, keras.callbacks.EarlyStopping)
                   for c in callbacks):
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=objective.name, mode=objective.direction,
                patience=self.patience))
        if not any(isinstance(c, keras.callbacks.TerminateOnNaN)
                   for c in callbacks):
            callbacks.append(keras.callbacks.TerminateOnNaN())
        keep = callbacks_module.KeepBestWeights(objective)
        callbacks.append(keep)
        callbacks.append(interrupts.StopOnInterrupt())
        return callbacks, keep

    def run_trial(self, trial, x=None, y=None, validation_data=None,
                  epochs=1, batch_size=None, callbacks=None, keras_verbose=0,
                  **fit_kwargs):
        self.architecture_failed = False
        interrupts.check()  # A Ctrl-C the interpreter dropped.
        try:
            return self._run_trial(trial, x, y, validation_data, epochs,
                                   batch_size, callbacks, keras_verbose,
                                   fit_kwargs)
        except ArchitectureFailure:
            self.architecture_failed = True
            raise

    def _run_trial(self, trial, x, y, validation_data, epochs, batch_size,
                   callbacks, keras_verbose, fit_kwargs):
        packed = self._pack_outcomes.pop(trial.trial_id, None)
        if isinstance(packed, Exception):
            raise packed  # Trained in a pack (`pack_runner`), failed there.
        if packed is not None:
            return packed
        hp = trial.hyperparameters
        initial_epoch = 0
        if "tuner/epochs" in hp.values:  # Hyperband's rounds.
            epochs = hp.values["tuner/epochs"]
            initial_epoch = hp.values["tuner/initial_epoch"]
        start = time.perf_counter()
        retried = False
        while True:
            callbacks_, keep = self.trial_callbacks(callbacks, trial)
            model = self.build_seeded(trial)
            _compat.build_training_state(model, x, y)
            if "tuner/trial_id" in hp.values:
                self.load_weights(model, hp.values["tuner/trial_id"])
            budget = self.trial_budget(trial, model, epochs)
            initial_epoch = budget.resume_epoch or initial_epoch
            # Ours come first, so that a stop decided at this epoch's end is
            # seen by the others' bookkeeping in the same epoch.
            callbacks_ = budget.callbacks + callbacks_
            try:
                history = model.fit(
                    x, y, validation_data=validation_data, epochs=epochs,
                    initial_epoch=initial_epoch, batch_size=batch_size,
                    callbacks=callbacks_, verbose=keras_verbose, **fit_kwargs)
                break
            except Exception as e:
                if not is_out_of_memory(e):
                    raise
                if batch_size is None or batch_size < 2 or retried:
                    raise ArchitectureFailure(
                        f"out of memory at batch size {batch_size}: "
                        f"{type(e).__name__}") from e
                retried = True
                batch_size //= 2
                _logger.warning(
                    "Trial %s ran out of memory; retrying once with batch "
                    "size %s.", trial.trial_id, batch_size)
        return outcome.metrics(
            self, trial, model, history, keep, budget, initial_epoch,
            time.perf_counter() - start, validation_data)

    def build_seeded(self, trial, clear=True):
        """The trial's compiled model, its weights drawn under the search's
        seed plus the trial number; `clear` first clears the backend
        session (a pack clears it once, before its first candidate)."""
        if clear:
            keras.backend.clear_session()
        if self.seed is not None:
            keras.utils.set_random_seed(int(self.seed) + int(trial.trial_id))
        return _compat.build_model(self, trial.hyperparameters)

    def trial_budget(self, trial, model, epochs):
        """The callbacks of successive halving and of the time budget, and
        the epoch the trial starts from (`budget.trial_budget`)."""
        return budget_module.trial_budget(self, trial, model, epochs)

    def rung_checkpoint(self, trial_id):
        """Where a trial's weights and optimizer state at its last rung go
        (`rung.weights.h5` in its folder)."""
        return os.path.join(self.get_trial_dir(trial_id), "rung.weights.h5")

    def rung_table(self):
        """Where the trials' values at each rung are kept: the project
        folder's `rungs.RungTable` (a Ray worker's reaches the driver's)."""
        return RungTable(self.project_dir, self.objective.direction,
                         self.halving.reduction_factor)

    # -- weights ----------------------------------------------------------

    def save_checkpoint(self, trial_id, model):
        """Write `model`'s weights (and optimizer state) as trial
        `trial_id`'s checkpoint, atomically."""
        write_atomic(_compat.checkpoint_path(self, trial_id),
                     model.save_weights, size=weights_bytes(model))

    def load_weights(self, model, trial_id=None, checkpoint=None):
        """Load into `model` the weights and optimizer state of trial
        `trial_id`'s checkpoint, or of the file `checkpoint`."""
        if checkpoint is None:
            checkpoint = _compat.checkpoint_path(self, trial_id)
        with maybe_distribute(self.distribution_strategy):
            # The checkpoint holds the optimizer's variables too; build it
            # first so they load instead of being skipped with a warning.
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            model.load_weights(checkpoint)

    def load_model(self, trial):
        model = self._try_build(trial.hyperparameters)
        self.load_weights(model, trial.trial_id)
        return model

    # -- the search -------------------------------------------------------

    def reload(self):
        super().reload()
        if _compat.is_worker():
            return
        # A kill between a trial's own file and the oracle's leaves a finished
        # trial listed as ongoing, which Keras Tuner would run again.
        oracle = self.oracle
        finished = {t for t, trial in oracle.trials.items()
                    if trial.status in (TrialStatus.COMPLETED,
                                        TrialStatus.FAILED)}
        queue = _compat.retry_queue(oracle)
        queue[:] = [t for t in queue if t not in finished]
        order = _compat.end_order(oracle)
        for trial_id in sorted(finished - set(order), key=int):
            order.append(trial_id)

    def on_search_begin(self):
        super().on_search_begin()
        self._policy = FailurePolicy(self.max_consecutive_failed_trials)

    def pre_create_trial(self):
        super().pre_create_trial()
        if self.deadline is not None and time.time() >= self.deadline:
            raise TimeBudgetExhausted()

    def start_promotions(self, epochs):
        """Under `Halving(mode="promotion")`, give the oracle's
        `promotion.Promotions` the rungs of a search of `epochs`; a
        worker's oracle is the chief's."""
        if (self.halving is None or not self.halving.promotes
                or _compat.is_worker()):
            return
        if not isinstance(self.oracle, promotion.Promotions):
            raise ValueError(
                "`halving=Halving(mode='promotion')` needs the oracle "
                "wrapped for it: `strategies.wrap(oracle, promotions=True)`. "
                f"Received: oracle={type(self.oracle).__name__}.")
        self.oracle.start(self.rung_table(), self.halving.rungs(epochs))

    def search(self, *fit_args, **fit_kwargs):
        """Keras Tuner's search, ending cleanly when the time budget is
        spent: the trial in flight is finished and recorded first. The
        objects that exist before it stay out of its trials' garbage
        collections (`frozen_heap`)."""
        self.start_promotions(fit_kwargs.get("epochs", 1))
        try:
            # A failed trial is a normal part of a search: its traceback
            # goes to its record and the log, onto the screen at verbose=2.
            with frozen_heap(), _compat.trial_tracebacks(self.verbose >= 2):
                if pack_loop.applies(self, fit_kwargs):
                    pack_loop.search(self, *fit_args, **fit_kwargs)
                else:
                    super().search(*fit_args, **fit_kwargs)
        except TimeBudgetExhausted:
            self.on_search_end()
        if not _compat.is_worker():
            self.check_completed()

    def check_completed(self):
        """A `RuntimeError` if the search has trials and none completed."""
        trials = list(self.oracle.trials.values())
        if trials and not any(t.status == TrialStatus.COMPLETED for t in trials):
            last = max(trials, key=lambda t: int(t.trial_id))
            raise RuntimeError(
                f"The search ended without a completed trial: all "
                f"{len(trials)} failed. Last reason: {reason_of(last.message)}.")

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        parent = trial.hyperparameters.values.get(promotion.CONTINUES)
        if parent is not None and trial.status == TrialStatus.COMPLETED:
            # Recorded as done: its parent's rung checkpoint is not needed.
            outcome.remove_checkpoint(self.rung_checkpoint(parent))
        if trial.status == TrialStatus.FAILED and trial.message:
            _logger.info("trial %s failed:\n%s", trial.trial_id,
                         trial.message)
        for hook in self.trial_hooks:
            hook(self, trial)
        stop = self._policy.record(
            completed=trial.status == TrialStatus.COMPLETED,
            architecture=self.architecture_failed)
        if stop is not None:
            reason = reason_of(trial.message)
            raise RuntimeError(
                f"The search stopped: {stop}. Last reason: {reason}. "
                "Raise `max_consecutive_failed_trials` to tolerate more.")
        self._trials_run += 1
        if not self._in_pack:
            self.end_pack()

    # -- packs ------------------------------------------------------------

    def pack_limit(self):
        """The most trials the next pack takes: the pack size's, and no
        more than this worker process has left of its
        `trials_per_process`."""
        most = self.pack_size.most()
        if self.trials_per_process:
            most = min(most, max(1, self.trials_per_process
                                 - self._trials_run))
        return most

    def train_pack(self, trials, x=None, y=None, validation_data=None,
                   epochs=1, batch_size=None, callbacks=None,
                   keras_verbose=0, **fit_kwargs):
        """Train `trials` together (`pack_runner`); each is recorded
        afterwards, by `run_trial`, from its outcome."""
        self._in_pack = True
        interrupts.check()
        try:
            self._pack_outcomes = pack_runner.train(
                self, trials, x, y, validation_data, epochs, batch_size,
                callbacks, keras_verbose, fit_kwargs)
        except Exception as e:  # A full disk stops the search, as alone.
            error = machine_error(e, self.project_dir)
            if error is None:
                raise
            raise MachineFailure(error) from e

    def end_pack(self):
        """After a pack's trials are recorded (or each trial alone): a
        worker that has trained its `trials_per_process` makes way."""
        self._in_pack = False
        self._pack_outcomes = {}
        if self.trials_per_process and (
                self._trials_run >= self.trials_per_process):
            parallel.end_share()

