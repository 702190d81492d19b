"""Asynchronous successive halving (ASHA), for every strategy.

Li et al., "A System for Massively Parallel Hyperparameter Tuning" (MLSys
2020). A candidate trains a first rung of `min_epochs`; at each rung
(`min_epochs`, `min_epochs * eta`, `min_epochs * eta**2`, ... below
`epochs`) it goes on only if its objective so far is in the top `1/eta` of
all candidates that reached that rung, and otherwise stops there. Nothing
waits for a rung to fill, so it suits workers and any oracle, unlike Keras
Tuner's synchronous Hyperband. Two forms (`Halving(mode=...)`):

- `"stopping"` (the default, as Optuna's `SuccessiveHalvingPruner`): a
  candidate that passes a rung simply trains on, in the same `fit`, and one
  that fails it stops for good.
- `"promotion"` (the paper's Algorithm 2, `schedulers.promotion`): every
  candidate stops at its next rung; each time the oracle is asked for a
  trial it first continues, from its rung checkpoint, a stopped candidate
  that is now in the top `1/eta` of its rung, so a candidate stopped early
  goes on when the candidates that arrive after it are worse.

This module is the pure logic: the rungs (`rung_epochs`), the top `1/eta`
of a rung (`top_count`), like-with-like comparison and where a trial
resumes. The rung table lives in the project folder (`rungs.RungTable`,
`rungs.json`), written atomically under a file lock, so local workers on
one machine, or hosts on a shared file system, decide against the same
table, and a resumed search keeps it. The Keras callback that judges a
trial at each rung (`engine.callbacks.RungCallback`) saves its weights and
optimizer state at each rung (`rung.weights.h5` in the trial's folder): a
trial killed between rungs is rerun from its last rung, not from scratch.

Each trial's record keeps the rungs it reached: metrics `rung` (the index
of the last rung passed or stopped at, `-1` when it stopped before the
first) and `rung_<i>` (its best objective value up to rung `i`). Strategies
compare candidates like with like through `compare()`: at the highest rung
both reached.
"""

import dataclasses
import json
import os

from keras_nas._checks import check_int

__all__ = [
    "Halving",
    "MODES",
    "common_scale",
    "compare",
    "resume_point",
    "rung_epochs",
    "top_count",
]

#: The forms of successive halving `Halving(mode=...)` accepts.
MODES = ("stopping", "promotion")


def rung_epochs(min_epochs, epochs, reduction_factor):
    """The epochs at which a trial is judged: `min_epochs * eta**k` below
    `epochs` (the top rung, where every survivor finishes).

    >>> rung_epochs(1, 10, 3)
    [1, 3, 9]
    >>> rung_epochs(2, 10, 2)
    [2, 4, 8]
    """
    rungs = []
    r = min_epochs
    while r < epochs:
        rungs.append(int(r))
        r *= reduction_factor
    return rungs


def top_count(n, eta):
    """How many of the `n` candidates at a rung are its top `1/eta`:
    `floor(n / eta)`, as ASHA promotes (Li et al. 2020, Algorithm 2), so
    none while fewer than `eta` have arrived.

    >>> [top_count(n, 3) for n in range(8)]
    [0, 0, 0, 1, 1, 1, 2, 2]
    """
    return int(n) // int(eta)


@dataclasses.dataclass(frozen=True)
class Halving:
    """The options of successive halving (`NASSearch(halving=Halving(...))`).

    Args:
        min_epochs: Epochs of the first rung. `None` picks
            `max(1, epochs // reduction_factor)`: one rung below the top for
            short trainings, more for long ones. Defaults to `None`.
        reduction_factor: `eta`: the top `1/eta` of each rung trains on.
            Defaults to `3`.
        mode: `"stopping"`: a candidate in the top `1/eta` when it reaches
            a rung trains on in the same `fit`, the others stop for good.
            `"promotion"`: every candidate stops at its next rung, and a
            stopped one is continued later (a new trial, from its rung
            checkpoint) once it is in the top `1/eta` of its rung
            (`schedulers.promotion`). Defaults to `"stopping"`.
    """

    min_epochs: object = None
    reduction_factor: int = 3
    mode: str = "stopping"

    def __post_init__(self):
        if self.min_epochs is not None:
            check_int("min_epochs", self.min_epochs, 1)
        object.__setattr__(self, "reduction_factor", check_int(
            "reduction_factor", self.reduction_factor, 2))
        if not isinstance(self.mode, str) or self.mode not in MODES:
            raise ValueError(
                f"`mode` must be one of {MODES}. Received: "
                f"mode={self.mode!r}.")

    @property
    def promotes(self):
        """Whether stopped candidates are continued later (`"promotion"`)."""
        return self.mode == "promotion"

    def rungs(self, epochs):
        eta = self.reduction_factor
        # A first rung of one epoch on a 10-epoch search judges candidates
        # mostly by how fast they start, not where they end.
        first = self.min_epochs or max(1, epochs // eta)
        return rung_epochs(first, epochs, eta)

    def get_config(self):
        return {"min_epochs": self.min_epochs,
                "reduction_factor": self.reduction_factor,
                "mode": self.mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def resume_point(checkpoint):
    """`(epoch, reached)` of a trial's last rung checkpoint, or `None`."""
    info = checkpoint + ".json"
    if not (os.path.exists(checkpoint) and os.path.exists(info)):
        return None
    try:
        with open(info) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return None
    return saved["epoch"], {int(k): v for k, v in saved["reached"].items()}


def compare(a, b, direction):
    """Whether trial `a` beats trial `b`, like with like.

    Two trials that both recorded rungs are compared at the highest rung
    both reached; otherwise (halving off, or a trial without rungs) on their
    scores. `a` and `b` are `keras_tuner` trials.
    """
    ra, rb = _rung_values(a), _rung_values(b)
    common = sorted(set(ra) & set(rb))
    if common:
        va, vb = ra[common[-1]], rb[common[-1]]
    else:
        va, vb = a.score, b.score
    return va > vb if direction == "max" else va < vb


def common_scale(trials):
    """Each trial's objective on one scale, for a model fitted across them
    (the predictor's targets): `{trial_id: value}`.

    Without rungs (halving off), a trial's score. With them, its value at
    the highest rung that at least two trials reached; a trial that
    stopped below it has its partial learning curve extended by the mean
    gain between each pair of successive rungs, over the trials that
    reached both. A trial without rungs keeps its score.
    """
    curves = {t.trial_id: _rung_values(t) for t in trials}
    reached = {}
    for values in curves.values():
        for rung in values:
            reached[rung] = reached.get(rung, 0) + 1
    shared = [rung for rung, n in reached.items() if n >= 2]
    if not shared:
        return {t.trial_id: t.score for t in trials}
    top = max(shared)
    gains = []  # gains[j]: mean of value(j + 1) - value(j).
    for j in range(top):
        steps = [v[j + 1] - v[j] for v in curves.values()
                 if j in v and j + 1 in v]
        gains.append(sum(steps) / len(steps) if steps else 0.0)
    scaled = {}
    for t in trials:
        values = curves[t.trial_id]
        if top in values:
            scaled[t.trial_id] = values[top]
        elif values:
            last = max(values)
            scaled[t.trial_id] = values[last] + sum(gains[last:top])
        else:
            scaled[t.trial_id] = t.score
    return scaled


def _rung_values(trial):
    values = {}
    for name in trial.metrics.metrics:
        if name.startswith("rung_"):
            value = trial.metrics.get_last_value(name)
            if value is not None:
                values[int(name[len("rung_"):])] = float(value)
    return values
