"""The genotype as Keras Tuner sees it: an `Int` named `depth` and one
`Choice` per position, `op_0` ... `op_{max-1}`, where `op_i` is active only
while `i < depth`; and the op list of a trial's values, back and forth."""

import keras_tuner

__all__ = ["check_names", "declare", "decode", "encode"]


def declare(space, hp):
    """Declare the space's hyperparameters on an existing `hp`."""
    ops = space.ops
    if space.min_depth == space.max_depth:
        hp.Fixed("depth", space.max_depth)
    else:
        hp.Int("depth", space.min_depth, space.max_depth)
    for i in range(space.max_depth):
        if i < space.min_depth:
            hp.Choice(f"op_{i}", ops)
        else:
            with hp.conditional_scope(
                "depth", list(range(i + 1, space.max_depth + 1))
            ):
                hp.Choice(f"op_{i}", ops)
    if space.learning_rates:
        hp.Choice("learning_rate", space.learning_rates)
    return hp


def decode(space, values):
    """The op list of a trial's `HyperParameters` or dict of values."""
    if isinstance(values, keras_tuner.HyperParameters):
        values = values.values
    if not isinstance(values, dict):
        raise TypeError(
            "`values` must be a `keras_tuner.HyperParameters` or a dict. "
            f"Received: {values!r} (of type {type(values).__name__})."
        )
    depth = values.get("depth", space.max_depth)
    if not space.min_depth <= int(depth) <= space.max_depth:
        raise ValueError(
            f"`depth` must be between {space.min_depth} and "
            f"{space.max_depth}. Received: depth={depth!r}."
        )
    try:
        ops = [values[f"op_{i}"] for i in range(int(depth))]
    except KeyError as e:
        raise ValueError(
            f"The values have no {e.args[0]!r}, yet depth={depth}. "
            f"Received: values={values}."
        ) from None
    check_names(space, ops, "values")
    return ops


def encode(space, ops, learning_rate=None):
    """The values, as a dict, of the op list `ops` (the inverse of
    `decode`)."""
    ops = list(ops)
    if not space.min_depth <= len(ops) <= space.max_depth:
        raise ValueError(
            f"An op list must hold {space.min_depth} to {space.max_depth} "
            f"ops. Received {len(ops)}: ops={ops}."
        )
    check_names(space, ops, "ops")
    values = {"depth": len(ops)}
    values.update({f"op_{i}": name for i, name in enumerate(ops)})
    if space.learning_rates:
        lr = space.learning_rates[0] if learning_rate is None else learning_rate
        values["learning_rate"] = lr
    return values


def check_names(space, ops, arg):
    """A `ValueError` if `ops` holds a name that is not the space's."""
    vocabulary = space.ops
    unknown = [n for n in ops if n not in vocabulary]
    if unknown:
        raise ValueError(
            f"Unknown op name(s) {unknown} in `{arg}`. Accepted: the "
            f"space's ops {vocabulary}."
        )
