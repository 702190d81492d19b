"""Multi-objective (NSGA-II) selection of `EvolutionOracle`."""

import keras_tuner
import numpy as np
import pytest

from keras_nas import _compat
from keras_nas.strategies import pareto
from tests.strategies.test_evolution import identity_space
from tests.strategies.test_evolution import make

OBJECTIVES = [keras_tuner.Objective("score", "max"),
              keras_tuner.Objective("params", "min")]


def metrics_of(space):
    """Conflicting objectives: more 'a' ops score higher but cost more."""
    def metrics(values):
        ops = space.decode(values)
        a = sum(op == "a" for op in ops)
        return {"score": a + 0.1 * sum(op == "b" for op in ops),
                "params": 1000.0 * a + 10.0 * len(ops)}
    return metrics


def drive(oracle, metrics_fn, n, crash_after=None, with_sum=False):
    """As Keras Tuner's tuner drives an oracle. `with_sum` adds the
    `multi_objective` sum, as Keras Tuner does for a `History` result (its
    `RandomSearchOracle` needs it; ours does not)."""
    proposals = []
    for _ in range(n):
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            break
        values = dict(trial.hyperparameters.values)
        proposals.append(values)
        if crash_after is not None and len(proposals) == crash_after:
            return proposals
        metrics = metrics_fn(values)
        if with_sum:
            metrics["multi_objective"] = oracle.objective.get_value(metrics)
        oracle.update_trial(trial.trial_id, metrics)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return proposals


def test_tournament_picks_by_pareto_rank_not_weighted_sum(tmp_path):
    space = identity_space()
    oracle = make(tmp_path, space=space, seed=3, objective=OBJECTIVES,
                  population_size=12, sample_size=12)
    assert oracle.multi_objective
    drive(oracle, metrics_of(space), 12)
    members = [oracle.trials[t] for t in oracle.population]
    points = [oracle._objective_values(t) for t in members]
    rank, crowd = pareto.nsga2_rank(points, ["max", "min"])
    winner = oracle._select(members)
    i = members.index(winner)
    assert rank[i] == 0
    assert crowd[i] == max(crowd[rank == 0])
    # Keras Tuner's summed score (`trial.score`, lower is better) prefers a
    # member behind the front to one on it; the tournament, in either
    # order, takes the one on the front.
    on_front = max((t for t, r in zip(members, rank) if r == 0),
                   key=lambda t: t.score)
    behind = min((t for t, r in zip(members, rank) if r > 0),
                 key=lambda t: t.score)
    assert behind.score < on_front.score
    assert oracle._select([behind, on_front]) is on_front
    assert oracle._select([on_front, behind]) is on_front


def test_front_hypervolume_beats_random(tmp_path):
    space = identity_space()
    metrics = metrics_of(space)
    ref = (0.0, 7000.0)

    def hv(proposals):
        pts = [(metrics(v)["score"], metrics(v)["params"]) for v in proposals]
        return pareto.hypervolume(pts, ["max", "min"], ref)

    evo, rnd = [], []
    for seed in range(1, 5):
        oracle = make(tmp_path, f"e{seed}", space=space, seed=seed,
                      objective=OBJECTIVES, population_size=10, sample_size=3)
        evo.append(hv(drive(oracle, metrics, 60)))
        random_oracle = keras_tuner.oracles.RandomSearchOracle(
            objective=OBJECTIVES, max_trials=60, seed=seed,
            hyperparameters=space.hyperparameters)
        _compat.set_project_dir(random_oracle, str(tmp_path), f"r{seed}")
        random_oracle.verbose = 0
        rnd.append(hv(drive(random_oracle, metrics, 60, with_sum=True)))
    assert np.mean(evo) >= np.mean(rnd), (evo, rnd)


@pytest.mark.parametrize("crash_mid_trial", [False, True])
def test_resume_makes_exactly_the_uninterrupted_proposals(tmp_path, crash_mid_trial):
    space = identity_space()
    kwargs = dict(space=space, seed=7, population_size=6, sample_size=3,
                  crossover_rate=0.3, max_trials=40, objective=OBJECTIVES)
    straight = drive(make(tmp_path, "straight", **kwargs), metrics_of(space), 40)
    first = make(tmp_path, "resumed", **kwargs)
    part = drive(first, metrics_of(space), 17,
                 crash_after=17 if crash_mid_trial else None)
    again = make(tmp_path, "resumed", **kwargs)
    again.reload()
    rest = drive(again, metrics_of(space), 40)
    if crash_mid_trial:
        assert rest[0] == part[-1]
        rest = rest[1:]
    assert part + rest == straight
    # get_state/set_state round trip on a live oracle, too.
    clone = make(tmp_path, "clone", **kwargs)
    clone.set_state(again.get_state())
    assert clone.population == again.population


def test_trial_without_finite_objectives_stays_out_of_the_population(tmp_path):
    space = identity_space()
    oracle = make(tmp_path, space=space, seed=1, objective=OBJECTIVES,
                  population_size=4, sample_size=2)
    drive(oracle, lambda v: {"score": 1.0, "params": float("nan")}, 2)
    assert oracle.population == []
    drive(oracle, lambda v: {"score": 1.0, "params": 5.0}, 1)
    tid = oracle.population[0]
    assert oracle.trials[tid].score == pytest.approx(5.0 - 1.0)
