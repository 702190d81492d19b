"""keras_nas: neural architecture search for Keras, built on Keras Tuner.

The pipeline, one module a stage:

    ops -> architecture -> space -> oracles -> builder -> data -> tuner
        -> results -> search -> report / tf_only / distributed -> cli
"""

from keras_nas import oracles
from keras_nas import ops
from keras_nas.architecture import Plan, plan
from keras_nas.builder import build_model
from keras_nas.data import load_digits
from keras_nas.ops import InvalidArchitectureError
from keras_nas.oracles import EvolutionOracle
from keras_nas.search import NASSearch
from keras_nas.space import SearchSpace

__version__ = "0.1.0"

__all__ = [
    "NASSearch",
    "SearchSpace",
    "EvolutionOracle",
    "build_model",
    "plan",
    "Plan",
    "InvalidArchitectureError",
    "load_digits",
    "ops",
    "oracles",
]
