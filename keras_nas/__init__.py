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
import importlib.util
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
    "Halving": "keras_nas.strategies.halving",
    "Strategy": "keras_nas.strategies.spec",
    "Latency": "keras_nas.space.latency",
    "Training": "keras_nas.engine.options",
    "KerasTunerEngine": "keras_nas.engine.options",
    "SearchConfig": "keras_nas.front.config",
    "SearchResults": "keras_nas.front.results",
    "ProjectFolderError": "keras_nas.front.project_folder",
    "ProjectLockedError": "keras_nas.front.project_folder",
    "DamagedProjectError": "keras_nas.front.project_folder",
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


class _BlocksAfterKeras:
    """Register the block layers as soon as Keras is imported.

    A `.keras` file of block layers names them `keras_nas>ConvBNReLU`;
    `keras.models.load_model` finds them only once they are registered, and
    `import keras_nas` alone must not start a backend (the CLI's `--help`).
    So when Keras is not loaded yet, this one-shot finder on `sys.meta_path`
    waits for its import and registers the blocks right after it, whatever
    the import order. It finds nothing itself: it wraps the spec the other
    finders give.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            importlib.import_module("keras_nas.ops.blocks")

        spec.loader.exec_module = exec_then_register
        return spec


if "keras" in sys.modules:
    # Keras is loaded already, so registering the block layers costs nothing
    # more, and `keras.models.load_model` then finds them in safe mode.
    from keras_nas.ops import blocks  # noqa: F401
elif not any(isinstance(f, _BlocksAfterKeras) for f in sys.meta_path):
    sys.meta_path.insert(0, _BlocksAfterKeras())


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
