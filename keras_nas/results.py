"""Trial records: what each trial of a search tried and what came of it.

Records are read from the Keras Tuner oracle's trials, the one source of
truth, so they are the same whether the search ran here, was resumed, or ran
on distributed workers.
"""

import dataclasses
import math
from typing import List, Optional

from keras_nas import architecture
from keras_nas.space import other_values
from keras_nas.failures import reason_of

__all__ = ["TrialRecord", "record", "collect", "format_table", "reason_of"]


@dataclasses.dataclass
class TrialRecord:
    """One trial.

    Attributes:
        trial_id: Keras Tuner's trial id.
        ops: The op list.
        params: Weights of the model (estimated exactly from the ops), or
            `None` for an invalid sequence.
        flops: Multiply-adds for one sample, or `None`.
        value: The objective's best value, or `None` when the trial failed.
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

    def to_dict(self):
        return dataclasses.asdict(self)


def _metric(trial, name):
    if trial.metrics.exists(name):
        value = trial.metrics.get_last_value(name)
        if value is not None and math.isfinite(value):
            return float(value)
    return None


def record(trial, space, head="auto"):
    """The `TrialRecord` of one Keras Tuner trial."""
    values = dict(trial.hyperparameters.values)
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
    )


def collect(oracle, space, head="auto") -> List[TrialRecord]:
    """Records of every trial of `oracle`, in trial order."""
    trials = sorted(oracle.trials.values(), key=lambda t: int(t.trial_id))
    return [record(trial, space, head) for trial in trials]


def _fmt_ops(ops, width=48):
    text = " > ".join(ops)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(records, objective_name, direction="max"):
    """A readable table of trial records, best trial marked with `*`."""
    done = [r for r in records if r.value is not None]
    best = None
    if done:
        pick = max if direction == "max" else min
        best = pick(done, key=lambda r: r.value).trial_id
    header = (
        f"{'trial':>5}  {'status':<9} {objective_name:>12} {'params':>9} "
        f"{'epochs':>6} {'sec':>6}  ops"
    )
    lines = [header, "-" * len(header)]
    for r in records:
        value = "-" if r.value is None else f"{r.value:.4f}"
        params = "-" if r.params is None else f"{r.params:,}"
        epochs = "-" if r.epochs is None else str(r.epochs)
        seconds = "-" if r.seconds is None else f"{r.seconds:.1f}"
        mark = "*" if r.trial_id == best else " "
        status = f"STOPPED@{r.rung}" if r.stopped else r.status
        line = (
            f"{mark}{r.trial_id:>4}  {status:<9} {value:>12} {params:>9} "
            f"{epochs:>6} {seconds:>6}  {_fmt_ops(r.ops)}"
        )
        if r.reason:
            line += f"\n{'':>7}reason: {r.reason[:110]}"
        lines.append(line)
    return "\n".join(lines)
