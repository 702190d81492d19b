"""Values of a Keras Tuner `HyperParameters` space, as pure functions.

Every strategy of this package proposes dicts of hyperparameter values, and
each must keep only the active ones (a conditional hyperparameter whose
parent changed drops out or is drawn anew), draw one value anew, or walk a
small space in full. These are those steps, shared by evolution, local
search and the predictor, each taking the space and a `numpy` generator so
that the caller's random state alone decides the result.
"""

from keras_tuner.engine import hyperparameters as hp_module

from keras_nas.space.search_space import is_architecture_key

__all__ = ["active_hps", "complete", "domain", "enumerate_values",
           "has_choice", "mutable_hps", "other_hps", "other_values_of",
           "resample_one", "seed_from"]

#: Largest space enumerated to find the last untried candidates.
MAX_ENUMERATED = 20000


def seed_from(rng):
    """An integer seed for Keras Tuner's `random_sample`, drawn from `rng`."""
    return int(rng.integers(2**31 - 1))


def has_choice(hp):
    """Whether `hp` can take more than one value."""
    if isinstance(hp, hp_module.Fixed):
        return False
    if isinstance(hp, hp_module.Choice):
        return len(hp.values) > 1
    if isinstance(hp, (hp_module.Int, hp_module.Float)):
        return hp.max_value > hp.min_value
    return True


def domain(hp):
    """Every value of `hp`, or `None` when there are too many (a float, a
    log-sampled or very wide integer)."""
    if isinstance(hp, hp_module.Fixed):
        return [hp.value]
    if isinstance(hp, hp_module.Choice):
        return list(hp.values)
    if isinstance(hp, hp_module.Boolean):
        return [False, True]
    if isinstance(hp, hp_module.Int):
        step = hp.step or 1
        if hp.sampling == "linear" and (hp.max_value - hp.min_value) // step < 1000:
            return list(range(hp.min_value, hp.max_value + 1, step))
    return None


def complete(hyperparameters, values, rng):
    """Only the active values: kept where given, drawn from `rng` where
    missing."""
    # What registering each hyperparameter in a fresh `HyperParameters`
    # gives (a condition reads the values before it), without the cost.
    new = {}
    for hp in hyperparameters.space:
        if all(c.is_active(new) for c in hp.conditions):
            if hp.name in values:
                new[hp.name] = values[hp.name]
            else:
                new[hp.name] = hp.random_sample(seed_from(rng))
    return new


def active_hps(hyperparameters, values):
    """The hyperparameters of the space active under `values`."""
    # What `HyperParameters.is_active` checks, without the copy of the
    # whole space that made this most of a proposal's cost.
    return [hp for hp in hyperparameters.space
            if all(c.is_active(values) for c in hp.conditions)]


def mutable_hps(hyperparameters, values):
    """The active hyperparameters that can take another value."""
    return [hp for hp in active_hps(hyperparameters, values) if has_choice(hp)]


def other_hps(hyperparameters, values, mutable=None):
    """The mutable hyperparameters that are not the architecture's (of
    `mutable`, when `mutable_hps` has already been found)."""
    if mutable is None:
        mutable = mutable_hps(hyperparameters, values)
    return [hp for hp in mutable if not is_architecture_key(hp.name)]


def other_values_of(hp, old, rng=None):
    """Every other value of `hp` than `old`, or `None` when `hp` has too
    many to list (then `resample_one` draws one)."""
    if isinstance(hp, hp_module.Boolean):
        return [not old]
    values = domain(hp)
    if values is None:
        return None
    return [v for v in values if v != old]


def resample_one(hyperparameters, values, candidates, rng):
    """`values` with one of `candidates` (hyperparameters) drawn anew, to a
    value other than its own, or `None` without candidates."""
    if not candidates:
        return None
    hp = candidates[int(rng.integers(len(candidates)))]
    old = values.get(hp.name)
    if isinstance(hp, hp_module.Choice):
        options = [v for v in hp.values if v != old]
        new = options[int(rng.integers(len(options)))]
    elif isinstance(hp, hp_module.Boolean):
        new = not old
    else:
        for _ in range(10):
            new = hp.random_sample(seed_from(rng))
            if new != old:
                break
    changed = dict(values)
    changed[hp.name] = new
    return complete(hyperparameters, changed, rng)


def enumerate_values(hyperparameters, limit=MAX_ENUMERATED):
    """Every dict of active values of the space, or `[]` when it has more
    than `limit` or a hyperparameter without a finite domain."""
    space = hyperparameters.space
    domains = {hp.name: domain(hp) for hp in space}
    if any(d is None for d in domains.values()):
        return []
    found = []

    def walk(i, values):
        if len(found) > limit:
            return
        if i == len(space):
            found.append(dict(values))
            return
        hp = space[i]
        if not all(c.is_active(values) for c in hp.conditions):
            walk(i + 1, values)
            return
        for v in domains[hp.name]:
            values[hp.name] = v
            walk(i + 1, values)
        del values[hp.name]

    walk(0, {})
    return found if len(found) <= limit else []
