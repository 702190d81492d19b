"""`tf.data.Dataset` input, the one TensorFlow-only part of the data stage:
a dataset's sample shape, its labels, and its labels encoded as the model's
targets; whether it holds strings (raw text, read into arrays by
`data.raw`), the range of its samples, and its samples rescaled.

The rest of the data stage never imports this module unless a dataset is
passed, so it runs on any Keras 3 backend.
"""

import numpy as np

try:
    import tensorflow as tf
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError(
        "A tf.data.Dataset as input needs TensorFlow: `pip install "
        "tensorflow`. Numpy arrays work on any Keras backend."
    ) from e

__all__ = ["arrays_of", "encode_labels", "holds_strings", "inspect_dataset",
           "rescaled", "sample_range", "with_targets_per_output"]

# Batches scanned to find the labels of a dataset.
_MAX_SCAN_BATCHES = 10000


def inspect_dataset(dataset, arg):
    """The sample shape and all labels of a dataset of (x, y) batches."""
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise ValueError(
            f"`{arg}` must be a tf.data.Dataset of (x, y) batches. Received "
            f"elements of spec {spec}."
        )
    shape = spec[0].shape
    if shape.rank is None or shape.rank < 2 or None in shape[1:]:
        raise ValueError(
            f"`{arg}` must yield batches of a fixed sample shape, (batch, ...)."
            f" Received: shape {shape}. Batch the dataset with "
            "`.batch(n)`."
        )
    labels = [
        np.asarray(y)
        for _, y in dataset.take(_MAX_SCAN_BATCHES).as_numpy_iterator()
    ]
    if not labels:
        raise ValueError(f"`{arg}` is empty: it yields no batch.")
    return tuple(int(d) for d in shape[1:]), np.concatenate(labels)


def holds_strings(dataset):
    """Whether a dataset of (x, y) batches yields strings as `x` (raw
    text, read into arrays and vectorized by `data.raw`)."""
    spec = dataset.element_spec
    return isinstance(spec, tuple) and len(spec) == 2 and getattr(
        spec[0], "dtype", None) == tf.string


def sample_range(dataset, batches=10):
    """`(min, max)` of the samples of the first `batches` batches."""
    low, high = np.inf, -np.inf
    for x, _ in dataset.take(batches).as_numpy_iterator():
        low, high = min(low, float(np.min(x))), max(high, float(np.max(x)))
    return low, high


def rescaled(dataset, scale):
    """The dataset with its samples times `scale`, as `Rescaling(scale)`
    computes it (float32)."""
    return dataset.map(lambda x, y, *rest: (
        tf.cast(x, "float32") * scale + 0.0, y) + tuple(rest))


def arrays_of(dataset):
    """`(x, y)`: every batch of a dataset of (x, y) batches, read once, in
    order, as two NumPy arrays (the validation predictions of a trial and
    their labels come from the same pass)."""
    xs, ys = [], []
    for x, y in dataset.as_numpy_iterator():
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
    if not xs:
        raise ValueError("The dataset is empty: it yields no batch.")
    return np.concatenate(xs), np.concatenate(ys)


def encode_labels(dataset, task):
    """The dataset with its labels as the model's targets (`task.one_hot`
    decides between class indices and one-hot rows)."""
    one_hot = task.one_hot
    if task.kind in ("regression", "multilabel"):
        return dataset.map(lambda x, y: (x, tf.cast(y, "float32")))
    if task.labels == "one-hot":
        classes = len(task.classes)

        def from_rows(x, y):
            y = tf.argmax(y, axis=-1)
            return x, (tf.one_hot(y, classes) if one_hot else y)

        return dataset.map(from_rows)
    classes = list(task.classes)
    if all(isinstance(c, str) for c in classes):
        keys = tf.constant(classes)
    else:  # Integer (or boolean) labels: the lookup tables want int64 keys.
        keys = tf.constant([int(c) for c in classes], dtype="int64")
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            keys, tf.range(len(task.classes), dtype="int64")),
        default_value=-1,
    )

    def encode(x, y):
        y = table.lookup(tf.cast(tf.reshape(y, [-1]), keys.dtype))
        if one_hot:
            if task.kind == "multiclass":
                return x, tf.one_hot(y, len(task.classes))
            return x, tf.cast(tf.reshape(y, [-1, 1]), "float32")
        return x, y

    return dataset.map(encode)


def with_targets_per_output(dataset, names):
    """A dataset of `(x, y)` batches as a model of several outputs takes it:
    `(x, {name: y for each of names})` (a pack of candidates,
    `engine.packing`)."""
    names = list(names)
    return dataset.map(lambda x, y, *rest: (x, {n: y for n in names}) + rest)
