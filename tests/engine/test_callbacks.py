"""The callbacks every candidate trains with, each on a dummy model in
milliseconds: halving's `RungCallback` at each rung."""

import keras
import keras_tuner

from keras_nas.engine.callbacks import RungCallback
from keras_nas.schedulers import halving
from keras_nas.schedulers.rungs import RungTable

MAX = keras_tuner.Objective("val_accuracy", "max")


def dummy_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_rung_callback_stops_a_losing_model(tmp_path):
    table = RungTable(str(tmp_path), "max", 3)
    table.report(2, "0", 0.9)
    table.report(2, "1", 0.8)
    table.report(2, "2", 0.95)
    model = dummy_model()
    path = str(tmp_path / "rung.weights.h5")
    rung = RungCallback(table, "3", MAX, [2, 6], path)
    rung.set_model(model)
    rung.on_train_begin()
    rung.on_epoch_end(0, {"val_accuracy": 0.5})
    assert not model.stop_training
    rung.on_epoch_end(1, {"val_accuracy": 0.6})
    assert model.stop_training and rung.stopped_at == 0
    assert rung.metrics() == {"rung_0": 0.6, "rung": 0.0, "stopped": 1.0}
    assert halving.resume_point(path) == (2, {0: 0.6})


def test_rung_callback_lets_a_winner_on_unless_it_stops_at_each_rung(
        tmp_path):
    table = RungTable(str(tmp_path), "max", 2)
    for stop_at_rung in (False, True):
        model = dummy_model()
        rung = RungCallback(table, str(int(stop_at_rung)), MAX, [1],
                            str(tmp_path / f"{stop_at_rung}.weights.h5"),
                            stop_at_rung=stop_at_rung)
        rung.set_model(model)
        rung.on_train_begin()
        rung.on_epoch_end(0, {"val_accuracy": 0.9})  # The best so far.
        assert model.stop_training == stop_at_rung
        assert rung.metrics()["stopped"] == float(stop_at_rung)


def test_a_resumed_trial_goes_on_from_its_rung(tmp_path):
    table = RungTable(str(tmp_path), "max", 3)
    rung = RungCallback(table, "0", MAX, [1, 3], str(tmp_path / "w.h5"),
                        reached={0: 0.7})
    rung.set_model(dummy_model())
    rung.on_train_begin()
    assert rung.best == 0.7
    rung.on_epoch_end(1, {"val_accuracy": 0.6})  # Worse: the rung's kept.
    assert rung.best == 0.7 and rung.metrics()["rung"] == 0.0
