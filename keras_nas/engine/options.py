"""The option objects of the engine stage: how each candidate trains
(`Training`) and which engine runs the trials (`KerasTunerEngine`).

Each is a small frozen value checked once when it is made, with a
`get_config`/`from_config` pair that are exact inverses, as Ray Tune's
`TuneConfig` and SMAC3's `Scenario` are. `NASSearch` takes them as
`training=` and `engine=`.
"""

import dataclasses

from keras_nas._checks import check_int, check_seconds
from keras_nas.space.architecture import HEADS

__all__ = ["ENGINES", "KerasTunerEngine", "Training", "deserialize",
           "engine_from_argument", "serialize"]


def serialize(obj):
    """An option's value as JSON: as it is, or Keras' serialization."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    import keras

    return keras.saving.serialize_keras_object(obj)


def deserialize(config):
    """The inverse of `serialize`."""
    if config is None or isinstance(config, (str, int, float, bool)):
        return config
    import keras

    return keras.saving.deserialize_keras_object(config)


@dataclasses.dataclass(frozen=True)
class Training:
    """How every candidate is compiled and trained.

    Args:
        optimizer: Optimizer name or instance, cloned for every candidate.
            Defaults to `"adam"`.
        loss: A loss to use instead of the task's default. Defaults to
            `None`.
        metrics: Extra Keras metrics for every candidate. The objective may
            be any of them, e.g. `"val_f1_score"` with
            `keras.metrics.F1Score(average="macro")`. Defaults to `()`.
        patience: Epochs without improvement of the objective before a
            candidate stops early. Defaults to `3`.
        head: `"auto"`, `"flatten"` or `"gap"`: how spatial maps become flat
            before the head. Defaults to `"auto"`.
        steps_per_execution: Batches each compiled call of a candidate's
            training runs, as for `keras.Model.compile`. More than one
            saves Python's overhead per batch, which on small models and
            data costs as much as the batch itself; callbacks'
            `on_train_batch_*` methods then run every that many batches.
            `None` picks `engine.speed.DEFAULT_STEPS_PER_EXECUTION` (`1` on
            the PyTorch backend, which does not support more). Defaults to
            `None`.
        distribution_strategy: Optional `tf.distribute.Strategy` under which
            each trial trains (data parallelism inside a trial; TensorFlow
            backend; not saved in the config). Defaults to `None`.
        max_consecutive_failed_trials: Failures of the user's setup (an
            exception in a callback, the loss, a metric) in a row that stop
            the search; failures of an architecture (NaN loss, out of
            memory, invalid) stop it only when none of the first three
            times as many trials completed. Defaults to `3`.
    """

    optimizer: object = "adam"
    loss: object = None
    metrics: tuple = ()
    patience: int = 3
    head: str = "auto"
    steps_per_execution: object = None
    distribution_strategy: object = dataclasses.field(default=None,
                                                      compare=False)
    max_consecutive_failed_trials: int = 3

    def __post_init__(self):
        if isinstance(self.metrics, (str, bytes)) or not isinstance(
                self.metrics, (list, tuple)):
            metrics = [] if self.metrics is None else [self.metrics]
        else:
            metrics = self.metrics
        object.__setattr__(self, "metrics", tuple(metrics))
        check_int("patience", self.patience, 0)
        check_int("max_consecutive_failed_trials",
                  self.max_consecutive_failed_trials, 1)
        if self.head not in HEADS:
            raise ValueError(
                f"`head` must be one of {HEADS}. Received: "
                f"head={self.head!r}.")
        from keras_nas.engine.speed import resolve_steps_per_execution

        resolve_steps_per_execution(self.steps_per_execution)  # Checks it.

    def get_config(self):
        return {
            "optimizer": serialize(self.optimizer),
            "loss": serialize(self.loss),
            "metrics": [serialize(m) for m in self.metrics],
            "patience": self.patience,
            "head": self.head,
            "steps_per_execution": self.steps_per_execution,
            "max_consecutive_failed_trials":
                self.max_consecutive_failed_trials,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["optimizer"] = deserialize(config["optimizer"])
        config["loss"] = deserialize(config["loss"])
        config["metrics"] = tuple(deserialize(m) for m in config["metrics"])
        return cls(**config)


@dataclasses.dataclass(frozen=True)
class KerasTunerEngine:
    """Keras Tuner's chief/worker engine on this machine: with `workers`,
    this process serves the strategy and the workers run this program
    again (each pinned to its own GPU when there are GPUs).

    Args:
        workers: Trials at once. `0` trains here, one after another; `N`
            trains in `N` worker processes, which run this program again
            (the code after `fit` runs here only). Defaults to `0`.
        timeout_s: Optional seconds after which a parallel search is stopped
            with `TimeoutError`. Defaults to `None`.
        trials_per_process: Each worker process trains at most this many
            trials, then a fresh one takes over. This bounds memory on
            TensorFlow, which keeps about 5 MB of every traced training
            step until its process ends. Needs `workers` of at least 1,
            since only worker processes can be replaced. Defaults to `None`
            (no limit).
        pack_size: How many candidates each process trains at once, in
            one compiled model (`engine.packing`): `"auto"` fills a pack
            by the candidates' FLOPs and weights against the device
            (`engine.pack_size`), an integer caps it, `1` trains one at a
            time. Each candidate is still its own trial: its own early
            stopping, rungs, checkpoint and record. Defaults to `"auto"`.
    """

    workers: int = 0
    timeout_s: object = None
    trials_per_process: object = None
    pack_size: object = "auto"

    name = "keras_tuner"

    def __post_init__(self):
        object.__setattr__(self, "workers",
                           check_int("workers", self.workers, 0))
        object.__setattr__(self, "timeout_s",
                           check_seconds("timeout_s", self.timeout_s))
        from keras_nas.engine.pack_size import PackSize

        PackSize(self.pack_size)  # Checks it.
        if self.trials_per_process is not None:
            check_int("trials_per_process", self.trials_per_process, 1)
            if not self.workers:
                raise ValueError(
                    "`trials_per_process` needs `workers` of at least 1, "
                    "since only worker processes can be replaced. Received: "
                    f"trials_per_process={self.trials_per_process!r}, "
                    f"workers={self.workers!r}. Accepted: e.g. "
                    "`KerasTunerEngine(workers=1, trials_per_process="
                    f"{self.trials_per_process!r})`.")

    def get_config(self):
        return {"name": self.name, "workers": self.workers,
                "timeout_s": self.timeout_s,
                "trials_per_process": self.trials_per_process,
                "pack_size": self.pack_size}

    @classmethod
    def from_config(cls, config):
        config = {k: v for k, v in config.items() if k != "name"}
        return cls(**config)


#: The engines `NASSearch(engine=...)` knows by name.
ENGINES = {"keras_tuner": KerasTunerEngine}


def engine_from_argument(engine):
    """The engine option object of `NASSearch(engine=...)`: a name in
    `ENGINES`, an engine object, or a config dict of one. Ray's are checked
    by `ray_options` (a missing extra fails here, at construction)."""
    from keras_nas.engine import ray_options

    if engine is None or engine == "keras":
        return KerasTunerEngine()
    if isinstance(engine, dict):
        config = dict(engine)
        if config.get("name") == "ray":
            return ray_options.Ray.from_config(config)
        cls = ENGINES.get(config.get("name"))
        if cls is not None:
            return cls.from_config(config)
    elif isinstance(engine, str) and engine in ENGINES:
        return ENGINES[engine]()
    elif engine == "ray" or isinstance(engine, ray_options.Ray):
        return ray_options.engine_from_argument(engine)
    elif isinstance(engine, tuple(ENGINES.values())):
        return engine
    raise ValueError(
        f"`engine` must be one of {sorted(ENGINES) + ['ray']} or an engine "
        "object (`keras_nas.KerasTunerEngine(...)`, `keras_nas.Ray(...)`). "
        f"Received: engine={engine!r}.")
