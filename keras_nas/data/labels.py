"""Labels as Keras users write them, read into a `Task`, and the weights
that come with them.

The one owner of task inference: `infer_task` reads integer, boolean and
string labels as classes, one-hot rows (what `keras.utils.to_categorical`
returns, as floats) as the same multi-class task that the integer labels
would give, rows of 0/1 that do not sum to 1 as a multi-label task, and
other floats as regression targets. `class_weight` and `sample_weight` of
`NASSearch.fit` are checked here against that task, and `check_enough`
refuses data too small to split, all before any training.
"""

import math

import numpy as np

from keras_nas.data.task import Task, check_task_argument, finite_float

__all__ = ["MIN_SAMPLES", "check_class_weight", "check_enough",
           "check_sample_weight", "infer_task"]

#: Fewest samples a search accepts: below it a validation split says
#: nothing about a candidate.
MIN_SAMPLES = 10


def _is_binary_rows(y):
    """Whether `y` is of shape (samples, k > 1) and holds only 0 and 1."""
    return y.ndim == 2 and y.shape[1] > 1 and y.dtype.kind in "biuf" and (
        bool(np.isin(y, (0, 1)).all()))


def infer_task(y, task=None, one_hot=False):
    """The `Task` of labels `y`.

    Integer, boolean and string labels are classes: two make a binary task,
    more a multiclass one. Rows of 0/1 of shape `(samples, k)` are one-hot
    classes when each sums to 1 (integers or floats, as from
    `keras.utils.to_categorical`), else `k` independent labels (a
    multi-label task). Other float labels are regression targets. Pass
    `task` to decide yourself.

    Args:
        y: The labels.
        task: As `NASSearch(task=...)`. Defaults to `None` (inferred).
        one_hot: Train on one-hot targets (some Keras metrics need them).

    >>> infer_task([[0., 1.], [1., 0.], [0., 1.]]).get_config()["labels"]
    'one-hot'
    >>> infer_task([[1, 1, 0], [0, 0, 1]]).kind
    'multilabel'
    """
    y = np.asarray(y)
    if y.ndim == 0 or len(y) == 0:
        raise ValueError(
            f"`y` is empty. Received an array of shape {y.shape}."
        )
    check_task_argument(task)
    if y.ndim > 2:
        raise ValueError(
            "`y` must be of shape (samples,) or (samples, targets). Received: "
            f"shape {y.shape}."
        )
    rows = _is_binary_rows(y)
    one_hot_rows = rows and bool(np.all(y.sum(axis=1) == 1))
    if task == "regression" or (
            task is None and y.dtype.kind in "fc" and not rows):
        y = finite_float(y, "y")
        return Task("regression", None, 1 if y.ndim == 1 else y.shape[1])
    if task == "multilabel" or (rows and not one_hot_rows
                                and task in (None, "classification")):
        if not rows:
            raise ValueError(
                "task='multilabel' needs rows of 0/1 of shape (samples, "
                f"labels), one column a label. Received: shape {y.shape}, "
                f"dtype {y.dtype}.")
        return Task("multilabel", tuple(range(y.shape[1])), labels="multi-hot")
    labels = "indices"
    if y.ndim == 2 and y.shape[1] > 1:
        if not one_hot_rows:
            raise ValueError(
                "`y` of shape (samples, k) is read as one-hot classes, but its "
                "rows are not one-hot. Accepted: class labels of shape "
                "(samples,), one-hot rows, rows of 0/1 for a multi-label "
                "task, or float targets for a regression."
            )
        classes = tuple(range(y.shape[1]))
        labels = "one-hot"
    else:
        y = y.reshape(-1)
        if y.dtype.kind == "f":
            y = finite_float(y, "y")
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
    # Two one-hot columns keep their softmax: predictions then have the
    # labels' shape, (samples, 2).
    binary = len(classes) == 2 and (
        task == "binary" or (task != "multiclass" and labels != "one-hot"))
    return Task("binary" if binary else "multiclass", classes,
                one_hot=one_hot, labels=labels)


def check_class_weight(class_weight, task):
    """`class_weight` as Keras' `model.fit` takes it for the encoded
    targets, `{class index: weight}`, or `None`.

    Its keys are the classes as the labels name them (for one-hot rows, the
    column). A key that is not a class, a weight that is not a finite
    number of at least 0, or a task without classes is a `ValueError`.
    """
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict) or not class_weight:
        raise ValueError(
            "`class_weight` must be a non-empty dict {class: weight}. "
            f"Received: class_weight={class_weight!r}.")
    if task.kind not in ("binary", "multiclass"):
        raise ValueError(
            f"`class_weight` needs a classification task; this one is "
            f"{task.kind!r}. Pass `sample_weight=` instead. Received: "
            f"class_weight={class_weight!r}.")
    index = {c: i for i, c in enumerate(task.classes)}
    unknown = [k for k in class_weight
               if _plain(k) not in index]
    if unknown:
        raise ValueError(
            f"`class_weight` names {unknown[0]!r}, which is not a class of "
            f"`y`. Accepted keys: the classes {list(task.classes)}. Received: "
            f"class_weight={class_weight!r}.")
    weights = {}
    for key, weight in class_weight.items():
        if isinstance(weight, bool) or not isinstance(
                weight, (int, float, np.number)) or not math.isfinite(
                float(weight)) or float(weight) < 0:
            raise ValueError(
                "`class_weight` weights must be finite numbers of at least 0."
                f" Received: {key!r}: {weight!r}.")
        weights[index[_plain(key)]] = float(weight)
    return weights


def _plain(key):
    return key.item() if hasattr(key, "item") else key


def check_sample_weight(sample_weight, n_samples):
    """`sample_weight` as float32 of shape `(n_samples,)`, or `None`."""
    if sample_weight is None:
        return None
    w = finite_float(sample_weight, "sample_weight")
    if w.shape != (n_samples,) or (w < 0).any():
        raise ValueError(
            "`sample_weight` must hold one weight of at least 0 per sample of "
            f"`x`, shape ({n_samples},). Received: shape {w.shape}"
            + (", with negative weights" if w.size and (w < 0).any() else "")
            + ".")
    return w


def check_enough(n_samples, n_validation, task):
    """A `ValueError`, before any training, when the data are too few for a
    search: under `MIN_SAMPLES` samples, or fewer validation samples than
    classes."""
    if n_samples < MIN_SAMPLES:
        raise ValueError(
            f"A search needs at least {MIN_SAMPLES} samples, to train on some "
            f"and score on others. Received: {n_samples} samples in `x`.")
    classes = task.num_classes if task.kind in ("binary",
                                                "multiclass") else None
    if classes and n_validation < classes:
        raise ValueError(
            f"The validation data hold {n_validation} samples for "
            f"{classes} classes; a score needs one sample per class at least."
            " Accepted: more samples, a larger `validation_split`, or "
            "`validation_data=`.")
