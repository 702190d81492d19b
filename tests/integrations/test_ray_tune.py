"""`NASSearcher`'s bookkeeping, in this process: Ray Tune's `Searcher`
calls made by hand (no Ray process starts; the Tuner run is in
test_ray_engine.py)."""

import pytest

pytest.importorskip("ray.tune", reason="NASSearcher needs keras-nas[ray]")

import keras_nas  # noqa: E402
from keras_nas.integrations.ray_tune import NASSearcher  # noqa: E402
from keras_nas.strategies import LocalSearchOracle  # noqa: E402
from ray.tune.search import Searcher  # noqa: E402


def make(tmp_path, name="a", **kwargs):
    return NASSearcher(
        keras_nas.SearchSpace(max_depth=3, max_params=20_000), (8, 8, 1), 10,
        seed=0, metric="val_accuracy", mode="max",
        directory=str(tmp_path / name), strategy=keras_nas.Strategy(
            "evolution", population_size=2, sample_size=2), **kwargs)


def test_the_default_strategy_is_nas_search_s(tmp_path):
    searcher = NASSearcher(
        keras_nas.SearchSpace(max_depth=3), (8, 8, 1), 10, seed=0,
        metric="val_accuracy", mode="max", directory=str(tmp_path / "d"))
    config = searcher.suggest("t0")
    oracle = searcher.oracle
    assert type(oracle) is LocalSearchOracle and oracle.predictor is not None
    assert config["ops"] == list(searcher.space.decode(
        oracle.trials[config["nas_trial_id"]].hyperparameters))


def test_suggest_complete_save_restore(tmp_path):
    searcher = make(tmp_path, max_trials=4)
    first = searcher.suggest("t0")
    second = searcher.suggest("t1")
    assert first["ops"] != second["ops"]
    model = searcher.build(first)  # The trainable's model of the ops.
    assert model.output_shape == (None, 10)
    # The options of `Strategy` reached the oracle; the space's budget
    # bounds what it proposes.
    assert searcher.oracle.population_size == 2
    assert searcher.space.max_params == 20_000
    for config in (first, second):
        assert searcher.build(config).count_params() <= 20_000
    searcher.on_trial_complete("t0", {"val_accuracy": 0.5})
    searcher.on_trial_complete("t1", {"loss": 1.0})  # No metric: FAILED.
    statuses = {t.trial_id: t.status
                for t in searcher.oracle.trials.values()}
    assert sorted(statuses.values()) == ["COMPLETED", "FAILED"]

    path = tmp_path / "searcher.json"
    searcher.save(str(path))
    restored = make(tmp_path, "b", max_trials=4)
    restored.restore(str(path))
    # Evolution's population and random state came back with it.
    assert restored.suggest("t2") == searcher.suggest("t2")
    searcher.suggest("t3")
    assert searcher.suggest("t4") is Searcher.FINISHED  # max_trials.


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="mode='up'"):
        NASSearcher(keras_nas.SearchSpace(), (8, 8, 1), 10, mode="up")
    with pytest.raises(ValueError, match="max_trials=0"):
        NASSearcher(keras_nas.SearchSpace(), (8, 8, 1), 10, max_trials=0)
    searcher = NASSearcher(keras_nas.SearchSpace(), (8, 8, 1), 10,
                           directory=str(tmp_path))
    with pytest.raises(ValueError, match="metric=None"):
        searcher.suggest("t0")
