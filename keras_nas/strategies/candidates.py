"""Whether a candidate may be proposed, and a random one that may.

Every strategy here proposes a candidate only once, and only if the space
accepts it (valid for the input shape, within `max_params`); when it has
nothing better, it proposes a random untried one, enumerating a small space
when random draws keep colliding. Evolution, local search and the predictor
share these rules through this module.
"""

from keras_nas import _compat
from keras_nas.strategies import hp_values
from keras_nas.strategies.mutations import with_ops

__all__ = ["acceptable", "random_untried", "random_valid"]


def random_valid(space, hyperparameters, rng):
    """Random values: a random valid op sequence of `space` (or `None`),
    or any values of a plain `HyperParameters` space."""
    if space is not None:
        ops = space.random_ops(rng)
        if ops is None:
            return None
        return with_ops(space, hyperparameters, {}, ops, rng)
    return hp_values.complete(hyperparameters, {}, rng)


def acceptable(oracle, space, values):
    """Whether `oracle` may propose `values`: never proposed before, and
    accepted by `space` (when there is one)."""
    if values is None or _compat.is_duplicate(oracle, values):
        return False
    return space is None or space.check(space.decode(values)) is None


def random_untried(oracle, space, hyperparameters, rng, max_attempts):
    """A random candidate `oracle` may propose, or `None` when the space is
    exhausted."""
    for _ in range(max_attempts):
        values = random_valid(space, hyperparameters, rng)
        if values is not None and acceptable(oracle, space, values):
            return values
    # Random draws keep colliding: the space may be nearly exhausted.
    # Enumerate it when it is small enough, and take an untried one.
    untried = [v for v in hp_values.enumerate_values(hyperparameters)
               if acceptable(oracle, space, v)]
    if not untried:
        return None
    return untried[int(rng.integers(len(untried)))]
