"""Each trial's predictions on the validation data, saved with it.

An ensemble of the searched models (`analysis.ensemble`, `front.ensemble`)
is chosen on what each model predicts for the validation samples at its
best epoch: the weights its checkpoint holds. So when a trial ends, its
model (its best epoch's weights restored) predicts the validation inputs
once, and the result goes into the trial's folder as `val_predictions.npy`
(float32, one row per validation sample). The labels, the same for every
trial of a search (its split is seeded once), go once into the project
folder as `validation_labels.npy`, as the model's loss sees them (class
indices, one-hot rows, 0/1 or values).

A trial whose validation labels differ from the project's (a tf.data
validation set that reshuffles at each pass, or a resumed search given
other validation data) saves none: its predictions would be compared with
the wrong samples. The predictions come from the model's plain call in
batches, without a compiled predict function, whose trace would cost more
than the predictions themselves; no weight, metric or seed of the trial
changes.
"""

import logging
import os

import numpy as np

from keras_nas._atomic import write_atomic

__all__ = ["LABELS", "PREDICTIONS", "labels_path", "predict",
           "predictions_path", "read", "save", "validation_arrays",
           "write_labels"]

_logger = logging.getLogger(__name__)

#: A trial's validation predictions, in its folder.
PREDICTIONS = "val_predictions.npy"
#: The search's validation labels, in its project folder.
LABELS = "validation_labels.npy"
#: Samples per call of the model.
BATCH_SIZE = 256


def predictions_path(trial_dir):
    return os.path.join(trial_dir, PREDICTIONS)


def labels_path(project_dir):
    return os.path.join(project_dir, LABELS)


def validation_arrays(validation_data):
    """`(x, y)` NumPy arrays of `fit`'s validation data: a tuple's first two
    items, or a tf.data dataset's, read once in order; `None` without."""
    if validation_data is None:
        return None
    if isinstance(validation_data, (tuple, list)):
        return np.asarray(validation_data[0]), np.asarray(validation_data[1])
    from keras_nas.data import tf_datasets

    return tf_datasets.arrays_of(validation_data)


def predict(model, x, batch_size=BATCH_SIZE):
    """`model`'s outputs for `x` as float32 `(samples, outputs)`."""
    x = np.asarray(x)
    outputs = [np.asarray(model(x[i:i + batch_size], training=False))
               for i in range(0, len(x), batch_size)]
    out = np.concatenate(outputs).astype("float32")
    return out.reshape(len(out), -1)


def _write_array(path, array):
    def write(tmp):
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)

    write_atomic(path, write, size=array.nbytes + 1024)


def write_labels(project_dir, labels):
    """Write the search's validation labels unless the same are there.

    Returns:
        Whether the project's labels are `labels` now: `False` when it held
        other ones (then nothing is written).
    """
    labels = np.asarray(labels)
    path = labels_path(project_dir)
    saved = read(path)  # None when missing or damaged: written afresh.
    if saved is not None:
        return saved.shape == labels.shape and np.array_equal(saved, labels)
    _write_array(path, labels)
    return True


def save(tuner, trial_id, model, validation_data):
    """Save `model`'s validation predictions in trial `trial_id`'s folder
    (and the labels in the project folder, the first time).

    Returns:
        The path written, or `None` (no validation data, or labels that
        differ from the project's).
    """
    arrays = validation_arrays(validation_data)
    if arrays is None:
        return None
    x, y = arrays
    if not write_labels(tuner.project_dir, y):
        _logger.warning(
            "Trial %s: its validation labels differ from those saved in %s "
            "(a validation dataset that reshuffles, or other validation "
            "data than the search's first fit), so its predictions are not "
            "saved and ensembles leave it out.", trial_id,
            labels_path(tuner.project_dir))
        return None
    path = predictions_path(tuner.get_trial_dir(trial_id))
    _write_array(path, predict(model, x))
    return path


def read(path):
    """The array saved at `path`, or `None` if it is missing or damaged."""
    if not os.path.exists(path):
        return None
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
