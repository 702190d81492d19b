"""`Strategy`: a strategy named with its options, as `NASSearch` takes it.

`NASSearch(strategy="evolution")` picks a strategy by name with its
defaults; `NASSearch(strategy=Strategy("evolution", population_size=10))`
passes options to its oracle, the way `keras.optimizers.get` takes a name
or a configured instance. `strategies.get()` builds the oracle.
"""

import dataclasses

__all__ = ["Strategy"]


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
