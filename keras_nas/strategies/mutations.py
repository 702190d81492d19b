"""Changes of one op sequence, as pure functions.

An architecture of a `SearchSpace` is a list of op names. Evolution mutates
one at random and local search walks all of them; both are built from the
same four edits (replace one op, insert one, delete one, swap two
neighbours that differ), so what one strategy can reach the other can
too. Each function takes the op names and depth limits of the space and a
`numpy` generator, and leaves its input unchanged.

`mutate_values` and `crossover_values` make evolution's children: a
trial's values changed by one mutation drawn by its weights, or two
parents' values crossed, over a `SearchSpace` or a plain `HyperParameters`
space alike.
"""

import numpy as np

from keras_nas.space.search_space import is_architecture_key, other_values
from keras_nas.strategies import hp_values

__all__ = ["MUTATIONS", "OP_MUTATIONS", "applicable", "check_weights",
           "crossover", "crossover_values", "mutate", "mutate_values",
           "neighbours", "with_ops"]

#: The edits of an op sequence.
OP_MUTATIONS = ("replace", "insert", "delete", "swap")
#: The edits of an op sequence, plus `resample`: one other active
#: hyperparameter (a training one such as the learning rate, or any value of
#: a plain `HyperParameters` space) drawn anew.
MUTATIONS = OP_MUTATIONS + ("resample",)


def _pick(options, rng):
    return options[int(rng.integers(len(options)))]


def applicable(ops, names, min_depth, max_depth):
    """The edits in `OP_MUTATIONS` that can change `ops`."""
    kinds = []
    if len(names) > 1:
        kinds.append("replace")
    if len(ops) < max_depth:
        kinds.append("insert")
    if len(ops) > min_depth:
        kinds.append("delete")
    if any(a != b for a, b in zip(ops, ops[1:])):
        kinds.append("swap")
    return kinds


def mutate(ops, kind, names, rng):
    """A copy of `ops` changed by the edit `kind` at a random place."""
    ops = list(ops)
    if kind == "replace":
        i = int(rng.integers(len(ops)))
        ops[i] = _pick([n for n in names if n != ops[i]], rng)
    elif kind == "insert":
        i = int(rng.integers(len(ops) + 1))
        ops.insert(i, _pick(names, rng))
    elif kind == "delete":
        del ops[int(rng.integers(len(ops)))]
    elif kind == "swap":  # Neighbours that differ.
        pairs = [i for i in range(len(ops) - 1) if ops[i] != ops[i + 1]]
        i = pairs[int(rng.integers(len(pairs)))]
        ops[i], ops[i + 1] = ops[i + 1], ops[i]
    else:
        raise ValueError(f"Unknown mutation {kind!r}. Accepted: "
                         f"{OP_MUTATIONS}.")
    return ops


def crossover(ops_a, ops_b, max_depth, rng):
    """A child of two sequences: position by position when they are as
    long, else a head of one and a tail of the other (`None` when that is
    too short is for the caller to judge)."""
    if len(ops_a) == len(ops_b):
        return [x if rng.random() < 0.5 else y for x, y in zip(ops_a, ops_b)]
    i = int(rng.integers(len(ops_a) + 1))
    j = int(rng.integers(len(ops_b) + 1))
    return (ops_a[:i] + ops_b[j:])[:max_depth]


def neighbours(ops, names, min_depth, max_depth):
    """Every distinct sequence one replace, insert or delete away from
    `ops`, in a fixed order (the caller shuffles)."""
    seen = {tuple(ops)}
    found = []

    def add(candidate):
        key = tuple(candidate)
        if key not in seen:
            seen.add(key)
            found.append(list(candidate))

    for i, op in enumerate(ops):
        for name in names:
            if name != op:
                add(ops[:i] + [name] + ops[i + 1:])
    if len(ops) < max_depth:
        for i in range(len(ops) + 1):
            for name in names:
                add(ops[:i] + [name] + ops[i:])
    if len(ops) > min_depth:
        for i in range(len(ops)):
            add(ops[:i] + ops[i + 1:])
    return found


def with_ops(space, hyperparameters, values, ops, rng):
    """`values` with the architecture `ops` of `space`, completed over
    `hyperparameters`; `None` when `ops` is outside the depth limits."""
    if not space.min_depth <= len(ops) <= space.max_depth:
        return None
    new = other_values(values)
    new.update(
        (k, v) for k, v in space.encode(ops).items() if is_architecture_key(k)
    )
    return hp_values.complete(hyperparameters, new, rng)


def check_weights(mutation_weights):
    """The weight of each of `MUTATIONS`: `1.0` each, updated by
    `mutation_weights` (a mapping, or `None`), or a `ValueError`."""
    weights = dict.fromkeys(MUTATIONS, 1.0)
    if mutation_weights is not None:
        unknown = sorted(set(mutation_weights) - set(MUTATIONS))
        if unknown or any(w < 0 for w in mutation_weights.values()):
            raise ValueError(
                f"`mutation_weights` takes non-negative weights for "
                f"{MUTATIONS}. Received: mutation_weights="
                f"{mutation_weights!r}."
            )
        weights.update(mutation_weights)
    return weights


def mutate_values(space, hyperparameters, values, weights, rng):
    """A child of `values`: changed by one of the mutations that apply,
    drawn by `weights` (`check_weights`); `None` when none applies.

    With a `space` (`SearchSpace`, or `None` for a plain `HyperParameters`
    space) the op sequence is edited or, by `resample`, another value drawn
    anew; the child is completed over `hyperparameters`.
    """
    mutable = hp_values.mutable_hps(hyperparameters, values)
    others = hp_values.other_hps(hyperparameters, values, mutable)
    if space is None:
        kinds = ["resample"] if mutable else []
    else:
        kinds = applicable(space.decode(values), space.ops, space.min_depth,
                           space.max_depth)
        if others:
            kinds.append("resample")
    kinds = [k for k in kinds if weights[k] > 0]
    if not kinds:
        return None
    p = np.array([weights[k] for k in kinds], float)
    kind = kinds[int(rng.choice(len(kinds), p=p / p.sum()))]
    if kind == "resample":
        return hp_values.resample_one(hyperparameters, values, others, rng)
    ops = mutate(space.decode(values), kind, space.ops, rng)
    return with_ops(space, hyperparameters, values, ops, rng)


def crossover_values(space, hyperparameters, a, b, rng):
    """A child of the values `a` and `b`: their op sequences crossed
    (`crossover`; a copy of `a` when the child would be too short) and each
    other value taken from either, completed over `hyperparameters`."""
    if space is None:
        mixed = {k: (a if rng.random() < 0.5 else b).get(k, v)
                 for k, v in a.items()}
        return hp_values.complete(hyperparameters, mixed, rng)
    ops = crossover(space.decode(a), space.decode(b), space.max_depth, rng)
    if len(ops) < space.min_depth:
        return dict(a)
    others = {k: (a if rng.random() < 0.5 else b).get(k, v)
              for k, v in other_values(a).items()}
    return with_ops(space, hyperparameters, others, ops, rng)
