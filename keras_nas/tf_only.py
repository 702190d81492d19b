"""Everything in keras_nas that needs TensorFlow, in one place.

- `tf.data.Dataset` input: shapes, labels and label encoding;
- TensorBoard: each trial's HParams (architecture and metrics), its op
  sequence as text, and a search-level run of the objective and the best so
  far against the trial number.

The core (space, oracles, builder, search) never imports this module unless
one of these features is asked for, so it runs on any Keras 3 backend.
"""

import numpy as np

try:
    import tensorflow as tf
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError(
        "This feature needs TensorFlow (tf.data input or TensorBoard "
        "logging): `pip install tensorflow`. The rest of keras_nas runs "
        "without it."
    ) from e

__all__ = ["inspect_dataset", "encode_labels"]

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


def encode_labels(dataset, task, one_hot=False):
    """The dataset with its labels as the model's targets."""
    if task.kind == "regression":
        return dataset.map(lambda x, y: (x, tf.cast(y, "float32")))
    keys = tf.constant(list(task.classes))
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
