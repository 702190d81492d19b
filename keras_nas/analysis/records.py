"""Trial records: what each trial of a search tried and what came of it.

Records are read from the Keras Tuner oracle's trials, the one source of
truth, so they are the same whether the search ran here, was resumed, or ran
on distributed workers.
"""

import dataclasses
import math
from typing import List, Optional

from keras_nas.space import architecture
from keras_nas.space.search_space import other_values
from keras_nas.engine.failures import reason_of
from keras_nas.schedulers import promotion
from keras_nas.strategies.scores import best_value
from keras_nas.data.task import objectives_of, primary_objective

__all__ = ["TrialRecord", "record", "collect", "format_table", "reason_of",
           "best_value"]


@dataclasses.dataclass
class TrialRecord:
    """One trial.

    Attributes:
        trial_id: Keras Tuner's trial id.
        ops: The op list.
        params: Weights of the model (estimated exactly from the ops), or
            `None` for an invalid sequence.
        flops: Multiply-adds for one sample, or `None`.
        value: The objective's best value (of several objectives, the
            primary one's: see `task.primary_objective`), or `None` when the
            trial failed.
        status: Keras Tuner's status: `COMPLETED`, `FAILED`, `RUNNING`, ...
        reason: Why a trial failed, in one line; `None` otherwise.
        epochs: Epochs trained.
        seconds: Wall time of the trial's training.
        hyperparameters: Values other than the op sequence (the learning
            rate, Hyperband's bookkeeping).
        rung: Under successive halving, the last rung the trial reached
            (0 is the first), or `None`.
        stopped: Whether successive halving stopped the trial at `rung`
            (its `value` is then its best value up to that rung).
        objectives: With several objectives, each one's best value by name
            (`None` where missing); empty with one.
        continues: Under promotions (`Halving(mode="promotion")`), the id
            of the trial whose candidate this one trained on from, or
            `None`.
        ensemble_weight: The trial's weight in the last ensemble built
            (`search.ensemble()`, its `ensemble.json`), or `None` when it
            is not a member (or no ensemble was built).
    """

    trial_id: str
    ops: List[str]
    params: Optional[int]
    flops: Optional[int]
    value: Optional[float]
    status: str
    reason: Optional[str]
    epochs: Optional[int]
    seconds: Optional[float]
    hyperparameters: dict
    rung: Optional[int] = None
    stopped: bool = False
    objectives: dict = dataclasses.field(default_factory=dict)
    continues: Optional[str] = None
    ensemble_weight: Optional[float] = None

    def to_dict(self):
        return dataclasses.asdict(self)


def _metric(trial, name):
    if trial.metrics.exists(name):
        value = trial.metrics.get_last_value(name)
        if value is not None and math.isfinite(value):
            return float(value)
    return None


def record(trial, space, head="auto", objective=None):
    """The `TrialRecord` of one Keras Tuner trial.

    Args:
        trial: A `keras_tuner.engine.trial.Trial`.
        space: The bound `SearchSpace`.
        head: The search's head. Defaults to `"auto"`.
        objective: The oracle's objective; needed to read several objectives
            (otherwise the trial's score is its value). Defaults to `None`.
    """
    values = dict(trial.hyperparameters.values)
    continues = values.pop(promotion.CONTINUES, None)
    try:
        ops = space.decode(values)
    except ValueError:
        ops = []
    try:
        plan = space.plan(ops, head=head)
        params, flops = plan.params, plan.flops
    except (ValueError, architecture.InvalidArchitectureError):
        params = flops = None
    epochs = _metric(trial, "epochs")
    completed = trial.status == "COMPLETED"
    value = trial.score if completed else None
    several = {}
    if objective is not None and len(objectives_of(objective)) > 1:
        several = {o.name: best_value(trial, o) if completed else None
                   for o in objectives_of(objective)}
        value = several[primary_objective(objective).name]
    return TrialRecord(
        trial_id=trial.trial_id,
        ops=ops,
        params=params,
        flops=flops,
        value=None if value is None else float(value),
        status=trial.status,
        reason=None if completed else reason_of(trial.message),
        epochs=None if epochs is None else int(epochs),
        seconds=_metric(trial, "seconds"),
        hyperparameters=other_values(values),
        rung=None if _metric(trial, "rung") is None
        else int(_metric(trial, "rung")),
        stopped=bool(_metric(trial, "stopped")),
        objectives=several,
        continues=None if continues is None else str(continues),
    )


def collect(oracle, space, head="auto") -> List[TrialRecord]:
    """Records of every trial of `oracle`, in trial order."""
    trials = sorted(oracle.trials.values(), key=lambda t: int(t.trial_id))
    return [record(trial, space, head, oracle.objective) for trial in trials]


def _fmt_ops(ops, width=48):
    text = " > ".join(ops)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(records, objective_name, direction="max", best=None,
                 front=(), columns=()):
    """A readable table of trial records.

    Args:
        records: `TrialRecord`s.
        objective_name: The (primary) objective's name, for the header.
        direction: Its direction. Defaults to `"max"`.
        best: The trial id marked `*`. Defaults to `None`: the best `value`.
        front: Trial ids of the Pareto front, marked `+`. Defaults to none.
        columns: Names of further objectives (in `TrialRecord.objectives`)
            shown as columns. Defaults to none.

    With an ensemble (a record with an `ensemble_weight`), a column
    `ensemble` gives each member's weight.
    """
    done = [r for r in records if r.value is not None]
    if best is None and done:
        pick = max if direction == "max" else min
        best = pick(done, key=lambda r: r.value).trial_id
    extra = "".join(f" {c:>12}" for c in columns)
    weighted = any(r.ensemble_weight is not None for r in records)
    if weighted:
        extra += f" {'ensemble':>8}"
    header = (
        f"{'trial':>5}  {'status':<9} {objective_name:>12} {'params':>9}"
        f"{extra} {'epochs':>6} {'sec':>6}  ops"
    )
    lines = [header, "-" * len(header)]
    for r in records:
        value = "-" if r.value is None else f"{r.value:.4f}"
        params = "-" if r.params is None else f"{r.params:,}"
        epochs = "-" if r.epochs is None else str(r.epochs)
        seconds = "-" if r.seconds is None else f"{r.seconds:.1f}"
        mark = "*" if r.trial_id == best else (
            "+" if r.trial_id in front else " ")
        status = f"STOPPED@{r.rung}" if r.stopped else r.status
        cells = "".join(
            f" {_fmt_value(r.objectives.get(c)):>12}" for c in columns)
        if weighted:
            cells += f" {_fmt_weight(r.ensemble_weight):>8}"
        line = (
            f"{mark}{r.trial_id:>4}  {status:<9} {value:>12} {params:>9}"
            f"{cells} {epochs:>6} {seconds:>6}  {_fmt_ops(r.ops)}"
        )
        if r.reason:
            line += f"\n{'':>7}reason: {r.reason[:110]}"
        lines.append(line)
    return "\n".join(lines)


def _fmt_value(value):
    return "-" if value is None else f"{value:.4g}"


def _fmt_weight(weight):
    return "" if weight is None else f"x{weight:.2f}"
