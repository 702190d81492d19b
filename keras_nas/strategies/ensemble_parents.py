"""Parents drawn from an ensemble of the population: Neural Ensemble Search
(NES-RE; Zaidi et al., "Neural Ensemble Search for Uncertainty Estimation
and Dataset Shift", NeurIPS 2021).

`EvolutionOracle(ensemble_size=k)` evolves for the ensemble instead of the
single best model. At each step it selects an ensemble of `k` different
models of the population (all of them if fewer), by greedy forward
selection on their validation predictions (`distinct`), and mutates a
member drawn uniformly, where plain aging evolution mutates a tournament's
winner. A model
that scores poorly alone but is right where the others err is a parent
then. The population, its aging and the mutations are unchanged.

The selection is not here. Strategies come before the engine, which saves
each trial's validation predictions (`engine.predictions`), and the
analysis, which selects an ensemble from them (`analysis.ensemble.select`):
so the search gives the oracle a callable, its `ensemble_selector`,
`(trial_ids, size) -> picks` (`front.ensemble.population_selector`), set
each time the search's tuner is made and never saved. Without one (an
oracle driven outside `NASSearch`), or before any trial of the population
has saved predictions, the parent is the tournament's: the first time with
a warning.
"""

import warnings

from keras_nas._checks import check_int

__all__ = ["check_size", "draw"]


def check_size(ensemble_size, multi_objective, predictor):
    """`ensemble_size` as an `int` (or `None`, off), or a `ValueError`."""
    if ensemble_size is None:
        return None
    check_int("ensemble_size", ensemble_size, 2)
    if multi_objective:
        raise ValueError(
            "`ensemble_size` selects an ensemble on the validation loss of "
            "one objective; with several the tournament ranks by Pareto "
            f"fronts. Received: ensemble_size={ensemble_size!r} with several "
            "objectives. Accepted: ensemble_size=None, or one objective.")
    if predictor is not None:
        raise ValueError(
            "`ensemble_size` (parents from the population's ensemble) and "
            "`predictor` (children of the best trials, ranked by a "
            f"surrogate) choose parents in two ways. Received: ensemble_size="
            f"{ensemble_size!r} and a predictor. Accepted: one of them.")
    return int(ensemble_size)


def draw(oracle):
    """Hyperparameter values of a parent for `oracle` (an `EvolutionOracle`
    with an `ensemble_size`): a member of the ensemble selected from its
    population, drawn uniformly with its random state; `None` when there is
    no ensemble to draw from (then the tournament decides).

    The members are kept as `oracle.ensemble`.
    """
    selector = oracle.ensemble_selector
    if selector is None:
        if not getattr(oracle, "_warned_no_selector", False):
            oracle._warned_no_selector = True
            warnings.warn(
                f"EvolutionOracle(ensemble_size={oracle.ensemble_size}) has "
                "no `ensemble_selector` (a `NASSearch` sets one), so its "
                "parents are tournament winners as in plain evolution.",
                stacklevel=4)
        return None
    population = list(oracle.population)
    picks = selector(population, oracle.ensemble_size) if population else ()
    members = [t for t in dict.fromkeys(picks) if t in oracle.trials]
    if not members:
        return None
    oracle._ensemble = members
    parent = members[int(oracle._rng.integers(len(members)))]
    return dict(oracle.trials[parent].hyperparameters.values)
