"""Keras callbacks that every candidate of a search trains with.

- `KeepBestWeights`: the best epoch's weights and logs, kept in memory and
  restored at the end, so the checkpoint of a trial is the model that scored
  its value (Keras' `EarlyStopping(restore_best_weights=True)` restores only
  when it stops early).
- TensorBoard: each trial writes its epoch scalars into its own run,
  `<log_dir>/trial_<id>`. This needs no TensorFlow here; writing the search's
  own summaries does, and lives in `analysis.tensorboard`.
"""

import math
import os

import keras

from keras_nas.strategies import scores

__all__ = [
    "KeepBestWeights",
    "point_tensorboards_at_trial",
    "tensorboards",
    "trial_run_dir",
]


class KeepBestWeights(keras.callbacks.Callback):
    """Keeps the best epoch's weights and logs in memory; restores them at the
    end of training.

    The state resets in `on_train_begin`, so one instance serves many fits.

    Args:
        objective: A `keras_tuner.Objective`: the log it watches and its
            direction. Epochs where it is missing or not finite are skipped;
            of epochs exactly tied on it, the one with the lower loss on the
            same data wins (`strategies.scores.better`).
    """

    def __init__(self, objective):
        super().__init__()
        self.objective = objective
        self.best_value = None
        self.best_logs = None
        self.best_weights = None
        self.best_epoch = None

    def on_train_begin(self, logs=None):
        self.best_value = None
        self.best_logs = None
        self.best_weights = None
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.objective.name)
        if value is None or not math.isfinite(float(value)):
            return
        if scores.better(float(value), logs, self.best_value,
                         self.best_logs, self.objective):
            self.best_value = float(value)
            self.best_logs = {k: float(v) for k, v in logs.items()}
            self.best_epoch = epoch
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def tensorboards(callbacks):
    """The `keras.callbacks.TensorBoard` instances among `callbacks`."""
    return [c for c in callbacks
            if isinstance(c, keras.callbacks.TensorBoard)]


def trial_run_dir(log_dir, trial_id):
    """The TensorBoard run of a trial: `<log_dir>/trial_<id>`."""
    return os.path.join(str(log_dir), f"trial_{trial_id}")


def point_tensorboards_at_trial(callbacks, trial_id):
    """Each TensorBoard callback among `callbacks` (a trial's own copies)
    writes into the trial's run, `<log_dir>/trial_<id>/{train,validation}`."""
    for callback in tensorboards(callbacks):
        callback.log_dir = trial_run_dir(callback.log_dir, trial_id)
