"""What a trial scored on an objective: the one rule, for every stage.

A trial records each metric once per step (epoch); its value on an
objective is the best of those that are finite, by the objective's
direction. Evolution's Pareto selection, local search and the reports
(`analysis.records`) all read it here, so that they never disagree on
which value a trial reached.

Which is best, of epochs or of trials exactly tied on the objective (a
saturated validation accuracy, often 1.000, ties dozens): the one with the
lower loss on the same data (`tie_breaker`), the `val_loss` of a
`val_...` objective. Epoch selection (`engine.callbacks.KeepBestWeights`),
the returned model (`best_trials`) and our oracles' `get_best_trials`
follow it; a trial that recorded no such loss ranks after those that did,
and without it the first of the tied stays first, as in Keras Tuner.
"""

import math

from keras_tuner.engine.trial import TrialStatus

__all__ = ["best_value", "objective_values", "tie_breaker", "better",
           "best_trials", "BestTrials"]


def best_value(trial, objective):
    """The best finite value of `objective` (a `keras_tuner.Objective`) in
    `trial`, by the objective's direction, or `None`."""
    if not trial.metrics.exists(objective.name):
        return None
    seen = [o.mean() for o in trial.metrics.get_history(objective.name)]
    seen = [float(v) for v in seen if v is not None and math.isfinite(v)]
    if not seen:
        return None
    return max(seen) if objective.direction == "max" else min(seen)


def objective_values(trial, objectives):
    """`best_value` of each of `objectives`, in order, or `None` if one is
    missing."""
    values = []
    for objective in objectives:
        value = best_value(trial, objective)
        if value is None:
            return None
        values.append(value)
    return values


def tie_breaker(objective):
    """The metric name that breaks exact ties on `objective` (a
    `keras_tuner.Objective`), lower better: `"val_loss"` for a validation
    objective, `"loss"` for a training one; `None` when the objective is
    that loss itself or combines several objectives."""
    name = getattr(objective, "name", None)
    if not isinstance(name, str) or getattr(objective, "objectives", None):
        return None
    loss = "val_loss" if name.startswith("val_") else "loss"
    return None if name == loss else loss


def _finite(value):
    return value is not None and math.isfinite(float(value))


def better(value, logs, best_value_, best_logs, objective):
    """Whether `value` (with its epoch's `logs`) beats `best_value_` (with
    `best_logs`) on `objective`; an exact tie goes to the lower finite
    `tie_breaker` loss."""
    if best_value_ is None:
        return True
    if objective.better_than(value, best_value_):
        return True
    name = tie_breaker(objective)
    if name is None or value != best_value_:
        return False
    mine, theirs = (logs or {}).get(name), (best_logs or {}).get(name)
    return _finite(mine) and (not _finite(theirs)
                              or float(mine) < float(theirs))


def _trial_key(trial, objective, name):
    """Larger is better: the score by the objective's direction, then the
    lower tie-breaking loss (missing: last)."""
    score = trial.score
    score = -math.inf if not _finite(score) else (
        float(score) if objective.direction == "max" else -float(score))
    loss = (trial.metrics.get_last_value(name)
            if name and trial.metrics.exists(name) else None)
    return score, -float(loss) if _finite(loss) else -math.inf


def best_trials(trials, objective, num_trials=1):
    """The `num_trials` best of `trials` as `keras_tuner.Oracle.
    get_best_trials` orders them (completed ones by score, then the others),
    exact ties on the score broken by `tie_breaker`'s loss; the sort is
    stable, so among trials tied on both the first stays first."""
    trials = list(trials)
    done = [t for t in trials if t.status == TrialStatus.COMPLETED]
    name = tie_breaker(objective)
    ranked = sorted(done, key=lambda t: _trial_key(t, objective, name),
                    reverse=True)
    if len(ranked) < num_trials:
        ranked += [t for t in trials if t.status != TrialStatus.COMPLETED]
    return ranked[:num_trials]


class BestTrials:
    """Oracle mixin: `get_best_trials` by `best_trials`, so that Keras
    Tuner's `get_best_models` and `NASSearch.best_model` agree."""

    def get_best_trials(self, num_trials=1):
        return best_trials(self.trials.values(), self.objective, num_trials)
