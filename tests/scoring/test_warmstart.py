"""What a search trains first: the initial architectures, then the best of
a training-free ranking, within the warm start's share of the search."""

import dataclasses
import json
import os

import pytest

from keras_nas import NASSearch, SearchSpace, Strategy
from keras_nas.scoring.warmstart import DEFAULT_ARCHITECTURES, WarmStart

from tests.conftest import digits, tabular


@pytest.mark.parametrize("kwargs, match", [
    (dict(proxies=("nasbot",)),
     r"`proxies` must be a non-empty list .*Received: proxies=\('nasbot',\)"),
    (dict(proxies=()), r"Received: proxies=\(\)"),
    (dict(proxies="naswot"), r"Received: proxies='naswot'"),
    (dict(pool_size=1), "`pool_size` must be an integer of at least 2. "
     "Received: pool_size=1"),
    (dict(pool_size=10.0), r"Received: pool_size=10.0"),
    (dict(count=0), "`count` must be an integer of at least 1. Received: "
     "count=0"),
    (dict(count=2.5), r"Received: count=2.5"),
    (dict(count=True), r"Received: count=True"),
    (dict(budget_share=0), r"Received: budget_share=0"),
    (dict(budget_share=1.5), r"Received: budget_share=1.5"),
])
def test_warm_start_checks_every_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WarmStart(**kwargs)


def test_warm_start_is_frozen_and_its_config_round_trips():
    warm = WarmStart(pool_size=8, proxies=["naswot"], count=3,
                     budget_share=None)
    assert warm.proxies == ("naswot",)  # A list is kept as a tuple.
    with pytest.raises(dataclasses.FrozenInstanceError):
        warm.count = 5
    config = warm.get_config()
    assert config == {"pool_size": 8, "proxies": ["naswot"], "count": 3,
                      "budget_share": None}
    assert WarmStart.from_config(config) == warm
    assert WarmStart.from_config(config).get_config() == config
    assert WarmStart.from_config(WarmStart().get_config()) == WarmStart()
    assert WarmStart(count=None).count is None


def test_warm_start_seeds_the_population(tmp_path, capsys):
    (x, y), _ = digits(300)
    search = NASSearch(max_trials=3, seed=0, directory=str(tmp_path),
                       # Scored in full: a tenth of 3 short trials is less
                       # than scoring takes, and the default would skip.
                       warm_start=WarmStart(pool_size=6, count=2,
                                            budget_share=None),
                       initial_architectures=[],
                       strategy=Strategy("evolution", population_size=2))
    search.fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "warm start: scored " in out and "training the best 2 first" in out
    ranked = json.load(open(tmp_path / "search" / "warm_start.json"))["ops"]
    assert len(ranked) == 2
    records = search.results()
    assert [r.ops for r in records[:2]] == ranked
    # The two seeded the whole population (of 2): the third, evolved from
    # them, retired the oldest.
    assert search.tuner.oracle.population == ["1", "2"]
    assert records[2].ops not in ranked


def test_warm_start_keeps_to_its_share_of_a_short_search(tmp_path, capsys):
    x, y = tabular(80)
    search = NASSearch(max_trials=1, seed=0, directory=str(tmp_path),
                       initial_architectures=[])
    search.fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "warm start: skipped; scoring candidates would take more" in out
    assert "spent timing a step" in out
    saved = json.load(open(tmp_path / "search" / "warm_start.json"))
    assert saved["ops"] == [] and saved["scored"] == 0
    with pytest.raises(ValueError, match="budget_share"):
        WarmStart(budget_share=0)


def test_no_step_is_timed_when_the_initial_architectures_fill_the_search(
        tmp_path, capsys):
    x, y = tabular(80)
    first = [["dense-16"], ["dense-32", "dropout"]]
    search = NASSearch(max_trials=2, seed=0, directory=str(tmp_path),
                       initial_architectures=first)
    search.fit(x, y, epochs=1, verbose=1)
    assert ("warm start: skipped; the 2 initial architectures fill all 2 "
            "trials") in capsys.readouterr().out
    assert [r.ops for r in search.results()] == first
    # Nothing was ranked, so nothing is saved for a resume to replay.
    assert not os.path.exists(tmp_path / "search" / "warm_start.json")


def test_initial_architectures_train_first_and_are_checked(tmp_path):
    x, y = tabular(80)
    first = [["dense-16", "dropout"], ["dense-32"]]
    search = NASSearch(max_trials=3, seed=0, directory=str(tmp_path),
                       strategy="random", initial_architectures=first,
                       warm_start=False)
    search.fit(x, y, epochs=1, verbose=0)
    assert [r.ops for r in search.results()[:2]] == first
    bad = NASSearch(max_trials=1, directory=str(tmp_path), project_name="b",
                    initial_architectures=[["conv3x3-16"]])
    with pytest.raises(ValueError, match=r"initial_architectures\[0\]"):
        bad.fit(x, y, epochs=1, verbose=0)
    assert not os.path.exists(tmp_path / "b" / "trial_0")  # No training.
    with pytest.raises(ValueError, match="list of op lists"):
        NASSearch(initial_architectures="dense-16")


def test_the_conventional_text_models_pool_over_positions():
    # A dense op flattens what it gets: on a token sequence, that learns
    # each word anew at each position. The default text space can pool
    # instead, and its conventional models do.
    space = SearchSpace(kind="text", vocabulary_size=50).bind((20,))
    assert {"gmp", "gap"} <= set(space.ops)
    for ops in DEFAULT_ARCHITECTURES["text"]:
        assert space.check(ops) is None, ops
        steps = space.plan(ops).steps
        assert not [s.op for s in steps if s.op == "flatten"
                    and len(s.input_shape) > 1], ops
