"""Greedy ensemble selection over the models a search trained (Caruana et
al., "Ensemble selection from libraries of models", ICML 2004).

A search trains dozens of models and returns one. The average of several of
them is often better than the best alone, in accuracy and in calibration
(it is how AutoGluon and auto-sklearn end their searches; Zaidi et al.,
NeurIPS 2021, found that different searched architectures beat copies of
one). Forward selection with replacement picks them without training
anything: start from the best single model, then at each step add the
model, one already picked included, whose addition gives the averaged
prediction the best validation score; stop at `size` picks, or as soon as
no addition improves the score. A model picked `k` times of `n` weighs
`k / n`.

Everything here is NumPy, on the validation predictions each trial saved
at its best epoch (`engine.predictions`); `front.ensemble` turns a
`Selection` into one `keras.Model`.
"""

import dataclasses
import math
from typing import Dict, Tuple

import numpy as np

__all__ = ["COSTS", "KINDS", "Selection", "check_budget", "score", "select"]

#: The task kinds, as `data.task.Task.kind` names them.
KINDS = ("multiclass", "binary", "multilabel", "regression")
#: What an ensemble's budget may cap: weights, multiply-adds of one sample,
#: and milliseconds of one forward pass; an ensemble costs the sum of its
#: distinct members' (a member picked twice is held, and run, once).
COSTS = ("params", "flops", "latency_ms")
#: Probabilities are clipped to [EPSILON, 1 - EPSILON], as Keras' own
#: cross-entropies do.
EPSILON = 1e-7


@dataclasses.dataclass(frozen=True)
class Selection:
    """An ensemble chosen by `select`.

    Attributes:
        members: The picks in the order they were made, with repetition
            (the first is the best single model).
        weights: `{id: picks of it / len(members)}` for each distinct
            member, in the order of first pick; they sum to 1.
        score: The validation score of the weighted average (lower is
            better for a loss; for `metric="accuracy"`, the accuracy).
        scores: The score after each pick.
        costs: `{name: sum over the distinct members}` of each cost given.
    """

    members: Tuple
    weights: Dict
    score: float
    scores: Tuple[float, ...]
    costs: Dict


def score(prediction, labels, task, metric="loss"):
    """The validation score of one `prediction` against `labels`.

    Args:
        prediction: `(samples, outputs)` probabilities (classification)
            or values (regression).
        labels: As the model's loss sees them: class indices or one-hot
            rows (multiclass), 0/1 (binary, multi-label), values
            (regression).
        task: One of `KINDS`.
        metric: `"loss"` (the task's: log loss, or mean squared error for
            a regression), `"accuracy"` (classification), or a callable
            `metric(labels, prediction) -> float`, lower is better.
            Defaults to `"loss"`.
    """
    _check_task(task)
    prediction = np.asarray(prediction, "float64")
    prediction = prediction.reshape(len(prediction), -1)
    value = _scorer(_labels(labels, task, prediction.shape), task,
                    metric)(prediction)
    return -value if metric == "accuracy" else value


def select(predictions, labels, size, task, metric="loss", costs=None,
           budget=None, distinct=False):
    """Greedy forward selection with replacement (or, `distinct`, of
    `size` different models).

    Args:
        predictions: `{id: (samples, outputs) array}`, each model's
            validation predictions, in the order that breaks ties (a
            search's: trial order); or a list, whose ids are its indices.
        labels: The validation labels (see `score`).
        size: Most picks, an integer of at least 1.
        task: One of `KINDS`.
        metric: As for `score`. Defaults to `"loss"`.
        costs: `{id: {name: value}}` of the models, names among `COSTS`.
            Needed for each name `budget` caps. Defaults to `None`.
        budget: `{name: cap}`: the most the ensemble may cost, summed over
            its distinct members. A model whose addition would pass a cap is
            not added; one already picked adds nothing. Defaults to `None`
            (no cap).
        distinct: Pick `size` different models (all of them if fewer),
            each the one whose addition scores best even when it does not
            improve the score: the forward selection of Neural Ensemble
            Search (Zaidi et al. 2021), which draws parents among them
            (`strategies.ensemble_parents`). Defaults to `False`.

    Returns:
        A `Selection`.

    Raises:
        ValueError: bad arguments, predictions of other shapes, or no single
            model within the budget.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) \
            or size < 1:
        raise ValueError(f"`size` must be an integer of at least 1. "
                         f"Received: size={size!r}.")
    _check_task(task)
    if not isinstance(predictions, dict):
        predictions = dict(enumerate(predictions))
    if not predictions:
        raise ValueError("`predictions` is empty: there is no model to "
                         "select from.")
    ids = list(predictions)
    arrays = {}
    for i in ids:
        a = np.asarray(predictions[i], "float64")
        arrays[i] = a.reshape(len(a), -1) if a.ndim else a
    shape = arrays[ids[0]].shape
    for i in ids:
        if arrays[i].shape != shape:
            raise ValueError(
                "Every model's predictions must have the same shape. "
                f"Received: {shape} for {ids[0]!r} and {arrays[i].shape} "
                f"for {i!r}.")
    rate = _scorer(_labels(labels, task, shape), task, metric)
    budget = _check_budget(budget, costs, ids)
    fits = [i for i in ids if _within({i}, costs, budget)]
    if not fits:
        raise ValueError(
            f"No single model is within the budget {budget}: the cheapest "
            "costs " + ", ".join(
                f"{name}={min(costs[i][name] for i in ids):g}"
                for name in budget) + ".")
    first, value = _best(fits, lambda i: rate(arrays[i]))
    total = arrays[first].copy()
    picks, scores = [first], [value]
    while len(picks) < size:
        held = set(picks)
        n = len(picks) + 1
        allowed = [i for i in fits if not (distinct and i in held) and (
            i in held or _within(held | {i}, costs, budget))]
        if not allowed:
            break
        candidate, value = _best(allowed,
                                 lambda i: rate((total + arrays[i]) / n))
        if not distinct and not value < scores[-1]:
            break  # No addition improves: the picks so far are the best.
        picks.append(candidate)
        scores.append(value)
        total += arrays[candidate]
    weights = {}
    for i in picks:
        weights[i] = weights.get(i, 0) + 1
    weights = {i: count / len(picks) for i, count in weights.items()}
    sign = -1.0 if metric == "accuracy" else 1.0
    return Selection(
        members=tuple(picks), weights=weights, score=sign * scores[-1],
        scores=tuple(sign * s for s in scores),
        costs={} if costs is None else _sums(set(picks), costs))


def _best(ids, rate):
    """`(id, rate)` of the lowest rate; the first of tied ones."""
    best, best_value = None, None
    for i in ids:
        value = rate(i)
        if best is None or value < best_value:
            best, best_value = i, value
    return best, best_value


def _sums(ids, costs):
    names = sorted({n for i in ids for n in costs.get(i, {})
                    if n in COSTS}, key=COSTS.index)
    out = {}
    for name in names:
        values = [costs[i].get(name) for i in ids]
        out[name] = (None if any(v is None for v in values)
                     else float(sum(values)))
    return out


def _within(ids, costs, budget):
    for name, cap in budget.items():
        if sum(float(costs[i][name]) for i in ids) > cap:
            return False
    return True


def check_budget(budget):
    """`budget` as `{name: float cap}` (`{}` for `None`), or a `ValueError`
    that says what a budget may hold."""
    if budget is None:
        return {}
    if not isinstance(budget, dict) or any(k not in COSTS for k in budget):
        raise ValueError(
            f"`budget` must be a dict whose keys are among {COSTS}, e.g. "
            f"{{'params': 200_000}}. Received: budget={budget!r}.")
    for name, cap in budget.items():
        if isinstance(cap, bool) or not isinstance(
                cap, (int, float, np.number)) or not cap > 0:
            raise ValueError(
                f"Each cap of `budget` must be a positive number. Received: "
                f"budget[{name!r}]={cap!r}.")
    return {name: float(cap) for name, cap in budget.items()}


def _check_budget(budget, costs, ids):
    budget = check_budget(budget)
    for name in budget:
        missing = [i for i in ids if costs is None
                   or _cost_of(costs, i, name) is None]
        if missing:
            raise ValueError(
                f"`budget` caps {name!r}, so `costs` must give it for every "
                f"model. Missing for: {missing}.")
    return budget


def _cost_of(costs, i, name):
    value = costs.get(i, {}).get(name)
    if value is None or not math.isfinite(float(value)):
        return None
    return value


def _check_task(task):
    if task not in KINDS:
        raise ValueError(f"`task` must be one of {KINDS}. Received: "
                         f"task={task!r}.")


def _labels(labels, task, shape):
    y = np.asarray(labels)
    n, outputs = shape[0], int(np.prod(shape[1:])) if len(shape) > 1 else 1
    if len(y) != n:
        raise ValueError(
            f"`labels` must hold one row per predicted sample, {n}. "
            f"Received: {len(y)}.")
    if task == "multiclass":
        if y.ndim == 2 and y.shape[1] > 1:
            y = np.argmax(y, axis=1)  # One-hot rows.
        return y.reshape(n).astype("int64")
    return y.astype("float64").reshape(n, outputs)


def _scorer(y, task, metric):
    """`rate(prediction) -> float`, lower is better."""
    if callable(metric):
        return lambda p: float(metric(y, p))
    if metric == "accuracy":
        if task == "regression":
            raise ValueError(
                "metric='accuracy' needs a classification task. Received: "
                "task='regression'. Accepted: 'loss' or a callable.")
        if task == "multiclass":
            return lambda p: -float(np.mean(np.argmax(p, axis=1) == y))
        return lambda p: -float(np.mean((p > 0.5) == (y > 0.5)))
    if metric != "loss":
        raise ValueError(
            "`metric` must be 'loss', 'accuracy' or a callable "
            f"`metric(labels, prediction)`. Received: metric={metric!r}.")
    if task == "regression":
        return lambda p: float(np.mean((p - y) ** 2))
    if task == "multiclass":
        rows = np.arange(len(y))
        return lambda p: float(-np.mean(np.log(np.clip(
            p[rows, y], EPSILON, 1.0 - EPSILON))))

    def log_loss(p):
        p = np.clip(p, EPSILON, 1.0 - EPSILON)
        return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))

    return log_loss

