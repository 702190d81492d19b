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

The rung table lives in the project folder (`rungs.json`), written
atomically under a file lock, so local workers on one machine, or hosts on
a shared file system, decide against the same table, and a resumed search
keeps it. At each rung the trial's weights and optimizer state are saved
(`rung.weights.h5` in the trial's folder): a trial killed between rungs is
rerun from its last rung, not from scratch.

Each trial's record keeps the rungs it reached: metrics `rung` (the index
of the last rung passed or stopped at, `-1` when it stopped before the
first) and `rung_<i>` (its best objective value up to rung `i`). Strategies
compare candidates like with like through `compare()`: at the highest rung
both reached.
"""

import contextlib
import dataclasses
import json
import logging
import math
import os
import threading

import keras

from keras_nas._atomic import weights_bytes, write_atomic, write_text_atomic
from keras_nas._checks import check_int

__all__ = [
    "Halving",
    "MODES",
    "halving_from_argument",
    "RungCallback",
    "RungTable",
    "common_scale",
    "compare",
    "resume_point",
    "rung_epochs",
]

_logger = logging.getLogger(__name__)

_TABLE = "rungs.json"
_LOCK = "rungs.lock"
_THREAD_LOCK = threading.Lock()

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


def halving_from_argument(halving):
    """`NASSearch(halving=...)` as `None` (on where it applies), `False`
    (off) or a `Halving`: `True` is a default `Halving` asked for."""
    if halving is None or halving is False or isinstance(halving, Halving):
        return halving
    if halving is True:
        return Halving()
    if isinstance(halving, dict):
        return Halving.from_config(halving)
    raise ValueError(
        "`halving` must be None (on unless the strategy is 'hyperband' or "
        "there are several objectives), True, False or a "
        f"`keras_nas.Halving`. Received: halving={halving!r}.")


class RungTable:
    """The values each trial reached at each rung, shared by every process
    of a search through the project folder.

    Args:
        directory: The project folder.
        direction: The objective's direction, `"max"` or `"min"`.
        reduction_factor: `eta`.
    """

    def __init__(self, directory, direction, reduction_factor):
        self.path = os.path.join(directory, _TABLE)
        self.lock_path = os.path.join(directory, _LOCK)
        self.direction = direction
        self.reduction_factor = reduction_factor

    @contextlib.contextmanager
    def _locked(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with _THREAD_LOCK, open(self.lock_path, "a") as lock:
            try:
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - not POSIX
                pass
            yield

    def _read(self):
        if not os.path.exists(self.path):
            return {}
        with open(self.path) as f:
            return json.load(f)

    def values(self, rung):
        """`{trial_id: value}` of every trial that reached `rung` (epochs)."""
        with self._locked():
            return dict(self._read().get(str(rung), {}))

    def report(self, rung, trial_id, value):
        """Record `value` for `trial_id` at `rung` and say whether it is in
        the top `1/eta` of that rung (it then trains on).

        With fewer than `eta` trials at the rung, only the best so far goes
        on, as in Optuna's `SuccessiveHalvingPruner`.
        """
        with self._locked():
            table = self._read()
            at_rung = table.setdefault(str(rung), {})
            at_rung[str(trial_id)] = float(value)
            write_text_atomic(self.path, json.dumps(table))
            values = sorted(at_rung.values(),
                            reverse=self.direction == "max")
        keep = max(1, len(values) // self.reduction_factor)
        threshold = values[keep - 1]
        if self.direction == "max":
            goes_on = value >= threshold
        else:
            goes_on = value <= threshold
        _logger.debug("trial %s at rung %s: %.4f against the top %d of %d "
                      "(%.4f): %s", trial_id, rung, value, keep, len(values),
                      threshold, "goes on" if goes_on else "stops")
        return goes_on


class RungCallback(keras.callbacks.Callback):
    """Judges a trial at each rung: records its best objective so far in
    the `RungTable`, saves its weights for a resume, and stops its training
    unless it is in the top `1/eta`.

    Args:
        table: The search's `RungTable`.
        trial_id: The trial's id.
        objective: The `keras_tuner.Objective`.
        rungs: Rung epochs, from `Halving.rungs`.
        checkpoint: Where the weights at the last rung go.
        reached: `{rung index: value}` already reached (a trial resumed
            from a rung, or one continuing a promoted candidate).
        stop_at_rung: Stop at the first rung whatever the table says (the
            promotion form: the oracle decides later whether it goes on).
            Defaults to `False`.
    """

    def __init__(self, table, trial_id, objective, rungs, checkpoint,
                 reached=None, stop_at_rung=False):
        super().__init__()
        self.stop_at_rung = stop_at_rung
        self.table = table
        self.trial_id = trial_id
        self.objective = objective
        self.rungs = list(rungs)
        self.checkpoint = checkpoint
        self.reached = dict(reached or {})
        self.best = None
        self.stopped_at = None

    def on_train_begin(self, logs=None):
        # A trial resumed from a rung goes on from that rung's best value.
        self.best = self.reached[max(self.reached)] if self.reached else None
        self.stopped_at = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.objective.name)
        if value is not None and math.isfinite(float(value)) and (
                self.best is None
                or self.objective.better_than(float(value), self.best)):
            self.best = float(value)
        done = epoch + 1
        if done not in self.rungs or self.best is None:
            return
        index = self.rungs.index(done)
        self.reached[index] = self.best
        write_atomic(self.checkpoint, self.model.save_weights,
                     size=weights_bytes(self.model))
        write_text_atomic(self.checkpoint + ".json", json.dumps(
            {"epoch": done, "rung": index, "reached": self.reached}))
        goes_on = self.table.report(done, self.trial_id, self.best)
        if self.stop_at_rung or not goes_on:
            self.stopped_at = index
            self.model.stop_training = True

    def metrics(self):
        """What the trial's record keeps of its rungs."""
        metrics = {f"rung_{i}": v for i, v in self.reached.items()}
        metrics["rung"] = float(max(self.reached) if self.reached else -1)
        metrics["stopped"] = float(self.stopped_at is not None)
        return metrics


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
