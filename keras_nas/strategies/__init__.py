"""Search strategies, as Keras Tuner oracles.

Keras Tuner's own `RandomSearchOracle`, `BayesianOptimizationOracle` and
`HyperbandOracle` search a `SearchSpace` unchanged. This package adds the
strategies Keras Tuner lacks, `EvolutionOracle` (regularized evolution) and
`LocalSearchOracle` (local search), either guided by a `Predictor`, and
subclasses of those three that only propose sequences valid for the input.

`get()` is the one place that turns a strategy name into an oracle, as
`keras.optimizers.get` does for optimizers. `"auto"`, the default of
`NASSearch`, is the strategy that measured best (benchmarks/README.md):
local search guided by its predictor for one objective, and regularized
evolution, which ranks by Pareto fronts, for several.
"""

import keras_tuner

from keras_nas import _compat
from keras_nas.strategies.evolution import MUTATIONS, EvolutionOracle
from keras_nas.strategies.local import LocalSearchOracle
from keras_nas.strategies.predictor import Predictor
from keras_nas.strategies.queue import enqueue, queued
from keras_nas.strategies.spec import Strategy
from keras_nas.strategies.keras_tuner_oracles import (
    BayesianOptimizationOracle,
    HyperbandOracle,
    RandomSearchOracle,
)

__all__ = [
    "EvolutionOracle",
    "LocalSearchOracle",
    "Predictor",
    "MUTATIONS",
    "RandomSearchOracle",
    "BayesianOptimizationOracle",
    "HyperbandOracle",
    "STRATEGIES",
    "Strategy",
    "check_strategy",
    "enqueue",
    "get",
    "name_of",
    "queued",
]

#: The strategies `get()` knows by name.
STRATEGIES = ("auto", "evolution", "local", "random", "bayesian", "hyperband")

_CLASSES = {
    "evolution": EvolutionOracle,
    "local": LocalSearchOracle,
    "random": RandomSearchOracle,
    "bayesian": BayesianOptimizationOracle,
    "hyperband": HyperbandOracle,
}


def check_strategy(strategy):
    """`strategy` if `get()` accepts it, else a `ValueError`."""
    if isinstance(strategy, (keras_tuner.Oracle, Strategy)) or (
            strategy in STRATEGIES):
        return strategy
    raise ValueError(
        f"Unknown `strategy`: {strategy!r}. Accepted: one of {STRATEGIES}, "
        "a `keras_nas.Strategy(name, **options)`, or a "
        "`keras_tuner.Oracle` instance."
    )


def resolve(strategy, objective, options=None):
    """`(name, options)` of a strategy name: `"auto"` becomes
    `"local"` with its predictor on for one `objective` (a
    `keras_tuner.Objective` or a list of them), and `"evolution"` for
    several; any other name is returned as it is."""
    options = dict(options or {})
    if strategy != "auto":
        return strategy, options
    # A list is several, as `data.task.check_objective_argument` counts it.
    if _compat.is_multi_objective(objective) or isinstance(
            objective, (list, tuple)):
        return "evolution", options
    options.setdefault("predictor", True)
    return "local", options


def name_of(oracle):
    """The strategy name of `oracle` if `get()` makes its class, else
    `None` (a user's own oracle)."""
    for name, cls in _CLASSES.items():
        if type(oracle) is cls:
            return name
    return None


def get(strategy, *, space, objective, max_trials, seed=None, epochs=None,
        options=None):
    """The oracle of a strategy, over a bound `SearchSpace`.

    Args:
        strategy: A name in `STRATEGIES`, a `Strategy`, or a
            `keras_tuner.Oracle`. An
            oracle made without a space, an objective or `max_trials` gets
            the search's.
        space: The bound `SearchSpace`.
        objective: The `keras_tuner.Objective`.
        max_trials: The search's budget of trials.
        seed: Optional seed.
        epochs: The most epochs a trial trains (Hyperband's `max_epochs`).
        options: Optional dict of extra constructor arguments for a named
            strategy, e.g. `{"population_size": 10}` for evolution.

    Returns:
        A `keras_tuner.Oracle`. Its own limit on consecutive failed trials
        is turned off: the tuner applies the search's failure policy, which
        tells a failing architecture from a failing setup.
    """
    check_strategy(strategy)
    if isinstance(strategy, Strategy):
        strategy, options = strategy.name, {**strategy.options,
                                            **(options or {})}
    if isinstance(strategy, keras_tuner.Oracle):
        oracle = strategy
        if getattr(oracle, "space", False) is None:
            if isinstance(oracle, (EvolutionOracle, LocalSearchOracle)):
                oracle.set_space(space)
            else:
                oracle.space = space
        if _compat.has_default_objective(oracle):
            oracle.objective = _compat.make_objective(objective)
        if oracle.max_trials is None:
            oracle.max_trials = max_trials
    else:
        strategy, options = resolve(strategy, objective, options)
        common = dict(space=space, objective=objective, seed=seed)
        if strategy == "evolution":
            # Small budgets get a small population, so that evolution, not
            # the random seeding, spends most of them.
            population = options.pop(
                "population_size", max(4, min(20, max_trials // 4)))
            options.setdefault("sample_size", max(2, population // 4))
            oracle = EvolutionOracle(max_trials=max_trials,
                                     population_size=population,
                                     **common, **options)
        elif strategy == "hyperband":
            oracle = HyperbandOracle(
                max_epochs=options.pop("max_epochs", epochs or 10),
                **common, **options)
            oracle.max_trials = max_trials
        else:
            oracle = _CLASSES[strategy](max_trials=max_trials, **common,
                                        **options)
    oracle.max_consecutive_failed_trials = None
    return oracle
