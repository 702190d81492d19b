"""Successive halving: the rungs, the rung table shared through the
project folder, the callback that stops a losing candidate, like-with-like
comparison, and the `Halving` option object."""

import json
import os

import keras
import keras_tuner
import pytest

from keras_nas.schedulers import halving
from keras_nas.schedulers.halving import Halving, halving_from_argument

MAX = keras_tuner.Objective("val_accuracy", "max")


def dummy_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


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
    def __init__(self, score, rungs, trial_id="0"):
        self.score, self.trial_id = score, trial_id
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


def test_common_scale_extends_partial_curves_by_the_mean_gain():
    a = _Trial(0.8, {0: 0.5, 1: 0.7, 2: 0.8}, "0")  # Alone at rung 2.
    b = _Trial(0.9, {0: 0.6, 1: 0.9}, "1")
    c = _Trial(0.4, {0: 0.4}, "2")                   # Stopped at rung 0.
    d = _Trial(0.3, {}, "3")                         # No rungs: its score.
    scaled = halving.common_scale([a, b, c, d])
    # Rung 1 is the highest two reached; 0 -> 1 gains 0.2 and 0.3.
    assert scaled == pytest.approx({"0": 0.7, "1": 0.9, "2": 0.65,
                                    "3": 0.3})
    # Halving off: the scores as they are.
    assert halving.common_scale([_Trial(0.5, {}, "0"),
                                 _Trial(0.6, {0: 0.4}, "1")]) == {
        "0": 0.5, "1": 0.6}


def test_halving_option_is_checked_and_round_trips():
    h = Halving(min_epochs=2, reduction_factor=4)
    assert Halving.from_config(h.get_config()) == h
    assert h.rungs(16) == halving.rung_epochs(2, 16, 4)
    with pytest.raises(ValueError, match="`reduction_factor` must be an "
                       "integer of at least 2. Received: reduction_factor=1"):
        Halving(reduction_factor=1)
    with pytest.raises(ValueError, match="min_epochs=0"):
        Halving(min_epochs=0)


def test_halving_argument_forms():
    assert halving_from_argument(None) is None  # On where it applies.
    assert halving_from_argument(False) is False
    assert halving_from_argument(True) == Halving()
    h = Halving(min_epochs=3)
    assert halving_from_argument(h) is h
    assert halving_from_argument(h.get_config()) == h
    with pytest.raises(ValueError, match="`halving` must be None.*"
                       "Received: halving='yes'"):
        halving_from_argument("yes")
