"""Search strategies, as Keras Tuner oracles.

Keras Tuner's own `RandomSearchOracle`, `BayesianOptimizationOracle` and
`HyperbandOracle` search a `SearchSpace` unchanged. This package adds the
strategies Keras Tuner lacks, `EvolutionOracle` (regularized evolution) and
`LocalSearchOracle` (local search), either guided by a `Predictor`, and
subclasses of those three that only propose sequences valid for the input.

`get()` is the one place that turns a strategy name into an oracle, as
`keras.optimizers.get` does for optimizers, and `wrap()` (`queue`) the one
place that puts the search's oracle together around it:
`Promotions(Queue(strategy))`. `"auto"`, the default of
`NASSearch`, is the strategy that measured best (benchmarks/README.md):
local search guided by its predictor for one objective, and regularized
evolution, which ranks by Pareto fronts, for several.
"""

import copy

import keras_tuner

from keras_nas import _compat
from keras_nas.strategies.evolution import MUTATIONS, EvolutionOracle
from keras_nas.strategies.local import LocalSearchOracle
from keras_nas.strategies.predictor import Predictor
from keras_nas.strategies.queue import Queue, enqueue, wrap
from keras_nas.strategies.spec import Strategy
from keras_nas.strategies.keras_tuner_oracles import (
    BayesianOptimizationOracle,
    HyperbandOracle,
    RandomSearchOracle,
    supports_multi_objective,
)

__all__ = [
    "EvolutionOracle",
    "LocalSearchOracle",
    "Predictor",
    "MUTATIONS",
    "Queue",
    "RandomSearchOracle",
    "BayesianOptimizationOracle",
    "HyperbandOracle",
    "STRATEGIES",
    "Strategy",
    "check_strategy",
    "enqueue",
    "get",
    "name_of",
    "strategy_of",
    "wrap",
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


def _several(objective):
    """Whether `objective` is several: a list as `NASSearch` takes it, or
    Keras Tuner's multi-objective once made."""
    return isinstance(objective, (list, tuple)) or (
        _compat.is_multi_objective(objective))


def check_strategy(strategy, objective=None):
    """`strategy` if `get()` accepts it and it can optimize `objective`
    (one, or a list of several: `supports_multi_objective`), else a
    `ValueError`, before anything is trained."""
    if not (isinstance(strategy, (keras_tuner.Oracle, Strategy)) or (
            strategy in STRATEGIES)):
        raise ValueError(
            f"Unknown `strategy`: {strategy!r}. Accepted: one of "
            f"{STRATEGIES}, a `keras_nas.Strategy(name, **options)`, or a "
            "`keras_tuner.Oracle` instance.")
    is_oracle = isinstance(strategy, keras_tuner.Oracle)
    name = None if is_oracle else getattr(strategy, "name", strategy)
    oracle = strategy if is_oracle else _CLASSES.get(name)  # "auto": any.
    if _several(objective) and oracle is not None and (
            not supports_multi_objective(oracle)):
        shown = f"a {type(strategy).__name__}" if is_oracle else repr(name)
        raise ValueError(
            f"strategy={shown} optimizes one objective; with several it "
            "would optimize the sum of their values (accuracy plus weights)."
            " Accepted with a list of objectives: 'auto' or 'evolution' "
            "(Pareto rank), 'random', or an oracle that declares "
            "`supports_multi_objective = True`. Received: "
            f"objective={objective!r}.")
    return strategy


def resolve(strategy, objective, options=None):
    """`(name, options)` of a strategy name: `"auto"` becomes
    `"local"` with its predictor on for one `objective` (a
    `keras_tuner.Objective` or a list of them), and `"evolution"` for
    several; any other name is returned as it is."""
    options = dict(options or {})
    if strategy != "auto":
        return strategy, options
    if _several(objective):
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


def strategy_of(oracle):
    """The strategy's oracle inside a search's oracle (`wrap`): itself if
    it is not wrapped."""
    return _compat.unwrapped(oracle)


def get(strategy, *, space, objective, max_trials, seed=None, epochs=None,
        options=None):
    """The oracle of a strategy, over a bound `SearchSpace`.

    Args:
        strategy: A name in `STRATEGIES`, a `Strategy`, or a
            `keras_tuner.Oracle`. An oracle is copied, and the copy of one
            made without a space, an objective or `max_trials` gets the
            search's: the user's instance is left as it was.
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
    check_strategy(strategy, objective)
    if isinstance(strategy, Strategy):
        strategy, options = strategy.name, {**strategy.options,
                                            **(options or {})}
    if isinstance(strategy, keras_tuner.Oracle):
        # A copy: a config holding the instance stays as the user made it,
        # and two searches given one instance do not share its trials.
        oracle = copy.deepcopy(strategy)
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
