"""`Strategy`: a strategy named with its options, as `NASSearch` takes it.

`NASSearch(strategy="evolution")` picks a strategy by name with its
defaults; `NASSearch(strategy=Strategy("evolution", population_size=10))`
passes options to its oracle, the way `keras.optimizers.get` takes a name
or a configured instance. `strategies.get()` builds the oracle, and
`describe()` says in a report what was asked and what it became.
"""

import dataclasses

__all__ = ["Strategy", "describe"]

# How a report names the strategy "auto" resolved to.
_READABLE = {"local": "local search"}


@dataclasses.dataclass(frozen=True, init=False)
class Strategy:
    """A named strategy and the options of its oracle.

    Args:
        name: A name in `keras_nas.strategies.STRATEGIES`.
        **options: Extra constructor arguments of its oracle, e.g.
            `population_size=10` for `"evolution"`.
    """

    name: str
    options: dict

    def __init__(self, name, **options):
        from keras_nas.strategies import STRATEGIES

        if name not in STRATEGIES:
            raise ValueError(
                f"Unknown strategy name: {name!r}. Accepted: one of "
                f"{STRATEGIES}.")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "options", dict(options))

    def __hash__(self):
        return hash((self.name, tuple(sorted(self.options))))

    def get_config(self):
        return {"name": self.name, "options": dict(self.options)}

    @classmethod
    def from_config(cls, config):
        return cls(config["name"], **config["options"])


def describe(strategy, objective=None):
    """The strategy as the user chose it, and what it resolved to, for a
    report: a name with the options that matter, or an oracle's class.

    Args:
        strategy: As `NASSearch(strategy=...)` takes it.
        objective: The search's objective: `"auto"` is local search for
            one, evolution for a list of several. Defaults to `None`.

    >>> describe("auto")
    'auto (local search, ridge predictor)'
    >>> describe("auto", ["val_accuracy", "params"])
    'auto (evolution)'
    >>> describe(Strategy("evolution", population_size=10))
    'evolution (population_size=10)'
    >>> describe(Strategy("local", predictor=True)), describe("random")
    ('local (ridge predictor)', 'random')
    """
    from keras_nas.strategies import predictor as predictor_module
    from keras_nas.strategies import resolve

    if isinstance(strategy, Strategy):
        name, options = strategy.name, strategy.options
    elif isinstance(strategy, str):
        name, options = strategy, {}
    else:  # An oracle of the user's.
        return type(strategy).__name__
    resolved, options = resolve(name, objective, options)
    predictor = predictor_module.from_argument(options.pop("predictor", None))
    details = [] if predictor is None else [f"{predictor.model} predictor"]
    details += [f"{k}={v!r}" for k, v in options.items()]
    if name == "auto":
        details.insert(0, _READABLE.get(resolved, resolved))
    return f"{name} ({', '.join(details)})" if details else name
