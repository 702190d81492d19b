"""Search strategies, as Keras Tuner oracles.

Keras Tuner's own `RandomSearchOracle`, `BayesianOptimizationOracle` and
`HyperbandOracle` search a `SearchSpace` unchanged. This package adds the
strategy Keras Tuner lacks: `EvolutionOracle`, regularized evolution.
"""

from keras_nas.oracles.evolution import MUTATIONS, EvolutionOracle

__all__ = ["EvolutionOracle", "MUTATIONS"]
