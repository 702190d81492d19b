"""`Ray`: the settings of the Ray engine, one frozen, checked value.

`NASSearch(engine="ray")` or `engine=Ray(...)` runs each trial as a Ray
task (`engine.ray_engine`) instead of in this process or in Keras Tuner's
chief/worker processes. The settings are grouped here, as Ray Tune groups
its own (`TuneConfig`, `FailureConfig`), and checked once, before any work:
a typo in a resource name would otherwise surface only after Ray started,
or as a trial that never gets scheduled.

Ray is an optional extra (`pip install "keras-nas[ray]"`); `require_ray`
is the one place that imports it and says how to install it.
"""

import dataclasses
import numbers
from typing import Mapping, Optional

__all__ = ["ENGINES", "Ray", "engine_from_argument", "require_ray"]

#: What `NASSearch(engine=...)` accepts by name.
ENGINES = ("keras", "ray")

_MIN_RAY = (2, 40)


def require_ray():
    """The `ray` module, or an `ImportError` that names the extra."""
    try:
        import ray
    except ImportError as e:
        raise ImportError(
            "engine='ray' needs Ray 2.40 or later: `pip install "
            "\"keras-nas[ray]\"` (or `pip install \"ray[tune]>=2.40\"`).") from e
    version = tuple(int(p) for p in ray.__version__.split(".")[:2]
                    if p.isdigit())
    if version < _MIN_RAY:
        raise ImportError(
            f"engine='ray' needs Ray 2.40 or later; found {ray.__version__}. "
            "`pip install -U \"keras-nas[ray]\"`.")
    return ray


def _number(name, value, low=0.0):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            value >= low):
        raise ValueError(
            f"`{name}` must be a number of at least {low}. Received: "
            f"{name}={value!r}.")
    return float(value)


@dataclasses.dataclass(frozen=True)
class Ray:
    """Where and how the trials of a search run on Ray.

    Args:
        workers: Trials at once, each a Ray task (on this machine's cores
            or anywhere on the cluster). Defaults to `1`.
        address: `None` starts Ray embedded in this process, on this
            machine's cores (`ray.init()`); `"auto"` joins the cluster this
            machine is a node of; `"ray://host:10001"` connects to a remote
            one. A Ray already initialized by the caller is used as it is.
            Defaults to `None`.
        resources_per_trial: What one trial holds: `"cpu"` and `"gpu"` (a
            fraction packs several trials on one GPU, `0.25` four), and any
            custom Ray resources by name. Defaults to
            `{"cpu": 1, "gpu": 0}`.
        trials_per_process: Trials one worker process runs before Ray
            replaces it (Ray's `max_calls`), so that the backend's memory
            stays flat (TensorFlow keeps about 5 MB per traced training
            step), as on Keras Tuner's engine. Defaults to `20`.
        max_retries: Times a trial whose worker process died (killed, out
            of memory, `os._exit`) runs again before it is recorded as
            FAILED. Defaults to `2`.
        num_cpus: Cores of an embedded Ray (`address=None`); `None` for all
            of this machine's. Defaults to `None`.
        ordered: Record finished trials in the order they were proposed, so
            that the same seed and `workers` give the same proposals on any
            run. `False` records each as it finishes: no worker waits for a
            slower earlier trial, but the proposals then depend on timing.
            Defaults to `True`.
        pack_size: Trials one task trains at once, in one compiled model
            (`engine.packing`; each still its own trial), holding the
            task's `resources_per_trial`: an integer, or `"auto"` (by
            the candidates' FLOPs and weights against the driver's
            device, `engine.pack_size`). Defaults to `1`: one trial a
            task, since packs were measured on one machine, not on Ray.
    """

    workers: int = 1
    address: Optional[str] = None
    resources_per_trial: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {"cpu": 1, "gpu": 0})
    trials_per_process: int = 20
    max_retries: int = 2
    num_cpus: Optional[int] = None
    ordered: bool = True
    pack_size: object = 1

    def __post_init__(self):
        from keras_nas.engine.pack_size import PackSize

        PackSize(self.pack_size)  # Checks it.
        if self.address is not None and not isinstance(self.address, str):
            raise ValueError(
                "`address` must be None (Ray embedded on this machine), "
                "'auto' or a 'ray://host:port' address. Received: "
                f"address={self.address!r}.")
        if not isinstance(self.resources_per_trial, Mapping):
            raise ValueError(
                "`resources_per_trial` must be a dict such as {'cpu': 1, "
                "'gpu': 0.25}. Received: "
                f"resources_per_trial={self.resources_per_trial!r}.")
        resources = {}
        for key, value in self.resources_per_trial.items():
            if not isinstance(key, str) or not key:
                raise ValueError(
                    "`resources_per_trial` keys must be resource names "
                    f"('cpu', 'gpu' or a custom one). Received: {key!r}.")
            name = key.lower() if key.lower() in ("cpu", "gpu") else key
            resources[name] = _number(f"resources_per_trial[{key!r}]", value)
        resources.setdefault("cpu", 1.0)
        resources.setdefault("gpu", 0.0)
        gpu = resources["gpu"]
        if gpu > 1 and gpu != int(gpu):
            raise ValueError(
                "`resources_per_trial['gpu']` must be a fraction of one GPU "
                "(at most 1) or a whole number of GPUs. Received: "
                f"resources_per_trial['gpu']={gpu!r}.")
        object.__setattr__(self, "resources_per_trial", resources)
        for name, low in (("workers", 1), ("trials_per_process", 1),
                          ("max_retries", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or (
                    value < low):
                raise ValueError(
                    f"`{name}` must be an integer of at least {low}. "
                    f"Received: {name}={value!r}.")
        if self.num_cpus is not None and (
                isinstance(self.num_cpus, bool)
                or not isinstance(self.num_cpus, int) or self.num_cpus < 1):
            raise ValueError(
                "`num_cpus` must be a positive integer or None. Received: "
                f"num_cpus={self.num_cpus!r}.")
        if self.num_cpus is not None and self.address is not None:
            raise ValueError(
                "`num_cpus` sizes an embedded Ray (address=None); a cluster "
                "has its own. Received: "
                f"num_cpus={self.num_cpus!r}, address={self.address!r}.")
        if not isinstance(self.ordered, bool):
            raise ValueError(
                f"`ordered` must be True or False. Received: "
                f"ordered={self.ordered!r}.")

    def __hash__(self):
        return hash((self.workers, self.address, tuple(sorted(
            self.resources_per_trial.items())), self.trials_per_process,
            self.max_retries, self.num_cpus, self.ordered, self.pack_size))

    @property
    def gpu_fraction(self):
        """The share of one GPU a trial holds (`0` for none, `1` for one or
        more whole GPUs)."""
        return min(self.resources_per_trial["gpu"], 1.0)

    name = "ray"

    def get_config(self):
        return {"name": self.name, "workers": self.workers,
                "address": self.address,
                "resources_per_trial": dict(self.resources_per_trial),
                "trials_per_process": self.trials_per_process,
                "max_retries": self.max_retries,
                "num_cpus": self.num_cpus,
                "ordered": self.ordered,
                "pack_size": self.pack_size}

    @classmethod
    def from_config(cls, config):
        return cls(**{k: v for k, v in config.items() if k != "name"})


def engine_from_argument(engine):
    """`None` for Keras Tuner's engine, or the `Ray` settings of `engine`.

    Ray is checked importable, so a missing extra fails at construction;
    not for a saved config (a dict), so that a search run on Ray reopens
    for its reports where Ray is not installed (its `fit` then says so).
    """
    if engine is None or engine == "keras":
        return None
    if isinstance(engine, dict):
        return Ray.from_config(engine)
    if engine == "ray":
        engine = Ray()
    if not isinstance(engine, Ray):
        raise ValueError(
            f"`engine` must be one of {ENGINES} or a `keras_nas.Ray(...)`. "
            f"Received: engine={engine!r}.")
    require_ray()
    return engine
