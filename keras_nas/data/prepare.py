"""Input checks, data preparation and the digits data.

Everything here runs before any training, so a bad input costs nothing but
the error: a `ValueError` that names the argument, what was received and
what is accepted. The task is inferred by `labels.infer_task` (re-exported
here). `prepare()` turns what `NASSearch.fit` received into one
`Prepared` value: the task, the input shape, and the training and
validation data as the candidates will see them.
"""

import dataclasses
from typing import Any, Optional, Tuple

import numpy as np

from keras_nas.ops import RANK_KINDS
from keras_nas.data import labels as labels_module
from keras_nas.data.labels import infer_task
from keras_nas.data.task import Task, finite_float

__all__ = [
    "Prepared",
    "Task",
    "check_features",
    "check_lengths",
    "check_split",
    "encode_for_evaluation",
    "infer_task",
    "is_dataset",
    "load_digits",
    "prepare",
    "split",
]


def is_dataset(x):
    """Whether `x` is a `tf.data.Dataset` (without importing TensorFlow)."""
    return type(x).__module__.startswith("tensorflow") and hasattr(
        x, "element_spec"
    )


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
    return finite_float(x, arg)


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


def split(x, y, fraction, seed=0, sample_weight=None):
    """A shuffled, seeded train/validation split (of `sample_weight` too,
    when given: then `(x, y, w)` triples)."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = max(1, int(round(len(x) * fraction)))
    if n_val >= len(x):
        raise ValueError(
            f"validation_split={fraction} leaves no training data out of "
            f"{len(x)} samples."
        )
    val, train = order[:n_val], order[n_val:]
    if sample_weight is not None:
        return ((x[train], y[train], sample_weight[train]),
                (x[val], y[val], sample_weight[val]))
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


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The data of a search, checked and encoded.

    Attributes:
        task: The `Task`.
        input_shape: The shape of one sample.
        x, y: The training data (`y` is `None` for a dataset, which yields
            both).
        validation: `(x_val, y_val)` for arrays, or a dataset.
        is_dataset: Whether the data are `tf.data.Dataset`s.
        sample_weight: The training samples' weights, or `None`.
        class_weight: `{class index: weight}` for `model.fit`, or `None`.
        validation_sample_weight: The weights of the validation samples
            (they join the training data in a final `retrain`), or `None`.
    """

    task: Task
    input_shape: Tuple[int, ...]
    x: Any
    y: Optional[Any]
    validation: Any
    is_dataset: bool = False
    sample_weight: Optional[Any] = None
    class_weight: Optional[dict] = None
    validation_sample_weight: Optional[Any] = None

    def fit_arguments(self, batch_size):
        """Keyword arguments for `keras.Model.fit` besides the epochs."""
        if self.is_dataset:
            # A dataset is batched, and shuffles itself or not.
            arguments = {"x": self.x, "validation_data": self.validation,
                         "batch_size": None, "shuffle": False}
        else:
            arguments = {"x": self.x, "y": self.y,
                         "validation_data": self.validation,
                         "batch_size": batch_size}
        return dict(arguments, **self.weights())

    def weights(self):
        """`sample_weight` and `class_weight` for `keras.Model.fit`, those
        that were given."""
        weights = {}
        if self.sample_weight is not None:
            weights["sample_weight"] = self.sample_weight
        if self.class_weight is not None:
            weights["class_weight"] = self.class_weight
        return weights

    def all_weights(self):
        """`weights()` for the data of `all_data()`."""
        weights = self.weights()
        if self.sample_weight is not None:
            weights["sample_weight"] = np.concatenate(
                [self.sample_weight, self.validation_sample_weight])
        return weights

    def all_data(self):
        """Training and validation data together (for a final retrain):
        `(x, y)` arrays, or `(dataset, None)`."""
        if self.is_dataset:
            return self.x.concatenate(self.validation), None
        x_val, y_val = self.validation
        return np.concatenate([self.x, x_val]), np.concatenate([self.y, y_val])


def prepare(x, y=None, *, validation_split=None, validation_data=None,
            task=None, one_hot=False, seed=None, class_weight=None,
            sample_weight=None, validation_sample_weight=None):
    """Check and encode the data of `NASSearch.fit`.

    Args:
        x: Samples (an array), or a `tf.data.Dataset` of `(x, y)` batches.
        y: Labels, or `None` with a dataset.
        validation_split: Fraction of `x` held out, shuffled with `seed`,
            when there is no `validation_data`. Defaults to `0.2`.
        validation_data: `(x_val, y_val)`, or a dataset.
        task: As `NASSearch(task=...)`.
        one_hot: Encode class targets as one-hot rows.
        seed: Seed of the validation split. Defaults to `0`.
        class_weight: Optional `{class: weight}`, keyed by the classes as
            `y` names them (`labels.check_class_weight`).
        sample_weight: Optional weight per sample of `x` (arrays only); the
            validation split takes its share, which weighs in `retrain`
            only: the candidates are scored unweighted.
        validation_sample_weight: With `validation_data` and
            `sample_weight`, the validation samples' weights (a split made
            before, by `raw.prepare`). Defaults to `None` (ones).

    Returns:
        A `Prepared`.
    """
    if validation_data is not None and validation_split is not None:
        raise ValueError(
            "Pass `validation_split` or `validation_data`, not both. "
            f"Received: validation_split={validation_split!r} and "
            "validation_data."
        )
    if is_dataset(x):
        if sample_weight is not None:
            raise ValueError(
                "`sample_weight` needs arrays; with a tf.data.Dataset as `x`, "
                "weigh classes with `class_weight=`, or pass arrays. "
                "Received: sample_weight and a dataset as `x`.")
        prepared = _prepare_dataset(x, y, validation_split, validation_data,
                                    task, one_hot)
    else:
        prepared = _prepare_arrays(x, y, validation_split, validation_data,
                                   task, one_hot, seed, sample_weight,
                                   validation_sample_weight)
    class_weight = labels_module.check_class_weight(class_weight,
                                                    prepared.task)
    if class_weight is None or prepared.sample_weight is None:
        return dataclasses.replace(prepared, class_weight=class_weight)
    # Keras takes one or the other; a class weight multiplies the weight of
    # each sample of its class, which is what `model.fit` would do with it.
    def fold(weights, targets):
        return weights * np.array([class_weight.get(int(c), 1.0)
                                   for c in targets], "float32")

    return dataclasses.replace(
        prepared, sample_weight=fold(prepared.sample_weight, prepared.y),
        validation_sample_weight=fold(prepared.validation_sample_weight,
                                      prepared.validation[1]))


def _prepare_arrays(x, y, validation_split, validation_data, task, one_hot,
                    seed, sample_weight=None, validation_sample_weight=None):
    if y is None:
        raise ValueError(
            "`y` is required when `x` is an array. Received: y=None. "
            "Pass labels, or a tf.data.Dataset of (x, y) batches as `x`."
        )
    x = check_features(x, "x")
    check_lengths(x, y)
    task = infer_task(y, task, one_hot=one_hot)
    sample_weight = labels_module.check_sample_weight(sample_weight, len(x))
    w_train = w_val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(
            validation_data
        ) != 2:
            raise ValueError(
                "`validation_data` must be a tuple (x_val, y_val). "
                f"Received: {type(validation_data).__name__}."
            )
        x_val = check_features(validation_data[0], "validation_data[0]")
        check_lengths(x_val, validation_data[1], "validation_data[0]",
                      "validation_data[1]")
        if x_val.shape[1:] != x.shape[1:]:
            raise ValueError(
                "`validation_data[0]` must have the samples' shape of "
                f"`x`, {x.shape[1:]}. Received: {x_val.shape[1:]}."
            )
        y_val = validation_data[1]
        x_train, y_train = x, y
        if sample_weight is not None:
            w_train, w_val = sample_weight, (
                np.ones(len(x_val), "float32")
                if validation_sample_weight is None
                else np.asarray(validation_sample_weight, "float32"))
    else:
        fraction = check_split(
            0.2 if validation_split is None else validation_split)
        labels_module.check_enough(
            len(x), max(1, int(round(len(x) * fraction))), task)
        parts = split(x, np.asarray(y), fraction, seed=seed or 0,
                      sample_weight=sample_weight)
        (x_train, y_train, *w_train), (x_val, y_val, *w_val) = parts
        w_train = w_train[0] if w_train else None
        w_val = w_val[0] if w_val else None
    if validation_data is not None:
        labels_module.check_enough(len(x) + len(x_val), len(x_val), task)
    return Prepared(
        task=task,
        input_shape=tuple(int(d) for d in x.shape[1:]),
        x=x_train,
        y=task.encode(y_train, "y"),
        validation=(x_val, task.encode(y_val, "validation_data[1]")),
        sample_weight=w_train,
        validation_sample_weight=w_val,
    )


def _prepare_dataset(x, y, validation_split, validation_data, task, one_hot):
    from keras_nas.data import tf_datasets

    if y is not None:
        raise ValueError(
            "`y` must be None when `x` is a tf.data.Dataset of (x, y) "
            "batches."
        )
    if validation_split is not None:
        raise ValueError(
            "`validation_split` cannot split a tf.data.Dataset; pass "
            "`validation_data=` a dataset instead."
        )
    input_shape, labels = tf_datasets.inspect_dataset(x, "x")
    if validation_data is None or not is_dataset(validation_data):
        raise ValueError(
            "With a tf.data.Dataset as `x`, `validation_data` must be a "
            f"tf.data.Dataset too. Received: {type(validation_data).__name__}."
        )
    val_shape, val_labels = tf_datasets.inspect_dataset(
        validation_data, "validation_data")
    if val_shape != input_shape:
        raise ValueError(
            "`validation_data` must yield samples of shape "
            f"{input_shape}, like `x`. Received: {val_shape}."
        )
    task = infer_task(labels, task, one_hot=one_hot)
    for arg, y_seen in (("x", labels), ("validation_data", val_labels)):
        task.encode(y_seen, arg)  # Unknown labels fail here.
    return Prepared(
        task=task,
        input_shape=tuple(input_shape),
        x=tf_datasets.encode_labels(x, task),
        y=None,
        validation=tf_datasets.encode_labels(validation_data, task),
        is_dataset=True,
    )


def encode_for_evaluation(x, y, task):
    """`(x, y)` of `evaluate()`, encoded as in training."""
    if y is not None:
        x = check_features(x, "x")
        check_lengths(x, y)
        return x, task.encode(y, "y")
    if is_dataset(x):
        from keras_nas.data import tf_datasets

        return tf_datasets.encode_labels(x, task), None
    raise ValueError(
        "`y` is required when `x` is an array. Received: y=None.")
