"""Configs that round-trip: SearchSpace and NASSearch, and `load()` built
on them, reporting, resuming and continuing exactly what ran."""

import keras
import keras_tuner
import pytest

from keras_nas import NASSearch, SearchSpace
from keras_nas.scoring.warmstart import WarmStart

from tests.conftest import tabular


def test_space_config_round_trips():
    space = SearchSpace(["dense-16", "dropout"], min_depth=2, max_depth=3,
                        learning_rate=[0.01, 0.001], max_params=900)
    again = SearchSpace.from_config(space.get_config())
    assert again.get_config() == space.get_config()
    bound = space.bind((30,), output_units=2)
    assert SearchSpace.from_config(bound.get_config()).get_config() == (
        bound.get_config())
    assert bound.input_shape == (30,) and bound.ops == ["dense-16", "dropout"]


def test_custom_ops_need_their_table():
    space = SearchSpace({"id": keras.layers.Identity, "dense-16": None})
    with pytest.raises(ValueError, match="Unknown op name 'id'"):
        SearchSpace.from_config(space.get_config())
    again = SearchSpace.from_config(space.get_config(),
                                    op_table=space.op_table)
    assert again.ops == ["id", "dense-16"]


def test_search_config_round_trips(tmp_path):
    search = NASSearch(
        SearchSpace(max_depth=3), "random",
        keras_tuner.Objective("val_auc", "max"), 7, directory=str(tmp_path),
        seed=3, metrics=[keras.metrics.AUC(name="auc")], optimizer="sgd",
        patience=1, halving=False, max_time=60.0,
        initial_architectures=[["dense-16"]],
        warm_start=WarmStart(pool_size=10, proxies=("naswot",)),
        steps_per_execution=4)
    config = search.get_config()
    again = NASSearch.from_config(config)
    assert again.get_config() == config
    assert isinstance(again.config.training.metrics[0], keras.metrics.AUC)


def test_load_reports_resumes_and_continues_what_ran(tmp_path, capsys):
    x, y = tabular(100)
    search = NASSearch(max_trials=2, directory=str(tmp_path), seed=0,
                       project_name="p", warm_start=False)
    search.fit(x, y, epochs=1, verbose=0)
    capsys.readouterr()
    reopened = NASSearch.load(str(tmp_path), "p")
    assert reopened.get_config() == dict(search.get_config())
    reopened.summary()
    assert "strategy: LocalSearchOracle" in capsys.readouterr().out
    assert reopened.results() == search.results()
    # Continue the same search: two more trials, the first two kept.
    reopened = NASSearch.load(str(tmp_path), "p", max_trials=4)
    reopened.fit(x, y, epochs=1, verbose=0)
    records = reopened.results()
    assert [r.trial_id for r in records] == ["0", "1", "2", "3"]
    assert records[:2] == search.results()
