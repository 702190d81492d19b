"""Small unit tests of single pieces, in milliseconds, beside the
end-to-end ones (as Keras' `early_stopping_test.py` checks its callback
on a dummy model)."""

import json
import os

import keras
import keras_tuner
import pytest

from keras_nas.strategies import halving
from keras_nas.engine.callbacks import KeepBestWeights, point_tensorboards_at_trial
from keras_nas.analysis.progress import Progress, format_seconds
from keras_nas.engine.failures import FailurePolicy, reason_of

MAX = keras_tuner.Objective("val_accuracy", "max")


def dummy_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_keep_best_weights_restores_the_best_epoch_and_resets():
    model = dummy_model()
    keep = KeepBestWeights(MAX)
    keep.set_model(model)
    for run in range(2):  # One instance serves many fits.
        keep.on_train_begin()
        for epoch, value in enumerate([0.5, 0.9, float("nan"), 0.7]):
            model.layers[0].kernel.assign([[float(epoch)]])
            keep.on_epoch_end(epoch, {"val_accuracy": value})
        keep.on_train_end()
        assert keep.best_epoch == 1 and keep.best_value == 0.9
        assert float(model.layers[0].kernel.numpy()[0, 0]) == 1.0


def test_failure_policy_tells_architecture_from_setup():
    policy = FailurePolicy(3)
    assert policy.record(completed=True, architecture=False) is None
    for _ in range(10):  # Diverging architectures never stop it now.
        assert policy.record(completed=False, architecture=True) is None
    assert policy.record(completed=False, architecture=False) is None
    assert policy.record(completed=False, architecture=True) is None
    assert policy.record(completed=False, architecture=False) is None
    assert "3 trials in a row" in policy.record(False, architecture=False)
    fresh = FailurePolicy(2)
    for _ in range(5):  # No trial has worked yet, but that is searching.
        assert fresh.record(False, architecture=True) is None
    assert "first 6 trials all failed" in fresh.record(False, True)


def test_reason_of_a_traceback():
    message = ("Traceback...\n  File x\nkeras_nas.failures.ArchitectureFailure: "
               "loss became nan at epoch 2\n")
    assert reason_of(message) == "loss became nan at epoch 2"
    assert reason_of(None) is None


def test_rung_epochs_and_table(tmp_path):
    assert halving.Halving(None, 3).rungs(10) == [3, 9]
    assert halving.Halving(None, 3).rungs(30) == [10]
    assert halving.Halving(1, 3).rungs(10) == [1, 3, 9]
    assert halving.Halving(2, 2).rungs(10) == [2, 4, 8]
    assert halving.Halving(None, 3).rungs(1) == []
    with pytest.raises(ValueError, match="reduction_factor"):
        halving.Halving(reduction_factor=1)
    table = halving.RungTable(str(tmp_path), "max", 3)
    other = halving.RungTable(str(tmp_path), "max", 3)  # Another process.
    assert table.report(1, "0", 0.5)  # Alone: the best so far goes on.
    assert not other.report(1, "1", 0.4)
    assert other.report(1, "2", 0.6)
    assert not table.report(1, "3", 0.55)  # Top third of 4 is 1 trial.
    for i, v in enumerate([0.1, 0.2]):
        table.report(1, str(4 + i), v)
    assert table.report(1, "6", 0.58)  # Now the top 2 of 7 go on.
    assert table.values(1)["2"] == 0.6
    with open(os.path.join(tmp_path, "rungs.json")) as f:
        assert len(json.load(f)["1"]) == 7


def test_rung_callback_stops_a_losing_model(tmp_path):
    table = halving.RungTable(str(tmp_path), "max", 3)
    table.report(2, "0", 0.9)
    table.report(2, "1", 0.8)
    table.report(2, "2", 0.95)
    model = dummy_model()
    path = str(tmp_path / "rung.weights.h5")
    rung = halving.RungCallback(table, "3", MAX, [2, 6], path)
    rung.set_model(model)
    rung.on_train_begin()
    rung.on_epoch_end(0, {"val_accuracy": 0.5})
    assert not model.stop_training
    rung.on_epoch_end(1, {"val_accuracy": 0.6})
    assert model.stop_training and rung.stopped_at == 0
    assert rung.metrics() == {"rung_0": 0.6, "rung": 0.0, "stopped": 1.0}
    assert halving.resume_point(path) == (2, {0: 0.6})


class _Trial:
    def __init__(self, score, rungs):
        self.score = score
        self.metrics = keras_tuner.engine.trial.Trial(
            keras_tuner.HyperParameters()).metrics
        for i, v in rungs.items():
            self.metrics.register(f"rung_{i}")
            self.metrics.update(f"rung_{i}", v)


def test_compare_is_like_with_like():
    stopped = _Trial(0.80, {0: 0.80})  # Stopped at rung 0, after 1 epoch.
    full = _Trial(0.95, {0: 0.70, 1: 0.90})  # Went on to the top.
    assert halving.compare(stopped, full, "max")  # Better at rung 0...
    assert not halving.compare(full, stopped, "max")
    assert halving.compare(_Trial(0.9, {}), _Trial(0.8, {0: 0.99}), "max")


def test_progress_format_and_estimate(capsys):
    assert format_seconds(42) == "0:42" and format_seconds(3723) == "1:02:03"
    progress = Progress(10, verbose=1)
    progress.status(1)
    progress.start -= 20  # 20 s for the first 2 trials: 10 s a trial.
    assert progress.status(2) == "[2/10 0:20 ~1:20 left]"
    budget = Progress(10, verbose=1, max_time=30)
    budget.start -= 10  # 90 s at this pace, but only 20 s of budget left.
    assert budget.status(1) == "[1/10 0:10 ~0:20 left]"


def test_tensorboard_runs_per_trial():
    board = keras.callbacks.TensorBoard(log_dir="logs")
    point_tensorboards_at_trial([board, keras.callbacks.History()], "3")
    assert board.log_dir == os.path.join("logs", "trial_3")
