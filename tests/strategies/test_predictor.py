"""Predictor-guided proposals: deterministic under a seed, a fallback
until enough trials, a planted landscape solved far sooner than at random,
the cost-aware acquisition, and a measured cost per proposal."""

import numpy as np
import pytest

from keras_nas import _compat
from keras_nas.strategies import EvolutionOracle, LocalSearchOracle
from keras_nas.strategies import predictor as predictor_module
from keras_nas.strategies.predictor import Predictor

from tests.strategies.test_local import MAX, TARGET, cells, drive, evals_to, planted


def make(cls, tmp_path, name="p", **kwargs):
    oracle = cls(objective=MAX, hyperparameters=cells(), **kwargs)
    _compat.set_project_dir(oracle, str(tmp_path), name)
    oracle.verbose = 0
    return oracle


def completed(tmp_path, n=20, seconds=None, name="c"):
    """An oracle with `n` random trials completed on the planted landscape
    (and a `seconds` metric when given a function of the values)."""
    oracle = make(LocalSearchOracle, tmp_path, name, seed=0, start_size=n,
                  max_trials=n)
    metrics = {}
    for i in range(n):
        trial = oracle.create_trial("t")
        values = trial.hyperparameters.values
        metrics = {"score": planted(values)}
        if seconds is not None:
            metrics.update(seconds=seconds(values), epochs=1.0)
        oracle.update_trial(trial.trial_id, metrics)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return oracle


def candidates(k=30, seed=5):
    rng = np.random.default_rng(seed)
    return [{f"edge_{i}": str(rng.choice(["a", "b", "c", "d", "e"]))
             for i in range(6)} for _ in range(k)]


@pytest.mark.parametrize("model", ["ridge", "trees", "gp"])
def test_same_seed_same_order_and_it_follows_the_landscape(tmp_path, model):
    oracle = completed(tmp_path, 30)
    pred = Predictor(model=model, acquisition="mean")
    some = candidates()
    a = pred.order(oracle, some, np.random.default_rng(1))
    b = pred.order(oracle, some, np.random.default_rng(1))
    assert a == b and sorted(map(str, a)) == sorted(map(str, some))
    # The order is the landscape's, roughly: the first third beats the last.
    scores = [planted(v) for v in a]
    assert np.mean(scores[:10]) > np.mean(scores[-10:])
    thompson = Predictor(model=model, acquisition="thompson")
    c = thompson.order(oracle, some, np.random.default_rng(1))
    d = thompson.order(oracle, some, np.random.default_rng(2))
    assert c == thompson.order(oracle, some, np.random.default_rng(1))
    assert c != d


def test_falls_back_to_the_given_order_until_enough_trials(tmp_path):
    oracle = completed(tmp_path, 5)
    some = candidates()
    assert Predictor(min_trials=6).order(oracle, some,
                                         np.random.default_rng(0)) == some
    assert predictor_module.cost(oracle) == (0, 0.0, 0)
    assert Predictor(min_trials=5).order(oracle, some,
                                         np.random.default_rng(0)) != some


def test_planted_landscape_guided_evolution_far_sooner_than_at_random(tmp_path):
    guided = []
    for seed in (1, 2):
        oracle = make(EvolutionOracle, tmp_path, f"g{seed}", seed=seed,
                      max_trials=80, population_size=10, sample_size=3,
                      predictor={"min_trials": 10, "children": 50})
        guided.append(evals_to(planted, drive(oracle, planted, 80), 6))
        calls, seconds, ranked = predictor_module.cost(oracle)
        # Its cost is measured, and small: milliseconds, not an epoch.
        assert calls > 0 and ranked > calls and seconds / calls < 0.25
    # Random search finds the one optimum of 15,625 in 80 with a chance of
    # 0.5 % (test_local); an additive landscape is what a ridge regression
    # on one-hot positions fits exactly.
    assert max(guided) <= 40, guided


def test_cost_aware_ranks_the_cheaper_of_two_equal_gains_first(tmp_path):
    # Value "e" at position 0 makes training ten times slower.
    oracle = completed(tmp_path, 40, lambda v: 10.0 if v["edge_0"] == "e"
                       else 1.0)
    cheap = {f"edge_{i}": t for i, t in enumerate(TARGET)}
    cheap["edge_0"] = "d"
    dear = dict(cheap, edge_0="e")
    rng = np.random.default_rng
    aware = Predictor(acquisition="mean", cost_aware=True)
    assert aware.order(oracle, [dear, cheap], rng(0))[0] == cheap
    assert aware.order(oracle, [cheap, dear], rng(0))[0] == cheap


def test_prune_leaves_out_neighbours_predicted_below_the_incumbent(tmp_path):
    oracle = completed(tmp_path, 40)
    some = candidates(60)
    rng = np.random.default_rng
    scores = [planted(v) for v in some]
    best = max(scores)
    kept = Predictor(acquisition="mean").order(oracle, some, rng(0),
                                               incumbent=best)
    every = Predictor(acquisition="mean", prune=None).order(
        oracle, some, rng(0), incumbent=best)
    # Nothing is left out without `prune`; with it, those predicted well
    # below the best of all, but never the first, and the order is kept.
    assert len(every) == len(some)
    assert 1 <= len(kept) < len(some) and kept == every[: len(kept)]
    # Below the worst candidate, nothing is pruned.
    assert len(Predictor(acquisition="mean").order(
        oracle, some, rng(0), incumbent=min(scores) - 100)) == len(some)


def test_under_halving_it_fits_values_at_one_rung(tmp_path):
    # Candidates with edge_5 == "e" happened to train on past rung 0 (3
    # points more by the top rung); the others stopped there. Their final
    # scores would teach that "e" is worth 2 more than the landscape's "a";
    # at one rung, with the partial curves extended, it is worth 1 less.
    oracle = make(LocalSearchOracle, tmp_path, "h", seed=0, start_size=40,
                  max_trials=40)
    for _ in range(40):
        trial = oracle.create_trial("t")
        values = trial.hyperparameters.values
        value = planted(values)
        metrics = {"rung_0": value}
        if values["edge_5"] == "e" or len(oracle.trials) % 4 == 0:
            metrics["rung_1"] = value + 3.0
        oracle.update_trial(trial.trial_id,
                            {"score": max(metrics.values()), **metrics})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    best = {f"edge_{i}": t for i, t in enumerate(TARGET)}
    trained_on = dict(best, edge_5="e")
    pred = Predictor(acquisition="mean", prune=None)
    rng = np.random.default_rng
    assert pred.order(oracle, [trained_on, best], rng(0))[0] == best
    assert pred.order(oracle, [best, trained_on], rng(0))[0] == best


def test_pruned_local_search_still_solves_the_planted_landscape(tmp_path):
    found, restarts = [], []
    for seed in (1, 2):
        oracle = make(LocalSearchOracle, tmp_path, f"l{seed}", seed=seed,
                      max_trials=80, predictor={"min_trials": 10})
        found.append(evals_to(planted, drive(oracle, planted, 80), 6))
        plain = make(LocalSearchOracle, tmp_path, f"n{seed}", seed=seed,
                     max_trials=80,
                     predictor={"min_trials": 10, "prune": None})
        drive(plain, planted, 80)
        restarts.append((oracle.restarts, plain.restarts))
    assert max(found) <= 60, found
    # It meets its local optima in fewer evaluations, so it restarts more.
    assert sum(r for r, _ in restarts) > sum(r for _, r in restarts), restarts


def test_options_are_checked_and_round_trip():
    p = Predictor(model="trees", members=8, kappa=2.0, cost_aware=True)
    assert Predictor.from_config(p.get_config()) == p
    with pytest.raises(ValueError, match="`model` must be one of"):
        Predictor(model="svm")
    assert Predictor.from_config(Predictor(model="gp").get_config()).model == (
        "gp")
    with pytest.raises(ValueError, match="members"):
        Predictor(members=1)
    with pytest.raises(ValueError, match="acquisition"):
        Predictor(acquisition="ei")
    with pytest.raises(ValueError, match="kappa"):
        Predictor(kappa=-1)
    with pytest.raises(ValueError, match="`prune` must be None or a finite "
                       "number >= 0. Received: prune=-0.5"):
        Predictor(prune=-0.5)
    with pytest.raises(ValueError, match="prune"):
        Predictor(prune=True)
    assert Predictor(prune=None).prune is None
    with pytest.raises(ValueError, match=r"`rerank` must be a bool\. "
                       r"Received: rerank=1"):
        Predictor(rerank=1)
    assert Predictor.from_config(Predictor(rerank=True).get_config()).rerank
    with pytest.raises(TypeError, match="predictor"):
        predictor_module.from_argument("yes")
    assert predictor_module.from_argument(True) == Predictor()
    assert predictor_module.from_argument(None) is None


def _over(space, tmp_path, name="s"):
    """A local search over `space` alone (no other hyperparameters), so
    that the size features are the last two."""
    oracle = LocalSearchOracle(space=space, objective=MAX, seed=0)
    _compat.set_project_dir(oracle, str(tmp_path), name)
    return oracle


def _sized_space():
    """A bound tabular space of real ops and one whose shape rule has a
    bug on 7 features (a division by zero)."""
    import keras
    import keras_nas
    from keras_nas import ops

    def buggy(shape):
        return (shape[0] // (shape[0] - 7),)

    table = {
        "dense-16": None, "dense-32": None,
        "seven": ops.make_op("seven", lambda: keras.layers.Dense(7),
                             output_shape=lambda s: (7,),
                             params=lambda s: s[-1] * 7 + 7),
        "buggy": ops.make_op("buggy", lambda: keras.layers.Identity(),
                             output_shape=buggy, params=lambda s: 0),
    }
    table = {n: (op or ops.get(n)) for n, op in table.items()}
    return keras_nas.SearchSpace(table, max_depth=3).bind((10,),
                                                          output_units=2)


def test_features_count_params_and_flops_of_a_valid_candidate(tmp_path,
                                                             caplog):
    space = _sized_space()
    oracle = _over(space, tmp_path)
    plan = space.plan(["dense-16", "dense-32"])
    with caplog.at_level("WARNING"):
        features = predictor_module.encode(
            oracle, space.encode(["dense-16", "dense-32"]))
    assert features[-2:] == pytest.approx(
        [np.log1p(plan.params), np.log1p(plan.flops)])
    assert not caplog.records


def test_features_that_cannot_be_counted_are_zero(tmp_path, caplog):
    import keras_nas

    image = keras_nas.SearchSpace(["conv3x3-16", "maxpool", "dense-16"],
                                  max_depth=3).bind((8, 8, 1))
    unbound = keras_nas.SearchSpace(["dense-16", "dropout"], max_depth=2)
    for name, space, ops in (
            ("i", image, ["dense-16", "conv3x3-16"]),  # No conv after dense.
            ("u", unbound, ["dense-16", "dropout"])):
        oracle = _over(space, tmp_path, name)
        caplog.clear()
        with caplog.at_level("WARNING", logger=predictor_module.__name__):
            features = predictor_module.encode(oracle, space.encode(ops))
        assert features[-2:] == [0.0, 0.0]
        # Expected in a search (a neighbour the space rejects is ranked,
        # then refused when it comes up): nothing to warn about.
        assert not caplog.records


def test_a_bug_in_a_shape_rule_is_not_read_as_zero_features(tmp_path):
    space = _sized_space()
    oracle = _over(space, tmp_path)
    with pytest.raises(ZeroDivisionError):
        predictor_module.encode(oracle, space.encode(["seven", "buggy"]))
