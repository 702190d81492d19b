"""Why the winner won: which ops, positions, depths and training values
moved the objective, with how sure we can be.

A search leaves a table of trials; the best one is a single draw, and a
user who asks "is it the 3x3 convolution that helps, or was that luck?"
needs an effect with an interval, and a plain statement when the trials are
too few to say. This module computes, for each feature a trial can have
(an op anywhere in the sequence, an op at one position, a depth, a value of
another hyperparameter), the marginal effect: the mean objective of the
completed trials with the feature minus the mean of those without. A seeded
bootstrap over trials gives a percentile interval for each effect.

Marginal effects are not causal: features that always appear together
(deep models that also hold many convolutions) share the credit. With many
features, a few 95% intervals will exclude 0 by chance, so read the ones at
the top, not the tail. It reads only records, so it sits beside `results`
in the pipeline and imports nothing from Keras.
"""

import dataclasses
import math
from typing import List

import numpy as np

__all__ = ["Effect", "Importance", "analyze", "format_importance",
           "MIN_TRIALS"]

#: Below this many completed trials nothing is concluded.
MIN_TRIALS = 8

# A feature seen in fewer trials than this (or missing from fewer) has no
# usable contrast; it is left out rather than reported with a silly interval.
_MIN_GROUP = 2


@dataclasses.dataclass(frozen=True)
class Effect:
    """The marginal effect of one feature on the objective.

    Attributes:
        feature: A readable name: `"conv3x3-32"`, `"conv3x3-32 @ 1"`,
            `"depth = 3"`, `"learning_rate >= 0.001"`.
        kind: `"op"` (anywhere), `"op_at"` (at a 0-based position),
            `"depth"` or `"hyperparameter"`.
        effect: Mean objective with the feature minus without, in the
            objective's units.
        low: Lower end of the bootstrap interval of `effect`.
        high: Upper end.
        n_with: Completed trials with the feature.
        n_without: Completed trials without it.
        helps: Whether the feature moves the objective in its direction
            (up for `"max"`, down for `"min"`).
        distinguishable: Whether the interval excludes 0.
    """

    feature: str
    kind: str
    effect: float
    low: float
    high: float
    n_with: int
    n_without: int
    helps: bool
    distinguishable: bool


@dataclasses.dataclass(frozen=True)
class Importance:
    """The result of `analyze`.

    Attributes:
        effects: `Effect`s, those whose interval excludes 0 first, each group
            by decreasing `|effect|`. Empty when `conclusive` is False for
            lack of trials.
        n_completed: Completed trials with a finite objective value.
        direction: `"max"` or `"min"`.
        objective: The objective's name, for display.
        confidence: The interval's level.
        conclusive: True when at least one effect is distinguishable from 0.
        message: One plain sentence saying what can be concluded.
    """

    effects: List[Effect]
    n_completed: int
    direction: str
    objective: str
    confidence: float
    conclusive: bool
    message: str


def _get(record, name, default=None):
    if isinstance(record, dict):
        return record.get(name, default)
    return getattr(record, name, default)


def _features(records):
    """Names, kinds and a (trials x features) 0/1 matrix."""
    columns = {}

    def mark(key, kind, i):
        columns.setdefault((key, kind), set()).add(i)

    hp_values = {}
    for i, r in enumerate(records):
        ops = list(_get(r, "ops") or [])
        for op in set(ops):
            mark(str(op), "op", i)
        for pos, op in enumerate(ops):
            mark(f"{op} @ {pos}", "op_at", i)
        mark(f"depth = {len(ops)}", "depth", i)
        for name, value in (_get(r, "hyperparameters") or {}).items():
            hp_values.setdefault(name, {})[i] = value
    for name, values in sorted(hp_values.items()):
        numeric = [v for v in values.values()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numeric) == len(values) and len(set(numeric)) > 2:
            # A continuous value (a learning rate): high half against low.
            cut = float(np.median(numeric))
            for i, v in values.items():
                if v >= cut:
                    mark(f"{name} >= {cut:.4g}", "hyperparameter", i)
        else:
            for i, v in values.items():
                mark(f"{name} = {v}", "hyperparameter", i)
    keys = sorted(columns)
    x = np.zeros((len(records), len(keys)))
    for j, key in enumerate(keys):
        x[list(columns[key]), j] = 1.0
    return keys, x


def analyze(records, direction="max", objective="objective", n_bootstrap=1000,
            confidence=0.95, seed=0):
    """Marginal effects of ops, positions, depths and other values.

    Args:
        records: `results.TrialRecord`s, or dicts or objects with `ops`,
            `value`, `status` and `hyperparameters`. Only trials with status
            `COMPLETED` and a finite `value` count.
        direction: `"max"` or `"min"`, the objective's direction. Defaults
            to `"max"`.
        objective: The objective's name, for messages. Defaults to
            `"objective"`.
        n_bootstrap: Bootstrap resamples of the trials. Defaults to `1000`.
        confidence: Level of the percentile intervals. Defaults to `0.95`.
        seed: Seed of the bootstrap; the same seed gives the same intervals.
            Defaults to `0`.

    Returns:
        An `Importance`.
    """
    if direction not in ("max", "min"):
        raise ValueError(
            "`direction` must be 'max' or 'min'. Received: "
            f"direction={direction!r}.")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(
            "`confidence` must be in (0, 1). Received: "
            f"confidence={confidence!r}.")
    if int(n_bootstrap) < 100:
        raise ValueError(
            "`n_bootstrap` must be at least 100 for a usable interval. "
            f"Received: n_bootstrap={n_bootstrap!r}.")
    done = [r for r in records
            if _get(r, "status") == "COMPLETED"
            and _get(r, "value") is not None
            and math.isfinite(float(_get(r, "value")))]
    n = len(done)

    def result(effects, conclusive, message):
        return Importance(effects, n, direction, objective, float(confidence),
                          conclusive, message)

    if n < MIN_TRIALS:
        return result([], False, (
            f"Too few completed trials to conclude anything: {n} (at least "
            f"{MIN_TRIALS} needed)."))
    y = np.array([float(_get(r, "value")) for r in done])
    keys, x = _features(done)
    n_with = x.sum(axis=0)
    keep = (n_with >= _MIN_GROUP) & (n - n_with >= _MIN_GROUP)
    keys = [k for k, ok in zip(keys, keep) if ok]
    x = x[:, keep]
    if not keys:
        return result([], False, (
            f"Every trial of the {n} has the same ops, depth and values: "
            "nothing to compare."))
    point = _difference(np.ones((1, n)), x, y)[0]
    # Bootstrap: resample trials with replacement, as counts per trial.
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=int(n_bootstrap))
    boot = _difference(counts.astype(float), x, y)
    alpha = (1.0 - float(confidence)) / 2.0
    with np.errstate(all="ignore"):
        low = np.nanquantile(boot, alpha, axis=0)
        high = np.nanquantile(boot, 1.0 - alpha, axis=0)
    sign = 1.0 if direction == "max" else -1.0
    effects = []
    for j, (feature, kind) in enumerate(keys):
        effects.append(Effect(
            feature=feature, kind=kind, effect=float(point[j]),
            low=float(low[j]), high=float(high[j]), n_with=int(n_with[keep][j]),
            n_without=int(n - n_with[keep][j]),
            helps=bool(sign * point[j] > 0),
            distinguishable=bool(low[j] > 0 or high[j] < 0)))
    effects.sort(key=lambda e: (not e.distinguishable, -abs(e.effect)))
    if not effects[0].distinguishable:
        return result(effects, False, (
            f"No op's, depth's or value's effect is distinguishable from "
            f"noise at {n} trials."))
    top = effects[0]
    return result(effects, True, (
        f"At {n} trials, '{top.feature}' {'helps' if top.helps else 'hurts'} "
        f"most: {objective} {top.effect:+.4g} "
        f"[{top.low:+.4g}, {top.high:+.4g}]."))


def _difference(weights, x, y):
    """Mean of `y` with each feature minus without, for each row of
    `weights` (trial counts): an array (rows x features), NaN where a group
    is empty in that resample."""
    wy = weights * y
    total_n = weights.sum(axis=1, keepdims=True)
    total_y = wy.sum(axis=1, keepdims=True)
    n_with = weights @ x
    y_with = wy @ x
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_with = y_with / n_with
        mean_without = (total_y - y_with) / (total_n - n_with)
        diff = mean_with - mean_without
    diff[~np.isfinite(diff)] = np.nan
    return diff


def format_importance(result, top=10):
    """Text for the CLI and TensorBoard: the message, then a table of the
    `top` effects.

    Args:
        result: An `Importance` from `analyze`.
        top: Most effects listed. Defaults to `10`.
    """
    lines = [result.message]
    if not result.effects:
        return "\n".join(lines)
    pct = int(round(result.confidence * 100))
    lines.append("")
    lines.append(f"| feature | effect on {result.objective} | {pct}% interval "
                 "| with / without | |")
    lines.append("| --- | --- | --- | --- | --- |")
    for e in result.effects[:top]:
        mark = ("helps" if e.helps else "hurts") if e.distinguishable else "noise"
        lines.append(f"| {e.feature} | {e.effect:+.4g} | [{e.low:+.4g}, "
                     f"{e.high:+.4g}] | {e.n_with} / {e.n_without} | {mark} |")
    lines.append("")
    lines.append("Effects are marginal (with minus without), not causal; "
                 "features that occur together share the credit.")
    return "\n".join(lines)
