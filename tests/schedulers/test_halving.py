"""Successive halving's pure logic: the rungs, the top `1/eta` of a rung,
like-with-like comparison, and the `Halving` option object. The rung table
is tested in `test_rungs.py`, the callback in `tests/engine/test_callbacks.py`."""

import keras_tuner
import pytest

from keras_nas.schedulers import halving
from keras_nas.schedulers.halving import Halving


def test_rung_epochs():
    assert halving.Halving(None, 3).rungs(10) == [3, 9]
    assert halving.Halving(None, 3).rungs(30) == [10]
    assert halving.Halving(1, 3).rungs(10) == [1, 3, 9]
    assert halving.Halving(2, 2).rungs(10) == [2, 4, 8]
    assert halving.Halving(None, 3).rungs(1) == []
    with pytest.raises(ValueError, match="reduction_factor"):
        halving.Halving(reduction_factor=1)


def test_top_count_is_the_floor_of_n_over_eta():
    # ASHA (Li et al. 2020, Algorithm 2): floor(|rung| / eta) go on.
    assert [halving.top_count(n, 3) for n in range(10)] == [
        0, 0, 0, 1, 1, 1, 2, 2, 2, 3]
    assert [halving.top_count(n, 2) for n in range(6)] == [0, 0, 1, 1, 2, 2]
    assert halving.top_count(100, 4) == 25


def test_resume_point_reads_a_rung_checkpoint(tmp_path):
    path = str(tmp_path / "rung.weights.h5")
    assert halving.resume_point(path) is None  # Nothing saved yet.
    (tmp_path / "rung.weights.h5").write_bytes(b"weights")
    assert halving.resume_point(path) is None  # No info beside it.
    (tmp_path / "rung.weights.h5.json").write_text(
        '{"epoch": 3, "rung": 1, "reached": {"0": 0.5, "1": 0.6}}')
    assert halving.resume_point(path) == (3, {0: 0.5, 1: 0.6})
    (tmp_path / "rung.weights.h5.json").write_text('{"epoch": ')
    assert halving.resume_point(path) is None  # Damaged: from scratch.


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
