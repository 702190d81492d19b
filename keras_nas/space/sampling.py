"""Drawing valid op lists by walking shapes.

Each position of a drawn sequence chooses among the ops that can run on
the shape reached so far, so a sequence is valid by construction; budgets
are met by rejection. The same walk proves, when a space is bound, that
some sequence of its depths is valid at all.
"""

import numpy as np

from keras_nas.space import architecture

__all__ = ["next_shape", "random_ops", "some_sequence_is_valid",
           "start_shape"]

# Cap on the distinct shapes tracked when proving that a valid sequence exists.
_MAX_SHAPES = 2048


def next_shape(space, shape, name):
    """The shape after op `name`, or `None` where it cannot run."""
    try:
        steps = architecture.plan(
            [name], shape, op_table=space.op_table, count=False
        ).steps
    except architecture.InvalidArchitectureError:
        return None
    # The last step is the head; the one before it is the op itself,
    # possibly followed by the head's flatten.
    for step in reversed(steps):
        if step.index == 0:
            return step.output_shape
    return None


def start_shape(space):
    """The shape the genotype's first op sees: after the front ops."""
    shape = space.input_shape
    for op in space.front:
        shape = tuple(op.output_shape(shape))
    return shape


def _may_follow(space, previous, name):
    """Whether op `name` may come right after op `previous` (`None` at the
    start): not the same idempotent op again (`Op.idempotent`)."""
    return name != previous or not space.op_table[name].idempotent


def some_sequence_is_valid(space):
    """Whether some op list of the space is valid: a walk over the
    shapes the ops reach (and the op that reached each, which the next may
    not repeat when it is idempotent), then a draw when budgets apply."""
    states = {(start_shape(space), None)}
    for _ in range(space.min_depth):
        states = {
            (out, name)
            for s, previous in states
            for name in space.ops
            if _may_follow(space, previous, name)
            for out in [next_shape(space, s, name)]
            if out is not None
        }
        if not states:
            return False
        if len(states) > _MAX_SHAPES:
            break
    return (space.max_params is None and space.max_flops is None
            and not space.constraints) or random_ops(
        space, np.random.default_rng(0), attempts=200) is not None


def random_ops(space, rng, attempts=100):
    """A random valid op list, or `None` if none was found.

    Each position draws uniformly among the ops that can run on the shape
    reached so far and may follow the op before (no idempotent op twice in
    a row), so a sequence is valid by construction; the depth is uniform in
    the space's range. Budgets are met by rejection.
    """
    names = space.ops
    for _ in range(attempts):
        depth = int(rng.integers(space.min_depth, space.max_depth + 1))
        ops, shape = [], None
        if space.input_shape is not None:
            shape = start_shape(space)
        for _ in range(depth):
            previous = ops[-1] if ops else None
            options = [
                (n, out)
                for n in names
                if _may_follow(space, previous, n)
                for out in [None if shape is None
                            else next_shape(space, shape, n)]
                if shape is None or out is not None
            ]
            if not options:
                break
            name, shape = options[int(rng.integers(len(options)))]
            ops.append(name)
        if len(ops) == depth and space.check(ops) is None:
            return ops
    return None
