"""Search strategies, as Keras Tuner oracles.

Keras Tuner's own `RandomSearchOracle`, `BayesianOptimizationOracle` and
`HyperbandOracle` search a `SearchSpace` unchanged. This package adds the
strategy Keras Tuner lacks, `EvolutionOracle` (regularized evolution), and
subclasses of those three that only propose sequences valid for the input.
"""

from keras_nas.oracles.evolution import MUTATIONS, EvolutionOracle
from keras_nas.oracles.keras_tuner_oracles import (
    BayesianOptimizationOracle,
    HyperbandOracle,
    RandomSearchOracle,
)

__all__ = [
    "EvolutionOracle",
    "MUTATIONS",
    "RandomSearchOracle",
    "BayesianOptimizationOracle",
    "HyperbandOracle",
]
