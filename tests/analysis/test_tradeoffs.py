"""Trade-offs in a search: budgets on FLOPs and latency that are never
trained, several objectives (NSGA-II), the Pareto front, the best model's
rule, and why the winner won, on real Keras models."""

import glob
import os

import keras_tuner
import numpy as np
import pytest

from keras_nas import Latency, NASSearch, SearchSpace, Strategy, cli
from keras_nas.analysis import importance
from keras_nas.scoring import latency
from keras_nas.strategies import pareto
from keras_nas.data.task import Task

from tests.conftest import tabular

# Tabular candidates whose cost spans two orders of magnitude.
OPS = ["dense-16", "dense-64", "dense-256", "dropout"]


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    """An evolution search on accuracy against size, with a FLOPs budget."""
    directory = tmp_path_factory.mktemp("multi")
    x, y = tabular(200)
    search = NASSearch(
        SearchSpace(OPS, max_depth=3, max_flops=20_000),
        objective=["val_accuracy", "params"], max_trials=8, seed=3,
        directory=str(directory), warm_start=False, initial_architectures=[],
        strategy=Strategy("evolution", population_size=4))
    search.fit(x, y, epochs=1, verbose=0)
    return search


def test_a_flops_budget_is_never_trained_nor_counted_as_a_failure(multi):
    records = multi.results()
    assert len(records) == 8
    assert all(r.status == "COMPLETED" for r in records)
    assert all(r.flops <= 20_000 for r in records)
    # The space holds candidates over the budget: they were proposed
    # away, not trained.
    over = ["dense-256", "dense-256"]
    assert multi.space_.check(over) == (
        "73472 multiply-adds exceed max_flops=20000")


def test_the_front_is_truly_non_dominated(multi):
    done = [r for r in multi.results() if r.value is not None]
    front = multi.pareto_front()
    assert front
    ids = {r.trial_id for r in front}

    def point(r):
        return [r.objectives["val_accuracy"], r.objectives["params"]]

    for r in done:
        beaten = any(pareto.dominates(point(o), point(r), ["max", "min"])
                     for o in done)
        assert (r.trial_id in ids) == (not beaten), r
    assert [r.params for r in front] == sorted(r.params for r in front)


def test_the_best_model_is_best_on_the_primary_objective(multi):
    done = [r for r in multi.results() if r.value is not None]
    best = max(r.objectives["val_accuracy"] for r in done)
    chosen = multi.results_.best_trial().trial_id
    record = next(r for r in done if r.trial_id == chosen)
    assert record.value == record.objectives["val_accuracy"] == best
    # Any trial of the front can be taken instead, trained.
    smallest = multi.pareto_front()[0]
    model = multi.best_model(trial_id=smallest.trial_id)
    assert model.count_params() == smallest.params
    with pytest.raises(ValueError, match="trial_id"):
        multi.best_model(trial_id="999")


def test_several_objectives_reach_the_summary_report_and_reload(
        multi, capsys):
    multi.summary()
    out = capsys.readouterr().out
    assert "objectives: val_accuracy (max), params (min)" in out
    front = {r.trial_id for r in multi.pareto_front()}
    marked = {line[1:5].strip() for line in out.splitlines()
              if line and line[0] in "*+"}
    assert marked == front
    again = NASSearch.load(multi.directory, multi.project_name)
    assert [o.name for o in again.objectives()] == ["val_accuracy", "params"]
    assert [r.trial_id for r in again.pareto_front()] == [
        r.trial_id for r in multi.pareto_front()]
    assert again.best_architecture() == multi.best_architecture()
    assert cli.main(["report", multi.project_dir]) == 0
    out = capsys.readouterr().out
    assert "Pareto front (val_accuracy against params):" in out
    assert "Why the best won:" in out
    assert os.path.getsize(os.path.join(multi.project_dir,
                                        "importance.png")) > 5000
    fig = multi.plot_tradeoff()
    assert fig.axes[0].get_xlabel() == "parameters"


def test_importance_on_a_search(multi):
    result = multi.importance(n_bootstrap=200)
    assert result.objective == "val_accuracy"
    assert result.n_completed == 8
    assert result.message
    assert importance.format_importance(result).startswith(result.message)


def test_importance_says_when_there_are_too_few_trials(tmp_path):
    x, y = tabular(120)
    search = NASSearch(SearchSpace(OPS, max_depth=2), max_trials=3, seed=0,
                       directory=str(tmp_path), warm_start=False)
    search.fit(x, y, epochs=1, verbose=0)
    result = search.importance()
    assert not result.conclusive and result.effects == []
    assert "Too few completed trials" in result.message


def test_a_latency_budget_rejects_before_training_and_is_reported(tmp_path,
                                                                   capsys):
    x, y = tabular(120)
    space = SearchSpace(["dense-16", "dense-32"], max_depth=2)
    with pytest.raises(ValueError, match="latency max_ms=1e-06"):
        NASSearch(space, latency=Latency(max_ms=1e-6),
                  directory=str(tmp_path),
                  warm_start=False).fit(x, y, epochs=1, verbose=0)
    assert not glob.glob(str(tmp_path / "search" / "trial_*"))
    latency.clear_cache()  # So that this search measures anew.
    search = NASSearch(space, objective=["val_accuracy", "latency_ms"],
                       strategy="random", latency=Latency(max_ms=1000.0),
                       max_trials=3,
                       seed=0, directory=str(tmp_path), overwrite=True,
                       warm_start=False)
    search.fit(x, y, epochs=1, verbose=0)
    for r in search.results():
        assert 0 < r.objectives["latency_ms"] <= 1000.0
    search.summary()
    assert "Latency measured for" in capsys.readouterr().out


def test_latency_budget_as_a_space_constraint():
    latency.clear_cache()
    meter = latency.LatencyMeter(repeats=3, activation="sigmoid")
    space = SearchSpace(["dense-16", "dense-32"], max_depth=2).bind(
        (30,), constraints=[latency.LatencyBudget(1000.0, meter)])
    assert space.check(["dense-16"]) is None
    measured = meter.measured
    ms = meter(space, ["dense-16"])
    budget = latency.LatencyBudget(ms / 1e6, meter)
    assert "exceeds latency max_ms=" in budget(space, ["dense-16"])
    assert meter.measured == measured  # Asked again: served from the cache.
    assert meter.seconds > 0


@pytest.mark.parametrize("kwargs, error, match", [
    ({"objective": ["val_accuracy", "params"], "strategy": "bayesian"},
     ValueError, "optimizes one objective"),
    ({"objective": ["val_accuracy", 3]}, TypeError, "objective"),
    ({"latency": {"max_ms": 5}}, TypeError, "`latency` must be a "),
])
def test_bad_tradeoff_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        NASSearch(**kwargs)


@pytest.mark.parametrize("option, kwargs, match", [
    (Latency, {"max_ms": -1}, "max_ms=-1"),
    (Latency, {"max_ms": True}, "max_ms=True"),
    (Latency, {"batch_size": 0}, "batch_size=0"),
    (SearchSpace, {"max_flops": 0}, "max_flops=0"),
    (SearchSpace, {"max_params": "big"}, "max_params='big'"),
])
def test_bad_budgets_are_named_by_their_option(option, kwargs, match):
    with pytest.raises(ValueError, match=match):
        option(**kwargs)


def test_objective_lists_are_checked_before_training():
    task = Task("binary", classes=(0, 1))
    with pytest.raises(ValueError, match="needs a trained metric"):
        task.objective(["params", "flops"])
    with pytest.raises(ValueError, match="two or more different"):
        task.objective(["val_accuracy", "val_accuracy"])
    with pytest.raises(ValueError, match="only in a list"):
        task.objective("params")
    with pytest.raises(ValueError, match="max_flops"):
        SearchSpace(max_flops=0)
    members = task.objective(["val_accuracy", "flops"])
    assert [(o.name, o.direction) for o in members] == [
        ("val_accuracy", "max"), ("flops", "min")]


def test_random_search_takes_several_objectives(tmp_path):
    x, y = tabular(120)
    search = NASSearch(SearchSpace(OPS, max_depth=2), strategy="random",
                       objective=["val_accuracy",
                                  keras_tuner.Objective("flops", "min")],
                       max_trials=3, seed=0, directory=str(tmp_path),
                       warm_start=False)
    search.fit(x, y, epochs=1, verbose=0)
    records = search.results()
    assert all(r.status == "COMPLETED" for r in records)
    assert all(set(r.objectives) == {"val_accuracy", "flops"}
               for r in records)
    assert search.config.halving_in_use() is None  # Off by default with several.
    assert np.isfinite(search.evaluate(x, y)[0])
