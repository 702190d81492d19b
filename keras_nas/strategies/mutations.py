"""Changes of one op sequence, as pure functions.

An architecture of a `SearchSpace` is a list of op names. Evolution mutates
one at random and local search walks all of them; both are built from the
same four edits (replace one op, insert one, delete one, swap two
neighbours that differ), so what one strategy can reach the other can
too. Each function takes the op names and depth limits of the space and a
`numpy` generator, and leaves its input unchanged.
"""

from keras_nas.space.search_space import is_architecture_key, other_values
from keras_nas.strategies import hp_values

__all__ = ["OP_MUTATIONS", "applicable", "crossover", "mutate", "neighbours",
           "with_ops"]

#: The edits of an op sequence.
OP_MUTATIONS = ("replace", "insert", "delete", "swap")


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
