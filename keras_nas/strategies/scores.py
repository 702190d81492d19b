"""What a trial scored on an objective: the one rule, for every stage.

A trial records each metric once per step (epoch); its value on an
objective is the best of those that are finite, by the objective's
direction. Evolution's Pareto selection, local search and the reports
(`analysis.records`) all read it here, so that they never disagree on
which value a trial reached.
"""

import math

__all__ = ["best_value", "objective_values"]


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
