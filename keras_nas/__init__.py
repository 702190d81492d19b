"""keras_nas: neural architecture search for Keras, built on Keras Tuner.

The pipeline, one module a stage; a module imports only from those before it:

    blocks -> ops -> architecture -> space -> task -> halving -> pareto
        -> importance -> oracles -> builder -> latency -> data -> proxies
        -> callbacks -> parallel -> failures -> tuner -> results -> tf_only
        -> progress -> warmstart -> project -> found -> search -> report
        -> cli

(`_atomic`, `_checks` and `_compat`, the one door to Keras Tuner's
internals, serve them all. Two imports reach forward, when called: `data`
hands a `tf.data.Dataset` to `tf_only`, the one TensorFlow-only module, and
a search's `plot_*` methods hand it to `report`; `tests/test_layout.py`
holds the rule and these two exceptions.)

The names below load on first use, so `keras-nas --help` answers without
starting a deep-learning backend.
"""

import importlib
import sys

__version__ = "0.1.0"

_EXPORTS = {
    "NASSearch": "keras_nas.search",
    "SearchSpace": "keras_nas.space",
    "EvolutionOracle": "keras_nas.oracles",
    "build_model": "keras_nas.builder",
    "plan": "keras_nas.architecture",
    "Plan": "keras_nas.architecture",
    "InvalidArchitectureError": "keras_nas.ops",
    "load_digits": "keras_nas.data",
    "Task": "keras_nas.task",
    "WarmStart": "keras_nas.warmstart",
}
_MODULES = ("ops", "blocks", "architecture", "space", "task", "halving",
            "oracles", "builder", "proxies", "data", "callbacks", "tf_only",
            "parallel", "tuner", "results", "progress", "warmstart", "search",
            "pareto", "importance", "latency", "report", "cli")

__all__ = sorted(_EXPORTS) + ["ops", "oracles", "proxies"]


if "keras" in sys.modules:
    # Keras is loaded already, so registering the block layers costs nothing
    # more, and `keras.models.load_model` then finds them in safe mode. With
    # Keras not yet loaded we stay lazy (the CLI's `--help` starts no
    # backend); `import keras_nas.blocks` registers them in any order.
    from keras_nas import blocks  # noqa: F401


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"keras_nas.{name}")
    else:
        raise AttributeError(f"module 'keras_nas' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
