"""One contract for every strategy `oracles.get` makes, and for a plain
Keras Tuner oracle: run through Keras Tuner's trial protocol without
training (as Optuna's `test_samplers.py` does for its samplers)."""

import zlib

import keras_tuner
import numpy as np
import pytest

import keras_nas
from keras_nas import _compat
from keras_nas import strategies as oracles
from keras_nas.analysis import ensemble as ensemble_selection
from keras_nas.engine import pack_loop

from tests.conftest import tabular

MAX = keras_tuner.Objective("score", "max")
STRATEGIES = ["auto", "evolution", "local", "random", "bayesian",
              "plain-random", "evolution-predictor", "local-predictor",
              "local-gp", "local-rerank", "local-random-start",
              "evolution-ensemble"]
#: Options of each strategy in the contract (small, so that 8 trials use
#: the strategy's own proposals, and the predictor its surrogate).
OPTIONS = {
    "evolution": {"population_size": 4},
    "local": {"start_size": 3},
    "evolution-predictor": {"population_size": 4,
                            "predictor": {"min_trials": 3, "children": 10}},
    "local-predictor": {"start_size": 3, "predictor": {"min_trials": 3}},
    "local-gp": {"start_size": 3,
                 "predictor": {"model": "gp", "min_trials": 3}},
    "local-rerank": {"start_size": 3,
                     "predictor": {"min_trials": 3, "rerank": True}},
    "local-random-start": {"start_size": 3, "balanced_start": False},
    "evolution-ensemble": {"population_size": 4, "ensemble_size": 3},
    "auto": {"start_size": 3},
}


def space():
    return keras_nas.SearchSpace(
        ["conv3x3-16", "maxpool", "dense-16", "dropout"], max_depth=4
    ).bind((4, 4, 1), output_units=3)


def make(strategy, tmp_path, seed=0, max_trials=8, name="p"):
    if strategy == "plain-random":
        strategy = keras_tuner.oracles.RandomSearchOracle(
            seed=seed, max_trials=max_trials)
    options = OPTIONS.get(strategy)
    if isinstance(strategy, str):
        for suffix in ("-predictor", "-gp", "-rerank", "-random-start",
                       "-ensemble"):
            strategy = strategy.replace(suffix, "")
    oracle = oracles.get(strategy, space=space(), objective=MAX,
                         max_trials=max_trials, seed=seed, options=options)
    if getattr(oracle, "ensemble_size", None):
        oracle.ensemble_selector = planted_selector(oracle)
    _compat.set_project_dir(oracle, str(tmp_path), name)
    oracle.verbose = 0
    # What `NASTuner` does for an oracle that does not know the space.
    oracle.update_space(space().hyperparameters)
    return oracle


def planted_selector(oracle, samples=40, classes=3):
    """An `ensemble_selector` as `NASSearch` gives one, over planted
    validation predictions: each architecture's, drawn from its ops."""
    labels = np.arange(samples) % classes
    bound = space()

    def select(trial_ids, size):
        found = {}
        for t in trial_ids:
            ops = bound.decode(oracle.trials[t].hyperparameters)
            rng = np.random.default_rng(zlib.crc32(repr(ops).encode()))
            found[t] = rng.dirichlet(np.ones(classes), samples)
        return ensemble_selection.select(found, labels, size,
                                         "multiclass", distinct=True).members

    return select


def drive(oracle, n, pack=1):
    """Ask for `pack` trials at a time (each under its slot's tuner id, as
    a packed search asks: `engine.pack_loop`) until `n` are done or the
    oracle stops; report each pack's scores after the whole pack."""
    bound = space()
    proposals = []
    while len(proposals) < n:
        trials = []
        for slot in range(pack):
            trial = oracle.create_trial(pack_loop.slot_id("tuner0", slot))
            if trial.status == "RUNNING":
                trials.append(trial)
            elif trial.status == "IDLE":
                break
        if not trials:
            break
        for trial in trials:
            ops = bound.decode(trial.hyperparameters)
            proposals.append(ops)
            oracle.update_trial(trial.trial_id, {"score": float(len(ops))})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    return proposals


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_proposals_are_valid_and_stop_at_max_trials(strategy, tmp_path):
    oracle = make(strategy, tmp_path)
    proposals = drive(oracle, 20)
    assert len(proposals) == 8
    bound = space()
    if strategy != "plain-random":  # Ours only propose valid sequences.
        assert all(bound.check(ops) is None for ops in proposals)
    assert oracle.max_consecutive_failed_trials is None  # The tuner's policy.


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_same_trials(strategy, tmp_path):
    if strategy == "bayesian":
        pytest.skip("Keras Tuner's Gaussian process is not seeded end to end")
    a = drive(make(strategy, tmp_path / "a", seed=1), 6)
    b = drive(make(strategy, tmp_path / "b", seed=1), 6)
    c = drive(make(strategy, tmp_path / "c", seed=2), 6)
    assert a == b and a != c


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_state_round_trips(strategy, tmp_path):
    oracle = make(strategy, tmp_path)
    drive(oracle, 3)
    oracle.save()
    again = make(strategy, tmp_path)
    again.reload()
    assert sorted(again.trials) == sorted(oracle.trials)
    assert len(drive(again, 20)) == 5


def test_auto_is_local_search_with_its_predictor_for_one_objective(tmp_path):
    one = make("auto", tmp_path, name="one")
    assert type(one) is oracles.LocalSearchOracle
    assert one.predictor == oracles.Predictor() and one.start_size == 3
    several = oracles.get(
        "auto", space=space(), max_trials=8,
        objective=[keras_tuner.Objective("score", "max"),
                   keras_tuner.Objective("params", "min")])
    assert type(several) is oracles.EvolutionOracle
    # A predictor of one's own is kept; the default config says "auto".
    own = oracles.get("auto", space=space(), objective=MAX, max_trials=8,
                      options={"predictor": {"model": "trees"}})
    assert own.predictor.model == "trees"
    assert keras_nas.NASSearch().get_config()["strategy"] == "auto"


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="Unknown `strategy`"):
        oracles.check_strategy("annealing")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_best_trials_break_exact_ties_by_the_lower_loss(strategy, tmp_path):
    from keras_nas.strategies import scores

    oracle = make(strategy, tmp_path, max_trials=5)
    logs = [(0.5, 0.05), (1.0, 0.4), (1.0, 0.2), (1.0, 0.3), (1.0, None)]
    ids = []
    for value, loss in logs:
        trial = oracle.create_trial("tuner0")
        metrics = {"score": value} if loss is None else {"score": value,
                                                         "loss": loss}
        oracle.update_trial(trial.trial_id, metrics)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        ids.append(trial.trial_id)
    # Tied on the score: the lower loss first, the one without a loss last
    # of the tied; the first trial of the tied is not the best.
    expected = [ids[2], ids[3], ids[1], ids[4], ids[0]]
    ranked = scores.best_trials(oracle.trials.values(), oracle.objective, 5)
    assert [t.trial_id for t in ranked] == expected
    if strategy != "plain-random":  # Ours agree, so Keras Tuner's
        # `get_best_models` returns what `NASSearch.best_model` does.
        assert [t.trial_id for t in oracle.get_best_trials(5)] == expected


def test_a_users_oracle_is_copied_not_changed(tmp_path):
    x, y = tabular(120)
    mine = keras_tuner.oracles.RandomSearchOracle(seed=3, max_trials=None)
    before = {k: v for k, v in vars(mine).items()
              if isinstance(v, (int, str, type(None)))}
    copied = oracles.get(mine, space=space(), objective=MAX, max_trials=4)
    assert copied is not mine and copied.max_trials == 4
    assert copied.objective.name == "score"
    assert copied.max_consecutive_failed_trials is None
    search = keras_nas.NASSearch(
        space=keras_nas.SearchSpace(["dense-16", "dense-32"], max_depth=2),
        strategy=mine, max_trials=2, directory=str(tmp_path),
        warm_start=False, initial_architectures=[])
    search.fit(x, y, epochs=1, verbose=0)
    assert len(search.results()) == 2
    # The search ran on its own copy: the user's instance has no space, no
    # objective, no budget and no trial of it.
    assert mine.trials == {} and not hasattr(mine, "space")
    assert not mine.hyperparameters.space
    assert mine.objective.name == "default_objective"
    assert mine.max_trials is None and mine.max_consecutive_failed_trials == 3
    assert {k: v for k, v in vars(mine).items()
            if isinstance(v, (int, str, type(None)))} == before
    assert search.config.strategy is mine
