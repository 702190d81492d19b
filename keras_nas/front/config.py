"""`SearchConfig`: everything a `NASSearch` was asked, checked once.

A frozen value made from `NASSearch`'s arguments, as SMAC3's `Scenario`:
every argument is checked in `__post_init__`, before any data is read, and
`get_config` / `from_config` are exact inverses, so saving a search in its
project folder, reopening it and exporting it share one description.

The argument names of keras_nas 0.1 (`metrics=`, `max_latency=`,
`min_epochs=`, ...) are translated here into the option objects that now
hold them, with a `DeprecationWarning` that names the new spelling
(`translate_deprecated`).
"""

import dataclasses
import warnings

import keras_tuner

from keras_nas._checks import check_budget, check_int, check_seconds
from keras_nas.data.task import check_objective_argument, check_task_argument
from keras_nas.engine import options as engine_options
from keras_nas.engine.options import Training
from keras_nas.front import project
from keras_nas.scoring.latency import Latency
from keras_nas.space.search_space import SearchSpace
from keras_nas import strategies
from keras_nas.schedulers.halving import Halving, halving_from_argument
from keras_nas.strategies.spec import Strategy
from keras_nas.scoring import warmstart

__all__ = ["SearchConfig", "translate_deprecated"]

_TRAINING = ("optimizer", "loss", "metrics", "patience", "head",
             "steps_per_execution", "distribution_strategy",
             "max_consecutive_failed_trials")


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """The checked arguments of a `NASSearch` (see its docstring)."""

    space: SearchSpace = None
    strategy: object = "auto"
    objective: object = None
    max_trials: int = 20
    max_time: object = None
    directory: str = "nas_runs"
    project_name: str = "search"
    overwrite: bool = False
    seed: object = None
    task: object = None
    training: Training = None
    halving: object = None
    warm_start: object = None
    initial_architectures: object = None
    latency: object = None
    workers: int = 0
    engine: object = None

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        if self.space is None:
            put("space", SearchSpace())
        elif not isinstance(self.space, SearchSpace):
            raise TypeError(
                "`space` must be a `keras_nas.SearchSpace` or None. Received: "
                f"space={self.space!r} (of type {type(self.space).__name__}).")
        strategies.check_strategy(self.strategy)
        check_objective_argument(self.objective, self.strategy)
        put("max_trials", check_int("max_trials", self.max_trials, 1))
        put("max_time", check_seconds("max_time", self.max_time))
        put("directory", str(self.directory))
        put("project_name", str(self.project_name))
        if not isinstance(self.overwrite, bool):
            raise ValueError("`overwrite` must be True or False. Received: "
                             f"overwrite={self.overwrite!r}.")
        check_task_argument(self.task)
        training = Training() if self.training is None else self.training
        if not isinstance(training, Training):
            raise TypeError(
                "`training` must be a `keras_nas.Training` or None. "
                f"Received: training={training!r}.")
        put("training", training)
        halving = halving_from_argument(self.halving)
        if halving and self.strategy_name == "hyperband":
            raise ValueError(
                "`halving` cannot be on with strategy='hyperband', which "
                f"halves epochs itself. Received: halving={self.halving!r}, "
                "strategy='hyperband'.")
        put("halving", halving)
        warmstart.from_argument(self.warm_start)  # Checks it.
        put("initial_architectures", None if self.initial_architectures
            is None else warmstart.check_initial_architectures(
                self.initial_architectures))
        if self.latency is not None and not isinstance(self.latency, Latency):
            raise TypeError(
                "`latency` must be a `keras_nas.Latency` or None. Received: "
                f"latency={self.latency!r}.")
        put("workers", check_int("workers", self.workers, 0))
        put("engine", engine_options.engine_from_argument(self.engine))
        if self.halving and self.halving.promotes and getattr(
                self.engine, "name", None) == "ray":
            raise ValueError(
                "`halving=Halving(mode='promotion')` does not run on the Ray "
                "engine yet: a Ray worker's rung checkpoints stay on its "
                "node. Received: halving="
                f"{self.halving!r}, engine={self.engine!r}. Accepted: "
                "mode='stopping' on Ray, or the Keras Tuner engine.")
        trials_per_process = getattr(self.engine, "trials_per_process", None)
        if trials_per_process is not None and not self.workers:
            raise ValueError(
                "`trials_per_process` needs `workers` of at least 1, since "
                "only worker processes can be replaced. Received: "
                f"trials_per_process={trials_per_process!r}, "
                f"workers={self.workers!r}.")

    # -- what the arguments imply ------------------------------------------

    @property
    def strategy_name(self):
        """The strategy's name, or `None` for an oracle of the user's."""
        if isinstance(self.strategy, Strategy):
            return self.strategy.name
        if isinstance(self.strategy, keras_tuner.Oracle):
            return strategies.name_of(self.strategy)
        return self.strategy

    @property
    def is_hyperband(self):
        return self.strategy_name == "hyperband" or isinstance(
            self.strategy, keras_tuner.oracles.HyperbandOracle)

    @property
    def several_objectives(self):
        return isinstance(self.objective, (list, tuple))

    def halving_in_use(self):
        """The `Halving` that trials run with, or `None`: on by default for
        one objective and every strategy but Hyperband (which halves on its
        own); with several objectives only when asked for."""
        if self.halving is None:
            if self.is_hyperband or self.several_objectives:
                return None
            return Halving()
        return self.halving or None

    def warm_start_in_use(self):
        """The `WarmStart` that runs, or `None`. Hyperband's brackets decide
        what runs, so nothing can be queued there."""
        warm = warmstart.from_argument(self.warm_start)
        return None if self.is_hyperband else warm

    def latency_in_use(self):
        """The `Latency` that the search measures, or `None` if neither a
        budget nor the `"latency_ms"` objective asks for one."""
        names = [getattr(o, "name", o) for o in (
            self.objective if self.several_objectives else [self.objective])]
        if self.latency is not None and self.latency.max_ms is not None:
            return self.latency
        if "latency_ms" in names:
            return self.latency or Latency()
        return None

    # -- config -----------------------------------------------------------

    def get_config(self):
        """The config as JSON. A strategy given as an oracle instance is
        kept by its class, and rebuilt with its default arguments (Keras
        Tuner restores its state from the project folder); the
        `distribution_strategy` is not kept."""
        strategy = self.strategy
        if isinstance(strategy, Strategy):
            strategy = strategy.get_config()
        elif isinstance(strategy, keras_tuner.Oracle):
            strategy = strategies.name_of(strategy) or {
                "class_name": f"{type(strategy).__module__}."
                              f"{type(strategy).__qualname__}"}
        warm = self.warm_start
        return {
            "space": self.space.get_config(),
            "strategy": strategy,
            "objective": project.objective_to_json(self.objective),
            "max_trials": self.max_trials,
            "max_time": self.max_time,
            "directory": self.directory,
            "project_name": self.project_name,
            "overwrite": self.overwrite,
            "seed": self.seed,
            "task": self.task,
            "training": self.training.get_config(),
            "halving": self.halving.get_config()
            if isinstance(self.halving, Halving) else self.halving,
            "warm_start": warm.get_config()
            if isinstance(warm, warmstart.WarmStart) else warm,
            "initial_architectures": self.initial_architectures,
            "latency": None if self.latency is None
            else self.latency.get_config(),
            "workers": self.workers,
            "engine": self.engine.get_config(),
        }

    @classmethod
    def from_config(cls, config, space=None):
        """The config of `get_config()` (or of keras_nas 0.1's flat
        `NASSearch.get_config()`, translated without warnings).

        Args:
            config: A dict.
            space: Optional `SearchSpace` to use instead of the config's,
                e.g. one with custom op factories.
        """
        config = dict(config)
        space_config = config.pop("space")
        config["space"] = space if space is not None else (
            SearchSpace.from_config(space_config))
        old = {k: config.pop(k) for k in list(config) if k in _DEPRECATED}
        strategy = config.get("strategy", "evolution")
        if isinstance(strategy, dict) and "options" in strategy:
            config["strategy"] = Strategy.from_config(strategy)
        else:
            config["strategy"] = project.strategy_from_config(strategy)
        config["objective"] = project.objective_from_json(
            config.get("objective"))
        if isinstance(config.get("training"), dict):
            config["training"] = Training.from_config(config["training"])
        if isinstance(config.get("warm_start"), dict):
            config["warm_start"] = warmstart.WarmStart(**config["warm_start"])
        if isinstance(config.get("latency"), dict):
            config["latency"] = Latency.from_config(config["latency"])
        if old:  # A project folder of keras_nas 0.1.
            for name in ("metrics", "optimizer", "loss"):
                if name in old:
                    old[name] = project.deserialize(old[name]) if (
                        name != "metrics") else [project.deserialize(m)
                                                 for m in old[name]]
            config = translate_deprecated(config, old, warn=False)
        return cls(**config)


#: The keras_nas 0.1 arguments of `NASSearch`, and what replaced each.
_DEPRECATED = {
    **{name: f"training=keras_nas.Training({name}=...)" for name in _TRAINING},
    "max_params": "SearchSpace(max_params=...)",
    "max_flops": "SearchSpace(max_flops=...)",
    "max_latency": "latency=keras_nas.Latency(max_ms=...)",
    "latency_batch_size": "latency=keras_nas.Latency(batch_size=...)",
    "min_epochs": "halving=keras_nas.Halving(min_epochs=...)",
    "reduction_factor": "halving=keras_nas.Halving(reduction_factor=...)",
    "worker_timeout": "engine=keras_nas.KerasTunerEngine(timeout_s=...)",
    "trials_per_process":
        "engine=keras_nas.KerasTunerEngine(trials_per_process=...) (on Ray, "
        "engine=keras_nas.Ray(max_calls=...))",
    "strategy_options": "strategy=keras_nas.Strategy(name, **options)",
    "log_dir": "fit(callbacks=[keras.callbacks.TensorBoard(log_dir)])",
}


def _deprecated_engine(engine, old):
    """The engine of `NASSearch(engine=..., worker_timeout=...,
    trials_per_process=...)` (`old` by their new names): on Ray,
    `trials_per_process` is `Ray(max_calls=...)`."""
    from keras_nas.engine import ray_options

    if not (engine == "ray" or isinstance(engine, ray_options.Ray)):
        if isinstance(engine, engine_options.KerasTunerEngine):
            return dataclasses.replace(engine, **old)
        return engine_options.KerasTunerEngine(**old)
    if "timeout_s" in old:
        raise ValueError(
            "`worker_timeout` is a setting of Keras Tuner's engine; on Ray a "
            "trial whose worker dies runs again (`Ray(max_retries=...)`). "
            f"Received: worker_timeout={old['timeout_s']!r}, "
            f"engine={engine!r}.")
    max_calls = check_int("trials_per_process", old["trials_per_process"], 1)
    base = engine if isinstance(engine, ray_options.Ray) else ray_options.Ray()
    return dataclasses.replace(base, max_calls=max_calls)


def translate_deprecated(arguments, old, warn=True):
    """`arguments` (new names) with the keras_nas 0.1 arguments in `old`
    moved into the option objects that hold them now; each one passed
    warns with a `DeprecationWarning` naming its new spelling. `log_dir`
    is returned apart, as `arguments["log_dir"]`, for `fit` to add its
    TensorBoard callback."""
    arguments = dict(arguments)
    unknown = sorted(set(old) - set(_DEPRECATED))
    if unknown:
        raise TypeError(
            f"NASSearch got unexpected keyword arguments {unknown}. "
            f"Accepted: {sorted(f.name for f in dataclasses.fields(SearchConfig))}.")
    if warn:
        for name in old:
            warnings.warn(
                f"NASSearch({name}=...) is deprecated and will be removed in "
                f"the next release; use {_DEPRECATED[name]} instead.",
                DeprecationWarning, stacklevel=3)
    training = {k: old[k] for k in _TRAINING if k in old}
    if training:
        base = arguments.get("training") or Training()
        arguments["training"] = dataclasses.replace(base, **training)
    budgets = {k: old[k] for k in ("max_params", "max_flops")
               if old.get(k) is not None}
    if budgets:
        for name, value in budgets.items():
            check_budget(name, value, "weights" if name == "max_params"
                         else "multiply-adds")
        space = arguments.get("space") or SearchSpace()
        arguments["space"] = space.with_budgets(**budgets)
    if arguments.get("latency") is not None and (
            "max_latency" in old or "latency_batch_size" in old):
        raise ValueError(
            "Pass `latency=Latency(max_ms=..., batch_size=...)` or the "
            "deprecated `max_latency`/`latency_batch_size`, not both. "
            f"Received: latency={arguments['latency']!r}, "
            f"max_latency={old.get('max_latency')!r}.")
    if old.get("max_latency") is not None or "latency_batch_size" in old:
        max_ms = old.get("max_latency")
        if max_ms is not None and (isinstance(max_ms, bool) or not isinstance(
                max_ms, (int, float)) or not max_ms > 0):
            raise ValueError(
                "`max_latency` must be a positive number of milliseconds or "
                f"None. Received: max_latency={max_ms!r}.")
        if "latency_batch_size" in old:
            check_int("latency_batch_size", old["latency_batch_size"], 1)
        base = arguments.get("latency") or Latency()
        arguments["latency"] = dataclasses.replace(
            base, max_ms=old.get("max_latency", base.max_ms),
            batch_size=old.get("latency_batch_size", base.batch_size))
    halving = {k: old[k] for k in ("min_epochs", "reduction_factor")
               if k in old and old[k] is not None}
    if halving and arguments.get("halving") is not False:
        base = arguments.get("halving")
        base = base if isinstance(base, Halving) else Halving()
        explicit = arguments.get("halving")
        changed = dataclasses.replace(base, **halving)
        # `halving=None` stays "on where it applies" with these settings.
        arguments["halving"] = changed if explicit is not None else (
            None if changed == Halving() else changed)
    engine = {new: old[k] for k, new in (("worker_timeout", "timeout_s"),
                                         ("trials_per_process",
                                          "trials_per_process"))
              if old.get(k) is not None}
    if engine:
        arguments["engine"] = _deprecated_engine(arguments.get("engine"),
                                                 engine)
    if old.get("strategy_options"):
        strategy = arguments.get("strategy", "evolution")
        if isinstance(strategy, str):
            arguments["strategy"] = Strategy(strategy,
                                             **old["strategy_options"])
    return arguments
