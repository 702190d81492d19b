import threading

import keras
import keras_tuner
import numpy as np
import pytest

import keras_nas
from keras_nas import _compat
from keras_nas.strategies import EvolutionOracle

from tests.strategies.test_local import drive  # The same Keras Tuner protocol.

MAX = keras_tuner.Objective("score", "max")
TARGET = ["c", "a", "d", "b", "c"]


def identity_space(names="abcd", min_depth=1, max_depth=6):
    return keras_nas.SearchSpace(
        {n: keras.layers.Identity for n in names},
        min_depth=min_depth,
        max_depth=max_depth,
    )


def edit_distance(a, b):
    d = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        prev, d[0] = d.copy(), i
        for j, y in enumerate(b, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (x != y))
    return int(d[-1])


def make(tmp_path, name="p", **kwargs):
    kwargs.setdefault("objective", MAX)
    oracle = EvolutionOracle(**kwargs)
    _compat.set_project_dir(oracle, str(tmp_path), name)
    oracle.verbose = 0
    return oracle


def evals_to_optimum(oracle, space, budget):
    def score(values):
        return -edit_distance(space.decode(values), TARGET)

    for i, values in enumerate(drive(oracle, score, budget), 1):
        if score(values) == 0:
            return i
    return budget


def test_evolution_reaches_known_optimum_sooner_than_random(tmp_path):
    space = identity_space()
    budget = 300
    evo, rnd = [], []
    for seed in range(1, 7):
        oracle = make(tmp_path, f"e{seed}", space=space, seed=seed,
                      population_size=20, sample_size=5, max_trials=budget)
        evo.append(evals_to_optimum(oracle, space, budget))
        random_oracle = keras_tuner.oracles.RandomSearchOracle(
            objective=MAX, max_trials=budget, seed=seed,
            hyperparameters=space.hyperparameters)
        _compat.set_project_dir(random_oracle, str(tmp_path), f"r{seed}")
        random_oracle.verbose = 0
        rnd.append(evals_to_optimum(random_oracle, space, budget))
    # 5460 sequences: random search rarely finds the one optimum in 300.
    assert np.mean(evo) < 0.5 * np.mean(rnd), (evo, rnd)
    assert np.median(evo) < budget


def test_never_proposes_a_duplicate_and_stops_when_exhausted(tmp_path):
    space = identity_space("ab", max_depth=3)  # 2 + 4 + 8 = 14 sequences.
    oracle = make(tmp_path, space=space, seed=3, population_size=4, sample_size=2,
                  max_trials=50)
    proposals = drive(oracle, lambda v: float(v["depth"]), 50)
    seqs = [tuple(space.decode(v)) for v in proposals]
    assert len(seqs) == len(set(seqs)) == 14
    assert oracle.create_trial("tuner0").status == "STOPPED"


def test_statuses_are_keras_tuner_statuses(tmp_path):
    space = identity_space("ab", max_depth=1)
    oracle = make(tmp_path, space=space, seed=1, population_size=2, sample_size=1)
    statuses = []
    for _ in range(3):
        trial = oracle.create_trial("tuner0")
        statuses.append(trial.status)
        if trial.status == "RUNNING":
            oracle.update_trial(trial.trial_id, {"score": 1.0})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    assert statuses == ["RUNNING", "RUNNING", "STOPPED"]
    response = make(tmp_path, "q", space=space, seed=1).populate_space("0")
    assert response["status"] in (
        keras_tuner.engine.trial.TrialStatus.RUNNING,
        keras_tuner.engine.trial.TrialStatus.IDLE,
        keras_tuner.engine.trial.TrialStatus.STOPPED,
    )


def score_of(space):
    return lambda v: -edit_distance(space.decode(v), TARGET) + 0.01 * v.get(
        "learning_rate", 0)


@pytest.mark.parametrize("crash_mid_trial,predictor", [
    (False, None), (True, None), (True, {"min_trials": 6, "children": 20})])
def test_resume_makes_exactly_the_uninterrupted_proposals(tmp_path,
                                                          crash_mid_trial,
                                                          predictor):
    space = identity_space()
    space = keras_nas.SearchSpace(space.op_table, max_depth=6, learning_rate=True)
    kwargs = dict(space=space, seed=7, population_size=6, sample_size=3,
                  crossover_rate=0.3, max_trials=40, predictor=predictor)
    straight = drive(make(tmp_path, "straight", **kwargs), score_of(space), 40)

    first = make(tmp_path, "resumed", **kwargs)
    part = drive(first, score_of(space), 17,
                 crash_after=17 if crash_mid_trial else None)
    # A new process: the same script, run again on the same directory.
    again = make(tmp_path, "resumed", **kwargs)
    again.reload()
    rest = drive(again, score_of(space), 40)
    if crash_mid_trial:
        # The interrupted trial runs again, with the same values.
        assert rest[0] == part[-1]
        rest = rest[1:]
    assert part + rest == straight
    assert len(again.population) == 6
    assert len(again.history) == 40


def test_same_seed_same_proposals_other_seed_other_proposals(tmp_path):
    space = identity_space()
    runs = [
        drive(make(tmp_path, f"s{i}", space=space, seed=seed, population_size=5,
                   sample_size=2), score_of(space), 25)
        for i, seed in enumerate([11, 11, 12])
    ]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_children_are_valid_for_the_input_shape(tmp_path):
    space = keras_nas.SearchSpace(max_depth=6, input_shape=(8, 8, 1), max_params=20000)
    oracle = make(tmp_path, space=space, seed=5, population_size=8, sample_size=3,
                  crossover_rate=0.5)
    proposals = drive(oracle, lambda v: float(v["depth"]), 60)
    assert len(proposals) == 60
    for values in proposals:
        assert space.check(space.decode(values)) is None


def test_plain_hyperparameters_space_mutates_one_active_value(tmp_path):
    hp = keras_tuner.HyperParameters()
    hp.Choice("a", [1, 2, 3, 4])
    hp.Boolean("b")
    with hp.conditional_scope("b", [True]):
        hp.Int("c", 0, 9)
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    oracle = make(tmp_path, hyperparameters=hp, seed=2, population_size=4, sample_size=2,
                  crossover_rate=0.0)
    proposals = drive(oracle, lambda v: v["a"] + v.get("c", 0), 30)
    for values in proposals:
        assert ("c" in values) == values["b"]
    # After the random population, each child differs from some earlier trial in
    # exactly one value that was active in both, or through a changed condition.
    for child in proposals[4:]:
        diffs = min(
            sum(child.get(k) != p.get(k) for k in set(child) | set(p))
            for p in proposals[: proposals.index(child)]
        )
        assert 1 <= diffs <= 2


def test_thread_safe_under_synchronized(tmp_path):
    space = identity_space()
    oracle = make(tmp_path, space=space, seed=4, population_size=5, sample_size=2)
    seen, errors = [], []

    def worker(tuner_id):
        try:
            for _ in range(10):
                trial = oracle.create_trial(tuner_id)
                seen.append(tuple(space.decode(trial.hyperparameters)))
                oracle.update_trial(trial.trial_id, {"score": float(len(seen))})
                trial.status = "COMPLETED"
                oracle.end_trial(trial)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(seen) == len(set(seen)) == 40


def test_works_inside_a_plain_keras_tuner_tuner(tmp_path):
    def build(hp):
        model = keras.Sequential([keras.Input((4,))])
        for i in range(hp.Int("layers", 1, 3)):
            model.add(keras.layers.Dense(hp.Choice(f"units_{i}", [4, 8, 16]),
                                         activation="relu"))
        model.add(keras.layers.Dense(1))
        model.compile(optimizer="adam", loss="mse")
        return model

    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1)
    tuner = keras_tuner.Tuner(
        oracle=EvolutionOracle(objective="val_loss", max_trials=4, seed=1,
                               population_size=2, sample_size=2),
        hypermodel=build, directory=str(tmp_path), project_name="evo",
    )
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    trials = tuner.oracle.trials.values()
    assert len(trials) == 4
    assert all(t.status == "COMPLETED" for t in trials)
    values = [tuple(sorted(t.hyperparameters.values.items())) for t in trials]
    assert len(set(values)) == 4
    assert len(tuner.oracle.history) == 4
    assert isinstance(tuner.get_best_models(1)[0], keras.Model)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(population_size=1), "population_size"),
        (dict(population_size=4, sample_size=5), "sample_size <= population_size"),
        (dict(crossover_rate=1.5), "crossover_rate"),
        (dict(mutation_weights={"grow": 1}), "mutation_weights"),
        (dict(max_trials=0), "max_trials"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EvolutionOracle(objective=MAX, **kwargs)


def test_space_must_be_a_search_space():
    with pytest.raises(TypeError, match="goes in `hyperparameters`"):
        EvolutionOracle(space=keras_tuner.HyperParameters(), objective=MAX)
