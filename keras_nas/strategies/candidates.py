"""Whether a candidate may be proposed, and a random one that may.

Every strategy here proposes a candidate only once, and only if the space
accepts it (valid for the input shape, within `max_params`); when it has
nothing better, it proposes a random untried one, enumerating a small space
when random draws keep colliding. Evolution, local search and the predictor
share these rules through this module.

`spread_untried` draws a group of random candidates that covers the space
evenly, one at a time: of several random untried candidates, the one whose
values repeat least those of the group so far (each op at its position,
the depth, each other discrete value). Drawn this way, ten candidates of
six positions of five ops hold each op about twice at each position, as a
Latin hypercube design does (McKay, Beckman and Conover, 1979; the
initial designs of SMAC3): a predictor fitted on them sees every op at
every position, and their best is more often near a good region.
"""

import collections

from keras_nas import _compat
from keras_nas.strategies import hp_values
from keras_nas.strategies.mutations import with_ops

__all__ = ["acceptable", "random_untried", "random_valid", "spread_untried"]


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


def spread_untried(oracle, space, hyperparameters, rng, max_attempts, group,
                   draws):
    """Of `draws` random candidates `oracle` may propose, the one whose
    values repeat least those of `group` (a list of values dicts), or
    `None` when the space is exhausted."""
    counts = collections.Counter()
    for values in group:
        counts.update(_features(space, hyperparameters, values))
    best, best_overlap = None, None
    for _ in range(draws):
        values = random_untried(oracle, space, hyperparameters, rng,
                                max_attempts)
        if values is None:
            break
        overlap = sum(counts[f] for f in _features(space, hyperparameters,
                                                   values))
        if best is None or overlap < best_overlap:
            best, best_overlap = values, overlap
        if not overlap:
            break  # Nothing in common with the group: as good as it gets.
    return best


def _features(space, hyperparameters, values):
    """What `spread_untried` counts in `values`: each op at its position
    and the depth (with `space`), and each discrete hyperparameter's
    value."""
    found = []
    if space is not None:
        try:
            ops = space.decode(values)
        except ValueError:  # Values of another space, or none yet.
            ops = None
        if ops is not None:
            found += [("op", i, op) for i, op in enumerate(ops)]
            found.append(("depth", len(ops)))
        others = hp_values.other_hps(hyperparameters, values)
    else:
        others = hp_values.mutable_hps(hyperparameters, values)
    for hp in others:
        if hp_values.domain(hp) is not None:
            found.append((hp.name, values.get(hp.name)))
    return found
