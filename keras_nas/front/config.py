"""`SearchConfig`: everything a `NASSearch` was asked, checked once.

A frozen value made from `NASSearch`'s arguments, as SMAC3's `Scenario`:
every argument is checked in `__post_init__`, before any data is read, and
`get_config` / `from_config` are exact inverses, so saving a search in its
project folder, reopening it and exporting it share one description.

It is also the one owner of the on/off options: `halving` and `warm_start`
are stored as given (`None`, `False` or their option object), and only
`halving_in_use()` / `warm_start_in_use()` turn `None` into "on where it
applies".
"""

import dataclasses

import keras_tuner

from keras_nas._checks import check_int, check_seconds
from keras_nas.data.task import check_objective_argument, check_task_argument
from keras_nas.engine import options as engine_options
from keras_nas.engine.options import Training
from keras_nas.front import project
from keras_nas.scoring.latency import Latency
from keras_nas.space.search_space import SearchSpace
from keras_nas import strategies
from keras_nas.schedulers.halving import Halving
from keras_nas.strategies.spec import Strategy
from keras_nas.scoring import warmstart
from keras_nas.scoring.warmstart import WarmStart

__all__ = ["SearchConfig"]


def _on_off(name, value, cls):
    """`NASSearch(halving=...)` or `warm_start=...` checked: `None` (on
    where it applies), `False` (off), a `cls` option object, or the config
    dict of one (a saved config), as the option object."""
    if value is None or value is False or isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return cls.from_config(value)
    if value is True:
        raise ValueError(
            f"`{name}=True` is not accepted: pass `{name}=keras_nas."
            f"{cls.__name__}()` to turn it on (with its options), `False` "
            "to turn it off, or `None` for on where it applies. Received: "
            f"{name}=True.")
    raise ValueError(
        f"`{name}` must be None (on where it applies), False or a "
        f"`keras_nas.{cls.__name__}(...)`. Received: {name}={value!r}.")


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """The checked arguments of a `NASSearch` (see its docstring)."""

    space: SearchSpace = None
    strategy: object = "auto"
    objective: object = None
    max_trials: int = 20
    max_time_s: object = None
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
        check_objective_argument(self.objective)
        strategies.check_strategy(self.strategy, self.objective)
        put("max_trials", check_int("max_trials", self.max_trials, 1))
        put("max_time_s", check_seconds("max_time_s", self.max_time_s))
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
        halving = _on_off("halving", self.halving, Halving)
        if isinstance(halving, Halving) and self.strategy_name == "hyperband":
            raise ValueError(
                "`halving` cannot be on with strategy='hyperband', which "
                f"halves epochs itself. Received: halving={self.halving!r}, "
                "strategy='hyperband'.")
        put("halving", halving)
        put("warm_start", _on_off("warm_start", self.warm_start, WarmStart))
        put("initial_architectures", None if self.initial_architectures
            is None else warmstart.check_initial_architectures(
                self.initial_architectures))
        if self.latency is not None and not isinstance(self.latency, Latency):
            raise TypeError(
                "`latency` must be a `keras_nas.Latency` or None. Received: "
                f"latency={self.latency!r}.")
        put("engine", engine_options.engine_from_argument(self.engine))
        if isinstance(self.halving, Halving) and self.halving.promotes and (
                getattr(self.engine, "name", None) == "ray"):
            raise ValueError(
                "`halving=Halving(mode='promotion')` does not run on the Ray "
                "engine yet: a Ray worker's rung checkpoints stay on its "
                "node. Received: halving="
                f"{self.halving!r}, engine={self.engine!r}. Accepted: "
                "mode='stopping' on Ray, or the Keras Tuner engine.")

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
        return self.halving or None  # `False` is off.

    def warm_start_in_use(self):
        """The `WarmStart` that runs, or `None`. Hyperband's brackets decide
        what runs, so nothing can be queued there; `None` is on wherever
        it applies, `False` off."""
        if self.is_hyperband or self.warm_start is False:
            return None
        return WarmStart() if self.warm_start is None else self.warm_start

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
        return {
            "space": self.space.get_config(),
            "strategy": strategy,
            "objective": project.objective_to_json(self.objective),
            "max_trials": self.max_trials,
            "max_time_s": self.max_time_s,
            "directory": self.directory,
            "project_name": self.project_name,
            "overwrite": self.overwrite,
            "seed": self.seed,
            "task": self.task,
            "training": self.training.get_config(),
            "halving": self.halving.get_config()
            if isinstance(self.halving, Halving) else self.halving,
            "warm_start": self.warm_start.get_config()
            if isinstance(self.warm_start, WarmStart) else self.warm_start,
            "initial_architectures": self.initial_architectures,
            "latency": None if self.latency is None
            else self.latency.get_config(),
            "engine": self.engine.get_config(),
        }

    @classmethod
    def from_config(cls, config, space=None):
        """The config of `get_config()`.

        Args:
            config: A dict.
            space: Optional `SearchSpace` to use instead of the config's,
                e.g. one with custom op factories.
        """
        config = dict(config)
        space_config = config.pop("space")
        config["space"] = space if space is not None else (
            SearchSpace.from_config(space_config))
        strategy = config.get("strategy", "evolution")
        if isinstance(strategy, dict) and "options" in strategy:
            config["strategy"] = Strategy.from_config(strategy)
        else:
            config["strategy"] = project.strategy_from_config(strategy)
        config["objective"] = project.objective_from_json(
            config.get("objective"))
        if isinstance(config.get("training"), dict):
            config["training"] = Training.from_config(config["training"])
        if isinstance(config.get("latency"), dict):
            config["latency"] = Latency.from_config(config["latency"])
        return cls(**config)
