"""What the models predict, and every rule that follows from it.

A `Task` is the one owner of the rules a task implies: the head (units and
activation), the loss, the default metrics and objective, and how labels
become the model's targets. The builder, the data checks and the search
all ask the task; none keeps a table of its own.

Objective directions are inferred here too, by Keras Tuner's own
`infer_metric_direction`, corrected for the metrics that Keras added after
Keras Tuner's table was written (it would minimize an F1 score).
"""

import dataclasses
from typing import Optional, Tuple

import keras
import keras_tuner
import numpy as np
from keras_tuner.engine.metrics_tracking import infer_metric_direction

__all__ = [
    "Task",
    "KINDS",
    "LABEL_FORMATS",
    "TASK_ARGUMENTS",
    "check_objective_argument",
    "check_task_argument",
    "head",
    "finite_float",
    "metric_name",
    "needs_one_hot",
    "objective_direction",
    "ARCHITECTURE_OBJECTIVES",
    "objectives_of",
    "primary_objective",
]

#: Objectives measured on the architecture, not learned by training: the
#: model's weights, its multiply-adds for one sample, and the median
#: milliseconds of one forward pass (`latency.LatencyMeter`). Each trial
#: reports them; all are minimized.
ARCHITECTURE_OBJECTIVES = ("params", "flops", "latency_ms")

#: The kinds of task, each with its head's activation and its loss (for
#: integer class targets; one-hot targets use the categorical loss).
KINDS = {
    "multiclass": ("softmax", "sparse_categorical_crossentropy"),
    "binary": ("sigmoid", "binary_crossentropy"),
    "regression": ("linear", "mse"),
    # One sigmoid per label (rows of 0/1 that do not sum to 1).
    "multilabel": ("sigmoid", "binary_crossentropy"),
}

#: How the labels were written: class labels, one-hot rows, or rows of 0/1
#: (multi-label). Predictions follow: one probability per class or label.
LABEL_FORMATS = ("indices", "one-hot", "multi-hot")

#: What `task=` accepts: `None` infers it, "classification" lets the labels
#: decide between binary and multiclass.
TASK_ARGUMENTS = (None, "classification", "multiclass", "binary",
                  "multilabel", "regression")

# Metrics Keras Tuner's direction table does not know, or gets wrong.
_MAXIMIZED = ("f1_score", "fbeta_score", "r2_score", "iou", "mean_iou",
              "one_hot_iou", "binary_iou", "top_k_categorical_accuracy")


def check_task_argument(task):
    """`task` if `task=` accepts it, else a `ValueError` that says what does."""
    if task not in TASK_ARGUMENTS:
        raise ValueError(
            "`task` must be None (inferred), 'classification', 'multiclass', "
            f"'binary', 'multilabel' or 'regression'. Received: task={task!r}."
        )
    return task


def check_objective_argument(objective):
    """`objective` if a search can take it, else a `TypeError` (the metrics'
    names are checked by `Task.objective` once the data, and so the
    metrics, are known; whether the strategy takes several objectives by
    `strategies.check_strategy`, which knows the strategies)."""
    several = isinstance(objective, (list, tuple))
    for member in objective if several else [objective]:
        if member is not None and not isinstance(
                member, (str, keras_tuner.Objective)) or (
                several and member is None):
            raise TypeError(
                "`objective` must be a metric name, a "
                "`keras_tuner.Objective`, or a list of them. Received: "
                f"objective={objective!r}.")
    return objective


def head(kind, num_classes=None, num_targets=1):
    """Units and activation of the head of a task kind."""
    if kind not in KINDS:
        raise ValueError(
            f"`task` must be one of {sorted(KINDS)}. Received: task={kind!r}."
        )
    if kind == "multiclass":
        if num_classes is None or int(num_classes) < 2:
            raise ValueError(
                "A multiclass task needs `num_classes` of at least 2. "
                f"Received: num_classes={num_classes!r}."
            )
        return int(num_classes), KINDS[kind][0]
    if kind == "multilabel":
        return int(num_classes), KINDS[kind][0]
    if kind == "binary":
        return 1, KINDS[kind][0]
    return int(num_targets), KINDS[kind][0]


def metric_name(metric):
    """The name under which Keras logs a metric (a string or an object)."""
    if isinstance(metric, str):
        return metric
    if hasattr(metric, "name"):
        return metric.name
    return getattr(metric, "__name__", str(metric))


def objective_direction(name):
    """`"max"`, `"min"`, or `None` when the direction of metric `name`
    cannot be told."""
    if name in ARCHITECTURE_OBJECTIVES:
        return "min"
    base = name[len("val_"):] if name.startswith("val_") else name
    if base in _MAXIMIZED:
        return "max"
    return infer_metric_direction(name)


def objectives_of(objective):
    """The list of `keras_tuner.Objective`s in `objective` (one, or the
    members of Keras Tuner's `MultiObjective`)."""
    return list(getattr(objective, "objectives", None) or [objective])


def primary_objective(objective):
    """The objective that training watches: `objective` itself, or, of
    several, the first that is not an architecture objective. Early
    stopping, the best epoch's weights, successive halving and the best
    model follow it."""
    for member in objectives_of(objective):
        if member.name not in ARCHITECTURE_OBJECTIVES:
            return member
    return objectives_of(objective)[0]


@dataclasses.dataclass(frozen=True)
class Task:
    """What the models predict.

    Attributes:
        kind: `"multiclass"`, `"binary"`, `"multilabel"` or `"regression"`.
        classes: The original class labels, in the order of the model's
            outputs (classification; the columns of a multi-label task), or
            `None`.
        num_targets: Outputs of a regression.
        one_hot: Whether targets are one-hot rows (or float columns for a
            binary task) rather than class indices: some Keras metrics
            (`F1Score`, `FBetaScore`) need them.
        labels: How the user wrote the labels (`LABEL_FORMATS`):
            `"indices"`, `"one-hot"` rows or `"multi-hot"` rows.

    >>> task = Task("multiclass", classes=("cat", "dog", "eel"))
    >>> task.output_units, task.activation, task.loss
    (3, 'softmax', 'sparse_categorical_crossentropy')
    >>> task.encode(["dog", "eel"]).tolist()
    [1, 2]
    """

    kind: str
    classes: Optional[Tuple] = None
    num_targets: int = 1
    one_hot: bool = False
    labels: str = "indices"

    def __post_init__(self):
        if self.labels not in LABEL_FORMATS:
            raise ValueError(
                f"`labels` must be one of {LABEL_FORMATS}. Received: "
                f"labels={self.labels!r}.")

    def describe(self):
        """One line: the task and how its labels were read."""
        if self.kind == "regression":
            return f"regression ({self.num_targets} target(s))"
        unit = "labels" if self.kind == "multilabel" else "classes"
        source = {"indices": "class labels", "one-hot": "one-hot rows",
                  "multi-hot": "rows of 0/1"}[self.labels]
        return f"{self.kind} ({self.num_classes} {unit}, from {source})"

    # -- the model's head and training --------------------------------------

    @property
    def num_classes(self):
        return None if self.classes is None else len(self.classes)

    @property
    def output_units(self):
        return head(self.kind, self.num_classes, self.num_targets)[0]

    @property
    def activation(self):
        return head(self.kind, self.num_classes, self.num_targets)[1]

    @property
    def loss(self):
        if self.kind == "multiclass" and self.one_hot:
            return "categorical_crossentropy"
        return KINDS[self.kind][1]

    def metrics(self, extra=()):
        """The metrics every candidate reports: the task's default (accuracy,
        or MAE for a regression) unless `extra` has it, then `extra`."""
        extra = list(extra)
        default = "mae" if self.kind == "regression" else "accuracy"
        names = {metric_name(m) for m in extra}
        if default in names:
            return extra
        if self.kind == "multilabel":
            # Keras reads "accuracy" of k outputs as categorical; each label
            # is its own yes/no here.
            return [keras.metrics.BinaryAccuracy(name="accuracy")] + extra
        return [default] + extra

    def objective(self, objective=None, metrics=()):
        """The objective of a search: a `keras_tuner.Objective`, or a list
        of them for several objectives.

        Args:
            objective: `None` for the task's default (`val_accuracy`, or
                `val_loss` for a regression), a metric name, a
                `keras_tuner.Objective`, or a list of those. A list may name
                the architecture objectives (`ARCHITECTURE_OBJECTIVES`,
                minimized) but must hold one trained metric at least.
            metrics: The metrics the candidates report (see `metrics()`).

        Raises:
            ValueError: the direction of a named metric cannot be told, the
                candidates never report an objective, a list names one twice
                or holds no trained metric.
        """
        if isinstance(objective, (list, tuple)):
            members = [self._one_objective(o, metrics, several=True)
                       for o in objective]
            names = [m.name for m in members]
            if len(members) < 2 or len(set(names)) < len(names):
                raise ValueError(
                    "A list of objectives needs two or more different ones. "
                    f"Received: objective={names!r}.")
            if all(n in ARCHITECTURE_OBJECTIVES for n in names):
                raise ValueError(
                    "A list of objectives needs a trained metric (e.g. "
                    "'val_accuracy') besides the architecture objectives "
                    f"{ARCHITECTURE_OBJECTIVES}. Received: objective={names!r}.")
            return members
        return self._one_objective(objective, metrics)

    def _one_objective(self, objective, metrics, several=False):
        produced = ["loss"] + [metric_name(m) for m in self.metrics(metrics)]
        produced += ["val_" + n for n in produced]
        if several:
            produced += list(ARCHITECTURE_OBJECTIVES)
        if objective is None:
            objective = ("val_loss" if self.kind == "regression"
                         else "val_accuracy")
        if isinstance(objective, str):
            direction = objective_direction(objective)
            if direction is None:
                raise ValueError(
                    f"Cannot tell whether to maximize or minimize the "
                    f"objective {objective!r}. Pass "
                    f"`keras_tuner.Objective({objective!r}, direction=...)`."
                )
            objective = keras_tuner.Objective(objective, direction)
        if not isinstance(objective, keras_tuner.Objective):
            raise TypeError(
                "Each objective must be a metric name or a "
                f"`keras_tuner.Objective`. Received: {objective!r}.")
        if objective.name not in produced:
            raise ValueError(
                f"The objective {objective.name!r} is never produced by the "
                f"candidates, which report {sorted(produced)}. Accepted: one "
                "of those, or add the metric with `metrics=[...]`"
                + ("" if several else "; the architecture objectives "
                   f"{ARCHITECTURE_OBJECTIVES} only in a list beside a "
                   "trained metric") + "."
            )
        return objective

    # -- labels ---------------------------------------------------------------

    def encode(self, y, arg="y"):
        """Labels as the model's targets: class indices (or one-hot rows),
        or float targets."""
        y = np.asarray(y)
        if self.kind == "regression":
            y = finite_float(y, arg)
            if y.ndim == 1 and self.num_targets == 1:
                return y
            return y.reshape(len(y), -1)
        if self.kind == "multilabel":
            return self._multi_hot(y, arg)
        indices = self._class_indices(y, arg)
        if not self.one_hot:
            return indices
        if self.kind == "multiclass":
            return keras.utils.to_categorical(indices, self.num_classes)
        return indices.reshape(-1, 1).astype("float32")

    def _multi_hot(self, y, arg):
        if y.ndim != 2 or y.shape[1] != len(self.classes) or not np.isin(
                y, (0, 1)).all():
            raise ValueError(
                f"`{arg}` must hold rows of 0/1 of shape (samples, "
                f"{len(self.classes)}), as in training. Received: shape "
                f"{y.shape}.")
        return y.astype("float32")

    def _class_indices(self, y, arg):
        if y.ndim == 2 and y.shape[1] == len(self.classes) and (
                len(self.classes) > 2 or self.labels == "one-hot"):
            return np.argmax(y, axis=1).astype("int32")  # One-hot rows.
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
        lookup = {c: i for i, c in enumerate(self.classes)}
        try:
            return np.array([lookup[v] for v in y.tolist()], dtype="int32")
        except KeyError as e:
            raise ValueError(
                f"`{arg}` holds the label {e.args[0]!r}, which the search "
                f"never saw. Accepted: the training classes "
                f"{list(self.classes)}."
            ) from None
        except TypeError:
            raise ValueError(
                f"`{arg}` must hold one label per sample. Received an array "
                f"of shape {y.shape}."
            ) from None

    # -- config -------------------------------------------------------------

    def get_config(self):
        classes = None
        if self.classes is not None:
            classes = [c.item() if hasattr(c, "item") else c
                       for c in self.classes]
        return {"kind": self.kind, "classes": classes,
                "num_targets": self.num_targets, "one_hot": self.one_hot,
                "labels": self.labels}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("classes") is not None:
            config["classes"] = tuple(config["classes"])
        return cls(**config)


def finite_float(a, arg):
    """`a` as float32, or a `ValueError` naming `arg` if it is not numeric or
    not finite."""
    try:
        a = np.asarray(a, dtype="float32")
    except (TypeError, ValueError):
        raise ValueError(
            f"`{arg}` must be numeric. Received an array of dtype "
            f"{np.asarray(a).dtype}."
        ) from None
    if not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(
            f"`{arg}` holds {bad} NaN or infinite value(s). Accepted: finite "
            "numbers only; impute or drop those samples first."
        )
    return a


def needs_one_hot(metrics):
    """Whether `metrics` need one-hot class targets (Keras' `F1Score` and
    `FBetaScore` do)."""
    return any(isinstance(m, keras.metrics.FBetaScore) for m in metrics)
