"""`EvolutionOracle(ensemble_size=k)` (strategies/ensemble_parents.py):
NES-RE's parents are members of the ensemble selected from the population,
through the `ensemble_selector` a search gives the oracle."""

import zlib

import keras_tuner
import numpy as np
import pytest

from keras_nas.analysis import ensemble as ensemble_selection
from keras_nas.strategies import EvolutionOracle, ensemble_parents

from tests.strategies.test_evolution import identity_space, make, score_of
from tests.strategies.test_local import drive

SAMPLES, CLASSES = 60, 4


def planted_selector(oracle, space, calls=None):
    """What `front.ensemble.population_selector` does, over planted
    validation predictions (each architecture's drawn from its ops)."""
    labels = np.arange(SAMPLES) % CLASSES

    def select(trial_ids, size):
        if calls is not None:
            calls.append((list(trial_ids), size))
        found = {}
        for t in trial_ids:
            ops = space.decode(oracle.trials[t].hyperparameters)
            rng = np.random.default_rng(zlib.crc32(repr(ops).encode()))
            found[t] = rng.dirichlet(np.ones(CLASSES) * 0.5, SAMPLES)
        return ensemble_selection.select(found, labels, size,
                                         "multiclass", distinct=True).members

    return select


def nes(tmp_path, name, space, calls=None, **kwargs):
    oracle = make(tmp_path, name, space=space, seed=3, population_size=5,
                  sample_size=2, ensemble_size=3, **kwargs)
    oracle.ensemble_selector = planted_selector(oracle, space, calls)
    return oracle


def test_parents_are_members_of_the_populations_ensemble(tmp_path):
    space = identity_space()
    calls = []
    oracle = nes(tmp_path, "n", space, calls)
    proposals = drive(oracle, score_of(space), 15)
    assert len(proposals) == 15
    # Called once the population is seeded, on it, for up to 3 picks.
    assert calls and all(size == 3 and len(ids) == 5 for ids, size in calls)
    last = calls[-1][0]  # The population of the last proposal.
    picks = planted_selector(oracle, space)(last, 3)
    assert oracle.ensemble == list(dict.fromkeys(picks))
    assert set(oracle.ensemble) <= set(last) and len(oracle.ensemble) == 3
    for _ in range(5):
        parent = ensemble_parents.draw(oracle)  # Selects on the population.
        assert set(oracle.ensemble) <= set(oracle.population)
        assert parent in [dict(oracle.trials[t].hyperparameters.values)
                          for t in oracle.ensemble]
    plain = drive(make(tmp_path, "plain", space=space, seed=3,
                       population_size=5, sample_size=2),
                  score_of(space), 15)
    assert proposals[:5] == plain[:5]  # The same random seeding...
    assert proposals != plain  # ...then other parents.


def test_resume_makes_exactly_the_uninterrupted_proposals(tmp_path):
    space = identity_space()
    straight = drive(nes(tmp_path, "straight", space, max_trials=20),
                     score_of(space), 20)
    part = drive(nes(tmp_path, "resumed", space, max_trials=20),
                 score_of(space), 9)
    again = nes(tmp_path, "resumed", space, max_trials=20)  # A new process.
    again.reload()
    assert again.ensemble  # Saved with the oracle.
    assert part + drive(again, score_of(space), 20) == straight


def test_without_a_selector_it_warns_and_evolves_as_plain_evolution(
        tmp_path):
    space = identity_space()
    kwargs = dict(space=space, seed=5, population_size=4, sample_size=2)
    plain = drive(make(tmp_path, "plain", **kwargs), score_of(space), 10)
    with pytest.warns(UserWarning, match="no `ensemble_selector`"):
        alone = drive(make(tmp_path, "alone", ensemble_size=3, **kwargs),
                      score_of(space), 10)
    assert alone == plain


@pytest.mark.parametrize("kwargs, match", [
    (dict(ensemble_size=1), "`ensemble_size` must be an integer of at "
                            "least 2. Received: ensemble_size=1"),
    (dict(ensemble_size="3"), "`ensemble_size` must be an integer"),
    (dict(ensemble_size=3, predictor=True), "Accepted: one of them"),
    (dict(ensemble_size=3, objective=[keras_tuner.Objective("score", "max"),
                                      keras_tuner.Objective("params", "min")]),
     "with several objectives"),
])
def test_bad_arguments(kwargs, match):
    kwargs.setdefault("objective", keras_tuner.Objective("score", "max"))
    with pytest.raises(ValueError, match=match):
        EvolutionOracle(**kwargs)
