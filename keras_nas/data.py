"""Input checks, task inference and the built-in digits data.

Everything here runs before any training, so a bad input costs nothing but
the error: a `ValueError` that names the argument, what was received and
what is accepted.
"""

import dataclasses
from typing import Optional, Tuple

import numpy as np

from keras_nas.ops import RANK_KINDS

__all__ = [
    "Task",
    "infer_task",
    "check_features",
    "check_split",
    "split",
    "load_digits",
]


@dataclasses.dataclass(frozen=True)
class Task:
    """What the models predict.

    Attributes:
        kind: `"multiclass"`, `"binary"` or `"regression"`.
        classes: The original class labels, in the order of the model's
            outputs (classification), or `None`.
        num_targets: Outputs of a regression.
    """

    kind: str
    classes: Optional[Tuple] = None
    num_targets: int = 1

    @property
    def num_classes(self):
        return None if self.classes is None else len(self.classes)

    @property
    def output_units(self):
        if self.kind == "multiclass":
            return len(self.classes)
        return 1 if self.kind == "binary" else self.num_targets

    def encode(self, y, arg="y"):
        """Labels as the model's targets: class indices, or float targets."""
        y = np.asarray(y)
        if self.kind == "regression":
            y = _finite_float(y, arg)
            if y.ndim == 1 and self.num_targets == 1:
                return y
            return y.reshape(len(y), -1)
        if y.ndim == 2 and y.shape[1] == len(self.classes) > 2:
            y = np.argmax(y, axis=1)  # One-hot rows.
            return y.astype("int32")
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

    def to_config(self):
        classes = None
        if self.classes is not None:
            classes = [c.item() if hasattr(c, "item") else c for c in self.classes]
        return {
            "kind": self.kind,
            "classes": classes,
            "num_targets": self.num_targets,
        }


def _finite_float(a, arg):
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


def check_features(x, arg="x"):
    """x as finite float32 of shape (samples, *one sample's shape)."""
    if x is None:
        raise ValueError(f"`{arg}` is required. Received: {arg}=None.")
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(
            f"`{arg}` is empty. Received an array of shape {x.shape}; a search "
            "needs at least a few samples."
        )
    if x.ndim - 1 not in RANK_KINDS:
        raise ValueError(
            f"`{arg}` must be of shape (samples, features), (samples, steps, "
            "features) or (samples, height, width, channels). Received: "
            f"shape {x.shape}. For grayscale images add a channel axis: "
            "x[..., None]."
        )
    return _finite_float(x, arg)


def infer_task(y, task=None):
    """The `Task` of labels `y`.

    Integer, boolean and string labels are classes: two make a binary task,
    more a multiclass one, and one-hot rows are read as classes too. Float
    labels are regression targets. Pass `task` to decide yourself.
    """
    y = np.asarray(y)
    if y.ndim == 0 or len(y) == 0:
        raise ValueError(
            f"`y` is empty. Received an array of shape {y.shape}."
        )
    if task not in (None, "multiclass", "binary", "regression", "classification"):
        raise ValueError(
            "`task` must be None (inferred), 'classification', 'multiclass', "
            f"'binary' or 'regression'. Received: task={task!r}."
        )
    if y.ndim > 2:
        raise ValueError(
            "`y` must be of shape (samples,) or (samples, targets). Received: "
            f"shape {y.shape}."
        )
    if task == "regression" or (task is None and y.dtype.kind in "fc"):
        y = _finite_float(y, "y")
        return Task("regression", None, 1 if y.ndim == 1 else y.shape[1])
    if y.ndim == 2 and y.shape[1] > 1:
        if not (np.isin(y, (0, 1)).all() and np.all(y.sum(axis=1) == 1)):
            raise ValueError(
                "`y` of shape (samples, k) is read as one-hot classes, but its "
                "rows are not one-hot. Accepted: class labels of shape "
                "(samples,), one-hot rows, or float targets for a regression."
            )
        classes = tuple(range(y.shape[1]))
    else:
        y = y.reshape(-1)
        if y.dtype.kind == "f":
            y = _finite_float(y, "y")
            if not np.all(y == np.round(y)):
                raise ValueError(
                    f"task={task!r} needs class labels, but `y` holds "
                    "non-integer floats. Accepted: integer, boolean or string "
                    "labels, or task='regression'."
                )
            y = y.astype("int64")
        if y.dtype.kind not in "iubUSO":
            raise ValueError(
                f"`y` of dtype {y.dtype} cannot be used as classes. Accepted: "
                "integer, boolean or string labels."
            )
        try:
            classes = tuple(np.unique(y).tolist())
        except TypeError:
            raise ValueError(
                "`y` mixes labels of different types, which cannot be sorted "
                "into classes. Accepted: labels of one type."
            ) from None
    if len(classes) < 2:
        raise ValueError(
            f"`y` holds a single class ({classes[0]!r}); a classifier needs at "
            "least 2. Accepted: labels of 2 or more classes, or float targets "
            "for a regression."
        )
    if task == "binary" and len(classes) != 2:
        raise ValueError(
            f"task='binary' needs 2 classes, but `y` holds {len(classes)}."
        )
    kind = "binary" if len(classes) == 2 and task != "multiclass" else "multiclass"
    return Task(kind, classes)


def check_split(validation_split):
    if isinstance(validation_split, bool) or not isinstance(
        validation_split, (int, float)
    ) or not 0.0 < validation_split < 1.0:
        raise ValueError(
            "`validation_split` must be a fraction strictly between 0 and 1. "
            f"Received: validation_split={validation_split!r}."
        )
    return float(validation_split)


def check_lengths(x, y, x_arg="x", y_arg="y"):
    if len(x) != len(np.asarray(y)):
        raise ValueError(
            f"`{x_arg}` and `{y_arg}` must hold the same number of samples. "
            f"Received: {len(x)} in {x_arg} and {len(np.asarray(y))} in "
            f"{y_arg}."
        )


def split(x, y, fraction, seed=0):
    """A shuffled, seeded train/validation split."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = max(1, int(round(len(x) * fraction)))
    if n_val >= len(x):
        raise ValueError(
            f"validation_split={fraction} leaves no training data out of "
            f"{len(x)} samples."
        )
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def load_digits(test_fraction=0.2, seed=0):
    """scikit-learn's bundled 8x8 digits, as images; no network needed.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float32 images of shape
        `(n, 8, 8, 1)` scaled to [0, 1], and integer labels 0 to 9.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int64")
    return split(x, y, test_fraction, seed)
