"""Keras callbacks that every candidate of a search trains with.

- `KeepBestWeights`: the best epoch's weights and logs, kept in memory and
  restored at the end, so the checkpoint of a trial is the model that scored
  its value (Keras' `EarlyStopping(restore_best_weights=True)` restores only
  when it stops early).
- `RungCallback`: successive halving at each rung of a trial
  (`schedulers.halving`): its best value so far goes into the search's
  `RungTable`, its weights and optimizer state into its rung checkpoint,
  and it stops unless it is in the top `1/eta` (or, in the promotion form,
  whatever the table says; the oracle decides later whether it goes on).
- TensorBoard: each trial writes its epoch scalars into its own run,
  `<log_dir>/trial_<id>`. This needs no TensorFlow here; writing the search's
  own summaries does, and lives in `analysis.tensorboard`.
"""

import json
import math
import os

import keras

from keras_nas._atomic import weights_bytes, write_atomic, write_text_atomic
from keras_nas.strategies import scores

__all__ = [
    "KeepBestWeights",
    "RungCallback",
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


class RungCallback(keras.callbacks.Callback):
    """Judges a trial at each rung: records its best objective so far in
    the `RungTable`, saves its weights for a resume, and stops its training
    unless it is in the top `1/eta`. One instance per trial.

    Args:
        table: The search's `schedulers.rungs.RungTable` (or a table with
            its `report`, as the Ray engine's `RemoteRungTable`).
        trial_id: The trial's id.
        objective: The `keras_tuner.Objective`.
        rungs: Rung epochs, from `Halving.rungs`.
        checkpoint: Where the weights at the last rung go.
        reached: `{rung index: value}` already reached (a trial resumed
            from a rung, or one continuing a promoted candidate). Defaults
            to `None`.
        stop_at_rung: Stop at the first rung whatever the table says (the
            promotion form: the oracle decides later whether it goes on).
            Defaults to `False`.
    """

    def __init__(self, table, trial_id, objective, rungs, checkpoint,
                 reached=None, stop_at_rung=False):
        super().__init__()
        self.stop_at_rung = stop_at_rung
        self.table = table
        self.trial_id = trial_id
        self.objective = objective
        self.rungs = list(rungs)
        self.checkpoint = checkpoint
        self.reached = dict(reached or {})
        self.best = None
        self.stopped_at = None

    def on_train_begin(self, logs=None):
        # A trial resumed from a rung goes on from that rung's best value.
        self.best = self.reached[max(self.reached)] if self.reached else None
        self.stopped_at = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.objective.name)
        if value is not None and math.isfinite(float(value)) and (
                self.best is None
                or self.objective.better_than(float(value), self.best)):
            self.best = float(value)
        done = epoch + 1
        if done not in self.rungs or self.best is None:
            return
        index = self.rungs.index(done)
        self.reached[index] = self.best
        write_atomic(self.checkpoint, self.model.save_weights,
                     size=weights_bytes(self.model))
        write_text_atomic(self.checkpoint + ".json", json.dumps(
            {"epoch": done, "rung": index, "reached": self.reached}))
        goes_on = self.table.report(done, self.trial_id, self.best)
        if self.stop_at_rung or not goes_on:
            self.stopped_at = index
            self.model.stop_training = True

    def metrics(self):
        """What the trial's record keeps of its rungs."""
        metrics = {f"rung_{i}": v for i, v in self.reached.items()}
        metrics["rung"] = float(max(self.reached) if self.reached else -1)
        metrics["stopped"] = float(self.stopped_at is not None)
        return metrics


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
