"""What a trained trial reports to the oracle, and what it leaves on disk.

`metrics` is the end of every trial, trained alone (`NASTuner.run_trial`)
or in a pack (`pack_runner`): the best epoch's logs, its epochs and
seconds, its rungs, the cost of its architecture; its checkpoint and
validation predictions written; or an `ArchitectureFailure` for a loss that
was not finite or an objective that never was.
"""

import math
import os

from keras_nas import _compat
from keras_nas.engine import predictions
from keras_nas.engine.failures import ArchitectureFailure

__all__ = ["architecture_cost", "architecture_metrics", "metrics",
           "remove_checkpoint"]


def metrics(tuner, trial, model, history, keep, budget, initial_epoch,
            seconds, validation_data):
    """The metrics `trial` reports, after writing its checkpoint (`model`
    at its best epoch) and validation predictions.

    Args:
        tuner: The `NASTuner`.
        trial: The trial.
        model: Its model, its best epoch's weights restored.
        history: Its `keras.callbacks.History`.
        keep: Its `callbacks.KeepBestWeights`.
        budget: Its `budget.Budget`.
        initial_epoch: The epoch it started from.
        seconds: The seconds its training took.
        validation_data: The search's validation data.
    """
    for epoch, loss in enumerate(history.history.get("loss", [])):
        if loss is None or not math.isfinite(float(loss)):
            raise ArchitectureFailure(
                f"loss became {loss} at epoch {initial_epoch + epoch + 1}")
    if keep.best_logs is None:
        raise ArchitectureFailure(
            f"the objective {tuner.objective.name!r} was never finite")
    tuner.save_checkpoint(trial.trial_id, model)
    predictions.save(tuner, trial.trial_id, model, validation_data)
    out = dict(keep.best_logs)
    out["epochs"] = float(initial_epoch + len(history.epoch))
    out["seconds"] = float(seconds)
    if initial_epoch:
        out["initial_epoch"] = float(initial_epoch)
    if budget.rungs is not None:
        out.update(budget.rungs.metrics())
        # Under promotions a candidate stopped at a rung may go on later
        # from its rung checkpoint; the one it continued no longer will.
        if not (tuner.halving.promotes
                and budget.rungs.stopped_at is not None):
            remove_checkpoint(budget.rungs.checkpoint)
    if budget.deadline is not None and budget.deadline.stopped:
        out["time_up"] = 1.0
    out.update(architecture_metrics(tuner, trial.hyperparameters))
    objective = tuner.oracle.objective
    if _compat.is_multi_objective(objective) and objective.has_value(out):
        # Keras Tuner's own oracles score several objectives by this sum.
        out[objective.name] = float(objective.get_value(out))
    return out


def architecture_cost(tuner, hp):
    """`{"params", "flops"}` of the trial's architecture (its plan)."""
    space = tuner.hypermodel.space
    plan = space.plan(space.decode(hp), head=tuner.hypermodel.head)
    return {"params": float(plan.params), "flops": float(plan.flops)}


def architecture_metrics(tuner, hp):
    """`params`, `flops` (and `latency_ms` with the tuner's latency meter)
    of the trial's architecture."""
    out = architecture_cost(tuner, hp)
    if tuner.latency is not None:
        space = tuner.hypermodel.space
        out["latency_ms"] = float(tuner.latency(space, space.decode(hp)))
    return out


def remove_checkpoint(checkpoint):
    """Remove a rung checkpoint and its `.json`, where they exist."""
    for path in (checkpoint, checkpoint + ".json"):
        if os.path.exists(path):
            os.remove(path)
