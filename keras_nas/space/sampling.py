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


def some_sequence_is_valid(space):
    """Whether some op list of the space is valid: a walk over the
    shapes the ops reach, then a draw when budgets apply."""
    shapes = {start_shape(space)}
    for _ in range(space.min_depth):
        shapes = {
            out
            for s in shapes
            for name in space.ops
            for out in [next_shape(space, s, name)]
            if out is not None
        }
        if not shapes:
            return False
        if len(shapes) > _MAX_SHAPES:
            break
    return (space.max_params is None and space.max_flops is None
            and not space.constraints) or random_ops(
        space, np.random.default_rng(0), attempts=200) is not None


def random_ops(space, rng, attempts=100):
    """A random valid op list, or `None` if none was found.

    Each position draws uniformly among the ops that can run on the shape
    reached so far, so a sequence is valid by construction; the depth is
    uniform in the space's range. Budgets are met by rejection.
    """
    names = space.ops
    for _ in range(attempts):
        depth = int(rng.integers(space.min_depth, space.max_depth + 1))
        if space.input_shape is None:
            return [names[int(rng.integers(len(names)))] for _ in range(depth)]
        ops, shape = [], start_shape(space)
        for _ in range(depth):
            options = [
                (n, out)
                for n in names
                for out in [next_shape(space, shape, n)]
                if out is not None
            ]
            if not options:
                break
            name, shape = options[int(rng.integers(len(options)))]
            ops.append(name)
        if len(ops) == depth and space.check(ops) is None:
            return ops
    return None
