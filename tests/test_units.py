"""Small unit tests of single pieces, in milliseconds, beside the
end-to-end ones (as Keras' `early_stopping_test.py` checks its callback
on a dummy model)."""

import os

import keras
import keras_tuner

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


def test_of_epochs_tied_on_the_objective_the_lower_val_loss_is_kept():
    model = dummy_model()
    keep = KeepBestWeights(MAX)
    keep.set_model(model)
    keep.on_train_begin()
    logs = [(0.9, 0.5), (1.0, 0.4), (1.0, 0.2), (1.0, 0.3), (1.0, None)]
    for epoch, (value, loss) in enumerate(logs):
        model.layers[0].kernel.assign([[float(epoch)]])
        keep.on_epoch_end(epoch, {"val_accuracy": value, "val_loss": loss}
                          if loss is not None else {"val_accuracy": value})
    keep.on_train_end()
    assert keep.best_epoch == 2 and keep.best_logs["val_loss"] == 0.2
    assert float(model.layers[0].kernel.numpy()[0, 0]) == 2.0
    # A loss objective has no tie-breaker: the first of the tied stays.
    keep = KeepBestWeights(keras_tuner.Objective("val_loss", "min"))
    keep.set_model(model)
    keep.on_train_begin()
    for epoch, acc in enumerate([0.5, 0.9]):
        keep.on_epoch_end(epoch, {"val_loss": 0.3, "val_accuracy": acc})
    assert keep.best_epoch == 0


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


def test_progress_format_and_estimate(capsys):
    assert format_seconds(42) == "0:42" and format_seconds(3723) == "1:02:03"
    progress = Progress(10, verbose=1)
    progress.status(1)
    progress.start -= 20  # 20 s for the first 2 trials: 10 s a trial.
    assert progress.status(2) == "[2/10 0:20 ~1:20 left]"
    budget = Progress(10, verbose=1, max_time_s=30)
    budget.start -= 10  # 90 s at this pace, but only 20 s of budget left.
    assert budget.status(1) == "[1/10 0:10 ~0:20 left]"


def test_tensorboard_runs_per_trial():
    board = keras.callbacks.TensorBoard(log_dir="logs")
    point_tensorboards_at_trial([board, keras.callbacks.History()], "3")
    assert board.log_dir == os.path.join("logs", "trial_3")
