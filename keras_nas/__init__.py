"""keras_nas: neural architecture search for Keras, built on Keras Tuner.

The package is the pipeline, one folder a stage; a stage imports only from
the stages before it (`tests/test_layout.py` holds the rule):

    ops           the op vocabulary: registry, single-layer ops, blocks
    data          input checks, the task rules, tf.data input, built-in data
    space         SearchSpace: plan, validity, params/FLOPs, the builder
    export        model formats; converting and running models in ONNX
                  Runtime and LiteRT
    schedulers    when a candidate stops or goes on: successive halving,
                  its rung table, ASHA's promotions
    strategies    oracles (local search, evolution, ...), the predictor,
                  the queue of first architectures, Pareto ranks
    scoring       candidates scored without training (zero-cost proxies,
                  the warm start) and latency measured
    engine        hypermodel, tuner, callbacks, failures; the engines that
                  run trials in parallel (Keras Tuner's, Ray)
    integrations  our strategies inside other tools (Ray Tune's Searcher)
    analysis      trial records, importance, plots, progress, TensorBoard,
                  ensemble selection
    front         NASSearch, its configuration, a finished search, the
                  project folder, export of a search, its ensembles
    cli           the keras-nas command

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
STAGES = ("ops", "data", "space", "export", "schedulers", "strategies",
          "scoring", "engine", "integrations", "analysis", "front", "cli")

_EXPORTS = {
    "NASSearch": "keras_nas.front.search",
    "SearchSpace": "keras_nas.space.search_space",
    "EvolutionOracle": "keras_nas.strategies",
    "LocalSearchOracle": "keras_nas.strategies",
    "build_model": "keras_nas.space.builder",
    "plan": "keras_nas.space.architecture",
    "Plan": "keras_nas.space.architecture",
    "InvalidArchitectureError": "keras_nas.ops",
    "load_digits": "keras_nas.data.prepare",
    "Task": "keras_nas.data.task",
    "WarmStart": "keras_nas.scoring.warmstart",
    "Halving": "keras_nas.schedulers.halving",
    "Strategy": "keras_nas.strategies.spec",
    "Latency": "keras_nas.scoring.latency",
    "Training": "keras_nas.engine.options",
    "Preprocessing": "keras_nas.data.preprocessing",
    "KerasTunerEngine": "keras_nas.engine.options",
    "SearchConfig": "keras_nas.front.config",
    "SearchResults": "keras_nas.front.results",
    "ProjectFolderError": "keras_nas.front.project_folder",
    "ProjectLockedError": "keras_nas.front.project_lock",
    "DamagedProjectError": "keras_nas.front.project_folder",
    "Ray": "keras_nas.engine.ray_options",
}
# Modules by their short names: `keras_nas.blocks.ConvBNReLU` and
# `keras_nas.ops.register` are public; the stage folders load on first use
# as any subpackage does, but are not part of `__all__`.
_MODULES = {
    "ops": "keras_nas.ops",
    "blocks": "keras_nas.ops.blocks",
    **{stage: f"keras_nas.{stage}" for stage in STAGES if stage != "cli"},
}

__all__ = sorted(_EXPORTS) + ["blocks", "ops"]


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
            # And the preprocessing's own layer (a table's missing numbers).
            importlib.import_module("keras_nas.data.tables")

        spec.loader.exec_module = exec_then_register
        return spec


if "keras" in sys.modules:
    # Keras is loaded already, so registering the block layers costs nothing
    # more, and `keras.models.load_model` then finds them in safe mode.
    from keras_nas.ops import blocks  # noqa: F401
    from keras_nas.data import tables  # noqa: F401
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
