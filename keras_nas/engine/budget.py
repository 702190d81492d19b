"""What one trial's training is bounded by: successive halving's rungs and
the search's time budget.

`trial_budget` gives a `NASTuner`'s trial its callbacks (`RungCallback`,
`StopAtDeadline`) and the epoch it starts from: `0`, the last rung of a
trial killed between rungs (halving's stopping form), or the rung of the
trial it continues (the promotion form: `schedulers.promotion`), whose
weights and optimizer state it loads.
"""

import dataclasses
import time
from typing import Optional

import keras
import keras_tuner

from keras_nas.engine.callbacks import RungCallback
from keras_nas.schedulers import halving as halving_module
from keras_nas.schedulers import promotion

__all__ = ["Budget", "StopAtDeadline", "TimeBudgetExhausted",
           "starts_from_checkpoint", "trial_budget"]


class TimeBudgetExhausted(Exception):
    """The search's `max_time_s` ran out before the next trial."""


class StopAtDeadline(keras.callbacks.Callback):
    """Ends the trial in flight at the end of the epoch in which the time
    budget runs out; the trial is recorded with what it reached."""

    def __init__(self, deadline):
        super().__init__()
        self.deadline = deadline
        self.stopped = False

    def on_train_begin(self, logs=None):
        self.stopped = False

    def on_epoch_end(self, epoch, logs=None):
        if time.time() >= self.deadline:
            self.stopped = True
            self.model.stop_training = True


@dataclasses.dataclass
class Budget:
    """What successive halving and the time budget add to one trial."""

    callbacks: list = dataclasses.field(default_factory=list)
    rungs: Optional[RungCallback] = None
    deadline: Optional[StopAtDeadline] = None
    resume_epoch: int = 0


def trial_budget(tuner, trial, model, epochs):
    """The `Budget` of `trial` under `tuner` (a `NASTuner`), with `model`'s
    weights loaded from the rung it starts at, if any."""
    budget = Budget()
    if tuner.halving is not None:
        checkpoint = tuner.rung_checkpoint(trial.trial_id)
        parent = trial.hyperparameters.values.get(promotion.CONTINUES)
        promotes = tuner.halving.promotes
        # Under promotions a trial that was killed after its rung had
        # already stopped there: it trains its share again from where it
        # began (its parent's rung, or scratch) instead of going past it.
        start = None if promotes else checkpoint
        if parent is not None:
            start = tuner.rung_checkpoint(parent)
        reached = None
        saved = None if start is None else halving_module.resume_point(
            start)
        if saved is None and parent is not None:
            raise keras_tuner.errors.FailedTrialError(
                f"Trial {trial.trial_id} continues trial {parent}, whose "
                f"rung checkpoint {start} is missing or damaged.")
        if saved is not None:
            budget.resume_epoch, reached = saved
            tuner.load_weights(model, checkpoint=start)
        objective = tuner.objective
        budget.rungs = RungCallback(
            tuner.rung_table(),
            trial.trial_id, objective, tuner.halving.rungs(epochs),
            checkpoint, reached=reached, stop_at_rung=promotes)
        budget.callbacks.append(budget.rungs)
    if tuner.deadline is not None:
        budget.deadline = StopAtDeadline(tuner.deadline)
        budget.callbacks.append(budget.deadline)
    return budget


def starts_from_checkpoint(tuner, trial):
    """Whether `trial` starts from saved weights and optimizer state:
    Hyperband's continued trials, a candidate continuing a promoted one,
    or one killed after a rung (halving's stopping form)."""
    values = trial.hyperparameters.values
    if "tuner/trial_id" in values or promotion.CONTINUES in values:
        return True
    if tuner.halving is None or tuner.halving.promotes:
        return False
    return halving_module.resume_point(
        tuner.rung_checkpoint(trial.trial_id)) is not None
