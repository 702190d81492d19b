"""keras_nas: neural architecture search for Keras, built on Keras Tuner.

The pipeline, one module a stage:

    ops -> architecture -> space -> oracles -> builder -> data -> search
        -> report / tensorboard / cli
"""

from keras_nas import ops
from keras_nas.architecture import Plan, plan
from keras_nas.builder import build_model
from keras_nas.ops import InvalidArchitectureError
from keras_nas.space import SearchSpace

__version__ = "0.1.0"

__all__ = [
    "ops",
    "Plan",
    "plan",
    "build_model",
    "InvalidArchitectureError",
    "SearchSpace",
]
