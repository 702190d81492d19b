"""Configs that round-trip: SearchSpace and NASSearch, and `load()` built
on them, reporting, resuming and continuing exactly what ran."""

import inspect
import re

import keras
import keras_tuner
import pytest

import keras_nas
from keras_nas import Halving, NASSearch, SearchConfig, SearchSpace, WarmStart

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
        seed=3, training=keras_nas.Training(
            metrics=[keras.metrics.AUC(name="auc")], optimizer="sgd",
            patience=1, steps_per_execution=4),
        halving=False, max_time_s=60.0,
        initial_architectures=[["dense-16"]],
        warm_start=WarmStart(pool_size=10, proxies=("naswot",), count=2),
        engine=keras_nas.KerasTunerEngine(workers=2, trials_per_process=3))
    config = search.get_config()
    assert config["max_time_s"] == 60.0 and "max_time" not in config
    assert "workers" not in config
    assert config["engine"] == {"name": "keras_tuner", "workers": 2,
                                "timeout_s": None, "trials_per_process": 3,
                                "pack_size": "auto"}
    again = NASSearch.from_config(config)
    assert again.get_config() == config
    assert isinstance(again.config.training.metrics[0], keras.metrics.AUC)
    assert again.config.warm_start == WarmStart(
        pool_size=10, proxies=("naswot",), count=2)
    assert again.config.engine == keras_nas.KerasTunerEngine(
        workers=2, trials_per_process=3)


def test_nas_search_takes_sixteen_arguments_and_no_other_spelling():
    assert list(inspect.signature(NASSearch).parameters) == [
        "space", "strategy", "objective", "max_trials", "max_time_s",
        "directory", "project_name", "overwrite", "seed", "task",
        "training", "halving", "warm_start", "initial_architectures",
        "latency", "engine"]
    # keras_nas 0.1 was never released: its spellings are simply unknown.
    for old in ("workers", "max_time", "log_dir", "metrics", "max_params",
                "strategy_options"):
        with pytest.raises(TypeError, match=f"unexpected keyword argument "
                           f"'{old}'"):
            NASSearch(**{old: 1})


@pytest.mark.parametrize("name, option", [("halving", Halving),
                                          ("warm_start", WarmStart)])
def test_on_off_options_take_none_false_or_their_object(name, option):
    assert getattr(SearchConfig(**{name: None}), name) is None
    assert getattr(SearchConfig(**{name: False}), name) is False
    value = option()
    assert getattr(SearchConfig(**{name: value}), name) is value
    # A saved config's dict is read back as the option object.
    assert getattr(SearchConfig(**{name: value.get_config()}),
                   name) == value
    with pytest.raises(ValueError, match=re.escape(
            f"`{name}=True` is not accepted: pass "
            f"`{name}=keras_nas.{option.__name__}()`")):
        NASSearch(**{name: True})
    with pytest.raises(ValueError, match=f"`{name}` must be None .*"
                       f"Received: {name}='yes'"):
        NASSearch(**{name: "yes"})


def test_none_is_on_where_it_applies_and_resolved_by_the_config_alone():
    config = SearchConfig()
    assert config.halving is None and config.warm_start is None
    assert config.halving_in_use() == Halving()
    assert config.warm_start_in_use() == WarmStart()
    off = SearchConfig(halving=False, warm_start=False)
    assert off.halving_in_use() is None and off.warm_start_in_use() is None
    # Hyperband halves and orders trials itself; several objectives halve
    # only when asked.
    hyperband = SearchConfig(strategy="hyperband")
    assert hyperband.halving_in_use() is None
    assert hyperband.warm_start_in_use() is None
    several = SearchConfig(objective=["val_accuracy", "params"])
    assert several.halving_in_use() is None
    assert SearchConfig(objective=["val_accuracy", "params"],
                        halving=Halving(min_epochs=2)).halving_in_use() == (
        Halving(min_epochs=2))
    with pytest.raises(ValueError, match="strategy='hyperband'"):
        SearchConfig(strategy="hyperband", halving=Halving())


def test_trials_per_process_needs_workers():
    with pytest.raises(ValueError, match=re.escape(
            "`trials_per_process` needs `workers` of at least 1, since only "
            "worker processes can be replaced. Received: "
            "trials_per_process=2, workers=0.")):
        keras_nas.KerasTunerEngine(trials_per_process=2)
    with pytest.raises(ValueError, match="workers=-1"):
        keras_nas.KerasTunerEngine(workers=-1)
    engine = keras_nas.KerasTunerEngine(workers=1, trials_per_process=2)
    assert keras_nas.KerasTunerEngine.from_config(engine.get_config()) == (
        engine)


def test_load_reports_resumes_and_continues_what_ran(tmp_path, capsys):
    x, y = tabular(100)
    search = NASSearch(max_trials=2, directory=str(tmp_path), seed=0,
                       project_name="p", warm_start=False)
    search.fit(x, y, epochs=1, verbose=0)
    capsys.readouterr()
    reopened = NASSearch.load(str(tmp_path), "p")
    assert reopened.get_config() == dict(search.get_config())
    reopened.summary()
    assert "strategy: auto (local search, ridge predictor)" in (
        capsys.readouterr().out)
    assert reopened.results() == search.results()
    # Continue the same search: two more trials, the first two kept.
    reopened = NASSearch.load(str(tmp_path), "p", max_trials=4)
    reopened.fit(x, y, epochs=1, verbose=0)
    records = reopened.results()
    assert [r.trial_id for r in records] == ["0", "1", "2", "3"]
    assert records[:2] == search.results()
