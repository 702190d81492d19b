"""keras_nas: neural architecture search for Keras, built on Keras Tuner.

The package is the pipeline, one folder a stage; a stage imports only from
the stages before it (`tests/test_layout.py` holds the rule):

    ops         the op vocabulary: registry, single-layer ops, block layers
    data        input checks, the task rules, tf.data input, built-in data
    space       SearchSpace: plan, validity, params/FLOPs, builder, latency
    strategies  oracles (evolution, ...), the queue, halving, warm start,
                zero-cost proxies, Pareto ranks
    engine      hypermodel, tuner, callbacks, failures; the engines that
                run trials in parallel (Keras Tuner's, Ray)
    analysis    trial records, importance, plots, progress, TensorBoard
    front       NASSearch, its configuration, a finished search, the
                project folder
    cli         the keras-nas command

(`_atomic`, `_checks` and `_compat`, the one door to Keras Tuner's
internals, serve them all.)

The names below load on first use, so `keras-nas --help` answers without
starting a deep-learning backend.
"""

import importlib
import sys

__version__ = "0.1.0"

#: The stages, in import order.
STAGES = ("ops", "data", "space", "strategies", "engine", "analysis",
          "front", "cli")

_EXPORTS = {
    "NASSearch": "keras_nas.front.search",
    "SearchSpace": "keras_nas.space.search_space",
    "EvolutionOracle": "keras_nas.strategies",
    "build_model": "keras_nas.space.builder",
    "plan": "keras_nas.space.architecture",
    "Plan": "keras_nas.space.architecture",
    "InvalidArchitectureError": "keras_nas.ops",
    "load_digits": "keras_nas.data.prepare",
    "Task": "keras_nas.data.task",
    "WarmStart": "keras_nas.strategies.warmstart",
    "Ray": "keras_nas.engine.ray_options",
}
# Public modules by their short names (`keras_nas.blocks.ConvBNReLU`).
_MODULES = {
    "ops": "keras_nas.ops",
    "blocks": "keras_nas.ops.blocks",
    "oracles": "keras_nas.strategies",
    "proxies": "keras_nas.strategies.proxies",
    **{stage: f"keras_nas.{stage}" for stage in STAGES},
}

__all__ = sorted(_EXPORTS) + ["blocks", "ops", "oracles", "proxies"]


if "keras" in sys.modules:
    # Keras is loaded already, so registering the block layers costs nothing
    # more, and `keras.models.load_model` then finds them in safe mode. With
    # Keras not yet loaded we stay lazy (the CLI's `--help` starts no
    # backend); `import keras_nas.ops.blocks` registers them in any order.
    from keras_nas.ops import blocks  # noqa: F401


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    else:
        raise AttributeError(f"module 'keras_nas' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
