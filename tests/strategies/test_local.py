"""`LocalSearchOracle`: first and best improvement, restarts, no
duplicates, an exact resume, the like-with-like comparison under halving,
and a planted landscape solved far sooner than at random."""

import keras
import keras_tuner
import numpy as np
import pytest

import keras_nas
from keras_nas import _compat
from keras_nas.strategies import LocalSearchOracle

MAX = keras_tuner.Objective("score", "max")
VALUES = ["a", "b", "c", "d", "e"]
TARGET = ["c", "a", "e", "b", "d", "a"]


def cells(n=6):
    """A plain space like NAS-Bench-201's cell: n positions of 5 values."""
    hp = keras_tuner.HyperParameters()
    for i in range(n):
        hp.Choice(f"edge_{i}", VALUES)
    return hp


def planted(values):
    """One best value per position; each position adds on its own."""
    return float(sum(values.get(f"edge_{i}") == t
                     for i, t in enumerate(TARGET)))


def make(tmp_path, name="p", **kwargs):
    kwargs.setdefault("objective", MAX)
    oracle = LocalSearchOracle(**kwargs)
    _compat.set_project_dir(oracle, str(tmp_path), name)
    oracle.verbose = 0
    return oracle


def drive(oracle, score_fn, n, crash_after=None, metrics=None):
    proposals = []
    for _ in range(n):
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            break
        values = dict(trial.hyperparameters.values)
        proposals.append(values)
        if crash_after is not None and len(proposals) == crash_after:
            return proposals  # Killed mid-trial: never ended.
        reported = {"score": score_fn(values)}
        reported.update((metrics or {}).get(len(proposals), {}))
        oracle.update_trial(trial.trial_id, reported)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return proposals


def evals_to(score_fn, proposals, target):
    for i, values in enumerate(proposals, 1):
        if score_fn(values) >= target:
            return i
    return len(proposals) + 1


def test_planted_landscape_is_solved_far_sooner_than_at_random(tmp_path):
    local, rnd = [], []
    for seed in range(1, 4):
        oracle = make(tmp_path, f"l{seed}", hyperparameters=cells(), seed=seed,
                      max_trials=80)
        local.append(evals_to(planted, drive(oracle, planted, 80), 6))
        if seed == 3:
            continue
        random_oracle = keras_tuner.oracles.RandomSearchOracle(
            objective=MAX, max_trials=80, seed=seed, hyperparameters=cells())
        _compat.set_project_dir(random_oracle, str(tmp_path), f"r{seed}")
        random_oracle.verbose = 0
        rnd.append(evals_to(planted, drive(random_oracle, planted, 80), 6))
    # 15,625 candidates, one optimum: random search finds it in 80 with a
    # chance of 0.5 %. A climb of 6 steps, each trying the 24 neighbours in
    # random order until one of the k still wrong positions improves, needs
    # about 10 + 24 * (1/7 + ... + 1/2) = 48 on average.
    assert max(local) <= 60, local
    assert rnd == [81, 81], rnd


def test_first_improvement_moves_at_once_best_improvement_after_all(tmp_path):
    first = make(tmp_path, "f", hyperparameters=cells(2), seed=3,
                 start_size=1, max_trials=9)
    proposals = drive(first, planted, 9)
    # After the start, each proposal is one value away from the incumbent
    # at that time, and an improving one becomes the incumbent.
    assert first.incumbent is not None
    assert planted(first.trials[first.incumbent].hyperparameters.values) == max(
        planted(v) for v in proposals)

    best = make(tmp_path, "b", hyperparameters=cells(2), seed=3,
                start_size=1, first_improvement=False, max_trials=9)
    proposals = drive(best, planted, 9)
    start = proposals[0]
    # 2 positions x 4 other values = 8 neighbours, all tried before a move.
    for values in proposals[1:]:
        assert sum(values[k] != start[k] for k in start) == 1
    assert best.incumbent == "0"


def test_restarts_at_a_local_optimum_and_never_repeats(tmp_path):
    # A needle: every neighbour of every candidate scores the same, so each
    # start is a local optimum once its neighbours are tried.
    oracle = make(tmp_path, hyperparameters=cells(2), seed=5, start_size=2,
                  max_trials=25)
    proposals = drive(oracle, lambda v: 0.0, 25)
    keys = [tuple(sorted(v.items())) for v in proposals]
    assert len(keys) == len(set(keys)) == 25  # 25 = the whole space.
    assert oracle.restarts >= 1
    assert oracle.create_trial("tuner0").status == "STOPPED"


def test_op_sequences_are_valid_neighbours(tmp_path):
    space = keras_nas.SearchSpace(max_depth=5, input_shape=(8, 8, 1),
                                  max_params=20000)
    oracle = make(tmp_path, space=space, seed=2, start_size=4, max_trials=30)
    proposals = drive(oracle, lambda v: float(v["depth"]), 30)
    assert len(proposals) == 30
    for values in proposals:
        assert space.check(space.decode(values)) is None
    # After the start, each is one replace, insert or delete away from an
    # earlier one (the incumbent when it was proposed), never a copy, but
    # for the fresh starts after a local optimum.
    seqs = [space.decode(v) for v in proposals]
    assert len({tuple(s) for s in seqs}) == 30
    fresh = [ops for i, ops in enumerate(seqs[4:], 4)
             if not any(one_edit(ops, earlier) for earlier in seqs[:i])]
    assert len(fresh) <= 4 * oracle.restarts


def one_edit(a, b):
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = sorted((a, b), key=len)
    return len(long_) == len(short) + 1 and any(
        long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


@pytest.mark.parametrize("crash_mid_trial,model", [
    (False, None), (True, None), (True, "ridge"), (True, "gp"),
    (True, "ridge-rerank")])
def test_resume_makes_exactly_the_uninterrupted_proposals(tmp_path,
                                                          crash_mid_trial,
                                                          model):
    kwargs = dict(hyperparameters=cells(), seed=7, start_size=4, max_trials=40)
    if model is not None:  # Guided: the predictor acts after 6 trials.
        kwargs["predictor"] = {"model": model.split("-")[0], "min_trials": 6,
                               "rerank": model.endswith("-rerank")}
    straight = drive(make(tmp_path, "straight", **kwargs), planted, 40)
    first = make(tmp_path, "resumed", **kwargs)
    part = drive(first, planted, 13,
                 crash_after=13 if crash_mid_trial else None)
    again = make(tmp_path, "resumed", **kwargs)
    again.reload()
    rest = drive(again, planted, 40)
    if crash_mid_trial:
        assert rest[0] == part[-1]  # The interrupted trial runs again.
        rest = rest[1:]
    assert part + rest == straight


def test_compares_at_the_highest_rung_both_reached(tmp_path):
    # Trial 0 trained on to rung 1 and scored 0.9 there, but at rung 0 it
    # had 0.5; trial 1 stopped at rung 0 with 0.7. Like with like, trial 1
    # is the better start, whatever the final scores say.
    oracle = make(tmp_path, hyperparameters=cells(2), seed=1, start_size=2,
                  max_trials=3)
    rungs = {1: {"rung_0": 0.5, "rung_1": 0.9}, 2: {"rung_0": 0.7}}
    scores = iter([0.9, 0.7, 0.0])
    drive(oracle, lambda v: next(scores), 3, metrics=rungs)
    assert oracle.incumbent == "1"


def test_bad_arguments_are_refused_before_any_trial():
    with pytest.raises(ValueError, match="start_size"):
        LocalSearchOracle(objective=MAX, start_size=0)
    with pytest.raises(TypeError, match="first_improvement"):
        LocalSearchOracle(objective=MAX, first_improvement="yes")
    with pytest.raises(ValueError, match="one objective"):
        LocalSearchOracle(objective=[MAX, keras_tuner.Objective("p", "min")])
    with pytest.raises(TypeError, match="space"):
        LocalSearchOracle(space=cells(), objective=MAX)
    with pytest.raises(TypeError, match=r"`balanced_start` must be a bool\. "
                       r"Received: balanced_start='yes'"):
        LocalSearchOracle(objective=MAX, balanced_start="yes")


def start_counts(balanced, seed, tmp_path):
    """How often each value is at each position among the first start's
    10 candidates: a (6, 5) array."""
    oracle = make(tmp_path, f"s{balanced}{seed}", hyperparameters=cells(),
                  seed=seed, max_trials=10, balanced_start=balanced)
    proposals = drive(oracle, planted, 10)
    assert oracle.incumbent is None  # All ten were the start's.
    return np.array([[sum(v[f"edge_{i}"] == value for v in proposals)
                      for value in VALUES] for i in range(6)])


def test_a_balanced_start_covers_every_value_at_every_position(tmp_path):
    balanced = [start_counts(True, seed, tmp_path) for seed in range(8)]
    plain = [start_counts(False, seed, tmp_path) for seed in range(8)]
    # Ten independent draws leave a value out of a position in about
    # 10.7 % of the 30 (position, value) pairs, and pile 4 or more on one
    # in 12 %; balanced, nearly each value is there twice.
    missing = [float((c == 0).mean()) for c in balanced]
    assert max(missing) <= 1 / 30, missing
    assert np.mean([(c == 2).mean() for c in balanced]) >= 0.7
    assert max(int(c.max()) for c in balanced) <= 3
    assert np.mean([(c == 0).mean() for c in plain]) >= 0.05
    assert max(int(c.max()) for c in plain) >= 4


@pytest.mark.parametrize("model", ["ridge", "gp"])
def test_a_real_search_with_local_search_and_its_predictor(tmp_path, model):
    from tests.conftest import tabular

    x, y = tabular(120)
    # One at a time: each proposal follows the scores before it.
    search = keras_nas.NASSearch(
        directory=str(tmp_path), project_name="p", seed=1, max_trials=5,
        strategy=keras_nas.Strategy("local", start_size=3, predictor={
            "model": model, "min_trials": 3, "prune": None}),
        engine=keras_nas.KerasTunerEngine(pack_size=1))
    search.fit(x, y, epochs=2, verbose=0)
    # The tuner's oracle is the queue around the strategy's.
    oracle = keras_nas.strategies.strategy_of(search.tuner.oracle)
    assert isinstance(oracle, LocalSearchOracle)
    assert oracle.predictor.min_trials == 3
    assert oracle.predictor.model == model
    records = search.results()
    assert len(records) == 5 and all(r.status == "COMPLETED" for r in records)
    # The fourth is a neighbour of the best start (one edit away), the
    # first in the predictor's order, always tried. The fifth is a
    # neighbour of the incumbent: without `prune`, the predictor leaves
    # every neighbour in, so there is no local optimum, no restart yet.
    best = max(records[:3], key=lambda r: r.value)
    assert one_edit(records[3].ops, best.ops)
    incumbent = max(records[:4], key=lambda r: r.value)
    assert oracle.restarts == 0
    assert one_edit(records[4].ops, incumbent.ops)
    # The model returned is the best trial's, trained.
    chosen = next(r for r in records if r.ops == search.best_architecture())
    assert chosen.value == max(r.value for r in records)
    assert search.best_model().count_params() == chosen.params


def test_rerank_orders_the_neighbours_left_after_each_evaluation(tmp_path):
    # A needle: no neighbour ever improves, so each incumbent lists its
    # neighbours once; with `rerank` the predictor orders those left again
    # after every one that ends.
    from keras_nas.strategies import predictor

    rankings = {}
    for rerank in (False, True):
        oracle = make(tmp_path, f"r{rerank}", hyperparameters=cells(), seed=2,
                      start_size=4, max_trials=20, predictor={
                          "min_trials": 4, "prune": None, "rerank": rerank})
        proposals = drive(oracle, lambda v: 0.0, 20)
        assert len({tuple(sorted(v.items())) for v in proposals}) == 20
        assert oracle.incumbent is not None and oracle.restarts == 0
        rankings[rerank] = predictor.cost(oracle)[0]
    # 4 start candidates, then 16 of the incumbent's 24 neighbours.
    assert rankings[False] == 1
    assert rankings[True] == 16
