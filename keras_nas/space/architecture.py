"""Plan an op sequence for an input shape, without building any layer.

`plan()` walks the shape rules of the ops, inserts the change from spatial
to flat where it is needed, adds the head, and counts parameters and
multiply-adds. It raises `InvalidArchitectureError` with the reason when the
sequence cannot make a valid model, or holds an idempotent op twice in a
row (`repeated`), a model that a search need never train. Everything here
is arithmetic on tuples: it costs microseconds, so the search can check
every candidate before it trains one.
"""

import dataclasses
import math
from typing import Optional, Tuple

from keras_nas import ops as ops_module
from keras_nas.ops import InvalidArchitectureError

__all__ = ["Step", "Plan", "plan", "check", "check_input_shape", "resolve",
           "over_budget", "repeated", "HEADS", "FLATTEN_LIMIT"]

#: How the spatial-to-flat change at the head is made.
HEADS = ("auto", "flatten", "gap")

#: With `head="auto"`, spatial maps larger than this many values are globally
#: average-pooled instead of flattened, so the head stays small.
FLATTEN_LIMIT = 4096


@dataclasses.dataclass(frozen=True)
class Step:
    """One layer of a planned model.

    `op` is an op name from the genotype, or `"flatten"`, `"gap"` or `"head"`
    for the layers the builder adds itself.
    """

    op: str
    index: Optional[int]
    input_shape: Tuple[int, ...]
    output_shape: Tuple[int, ...]
    params: int
    flops: int


@dataclasses.dataclass(frozen=True)
class Plan:
    """A valid op sequence with its layers, size and cost."""

    ops: Tuple[str, ...]
    input_shape: Tuple[int, ...]
    steps: Tuple[Step, ...]

    @property
    def params(self):
        """Number of weights of the whole model, as `count_params()`."""
        return sum(s.params for s in self.steps)

    @property
    def flops(self):
        """Multiply-adds for one sample (conv and dense; one per element for
        pooling and batch normalization)."""
        return sum(s.flops for s in self.steps)


def check_input_shape(input_shape):
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(
            "`input_shape` must be a tuple of positive integers, the shape of "
            f"one sample. Received: input_shape={input_shape!r}."
        ) from None
    if len(shape) not in ops_module.RANK_KINDS or min(shape) < 1:
        raise ValueError(
            "`input_shape` must be (features,) for tabular data, "
            "(steps, features) for sequences or (height, width, channels) "
            f"for images, with every size at least 1. Received: "
            f"input_shape={shape}."
        )
    return shape


def resolve(name, op_table):
    if op_table is not None and name in op_table:
        return op_table[name]
    return ops_module.get(name)


def repeated(ops, op_table=None):
    """Why `ops` holds an idempotent op (`Op.idempotent`: batch
    normalization, dropout) twice in a row, or `None`.

    >>> repeated(["conv3x3-16", "batchnorm", "batchnorm"])
    "op 2 ('batchnorm') repeats op 1: a second 'batchnorm' in a row adds nothing"
    >>> repeated(["dropout", "batchnorm", "dropout"]) is None
    True
    """
    for index in range(1, len(ops)):
        name = ops[index]
        if name == ops[index - 1] and resolve(name, op_table).idempotent:
            return (f"op {index} ({name!r}) repeats op {index - 1}: a "
                    f"second {name!r} in a row adds nothing")
    return None


def _flatten_step(shape, index, mode):
    size = math.prod(shape)
    if mode == "gap" or (mode == "auto" and size > FLATTEN_LIMIT):
        return Step("gap", index, shape, (shape[-1],), 0, size)
    return Step("flatten", index, shape, (size,), 0, 0)


def plan(
    ops,
    input_shape,
    output_units=1,
    head="auto",
    op_table=None,
    count=True,
    front=(),
):
    """Plan the model for an op sequence and an input shape.

    Args:
        ops: A list of op names.
        input_shape: The shape of one sample, without the batch dimension.
        output_units: Units of the final `Dense` layer. Defaults to `1`.
        head: How spatial maps become flat at the head: `"flatten"`, `"gap"`
            (global average pooling) or `"auto"` (flatten unless larger than
            `FLATTEN_LIMIT` values). Defaults to `"auto"`.
        op_table: Optional mapping from op name to `Op` that is looked up
            before the registry (a search space's own ops).
        count: Whether to count parameters and multiply-adds. `False` only
            checks validity, which skips building custom ops that have no
            params rule. Defaults to `True`.

    Returns:
        A `Plan`.

    Raises:
        InvalidArchitectureError: The sequence cannot make a valid model.

    >>> p = plan(["conv3x3-16", "maxpool", "dense-32"], (8, 8, 1), 10)
    >>> [s.op for s in p.steps]
    ['conv3x3-16', 'maxpool', 'flatten', 'dense-32', 'head']
    >>> p.params
    8714
    """
    shape = check_input_shape(input_shape)
    if head not in HEADS:
        raise ValueError(
            f"`head` must be one of {HEADS}. Received: head={head!r}."
        )
    if isinstance(ops, str) or not hasattr(ops, "__iter__"):
        raise TypeError(
            "`ops` must be a list of op names. Received: "
            f"ops={ops!r} (of type {type(ops).__name__})."
        )
    ops = tuple(ops)
    if not ops:
        raise InvalidArchitectureError("the op sequence is empty")
    reason = repeated(ops, op_table)
    if reason is not None:
        raise InvalidArchitectureError(reason)
    steps = []
    for op in front:
        # Fixed by the space, not proposed: a mismatch is the caller's error.
        out = tuple(op.output_shape(shape))
        steps.append(Step(op.name, None, shape, out,
                          op.count_params(shape) if count else 0,
                          op.count_flops(shape) if count else 0))
        shape = out
    for index, name in enumerate(ops):
        op = resolve(name, op_table)
        if op.needs_flat and len(shape) > 1:
            step = _flatten_step(shape, None, "flatten")
            steps.append(step)
            shape = step.output_shape
        if not op.accepts(shape):
            accepted = " or ".join(
                ops_module.RANK_KINDS[r] for r in sorted(op.ranks)
            )
            after = f" after {ops[index - 1]!r}" if index else ""
            raise InvalidArchitectureError(
                f"op {index} ({name!r}){after} needs {accepted} input, but "
                f"its input is {ops_module.RANK_KINDS[len(shape)]} of shape "
                f"{shape}"
            )
        try:
            out = tuple(op.output_shape(shape))
        except InvalidArchitectureError as e:
            raise InvalidArchitectureError(f"op {index} ({name!r}): {e}")
        if not out or min(out) < 1:
            raise InvalidArchitectureError(
                f"op {index} ({name!r}) would produce the empty shape {out}"
            )
        steps.append(Step(name, index, shape, out, 0, 0))
        shape = out
    if len(shape) > 1:
        step = _flatten_step(shape, None, head)
        steps.append(step)
        shape = step.output_shape
    units = int(output_units)
    steps.append(
        Step(
            "head", None, shape, (units,), shape[-1] * units + units,
            shape[-1] * units,
        )
    )
    if count:
        # Counted only once the whole sequence is known to be valid: a custom
        # op without a params rule is counted by building its layer.
        steps = [_count(s, op_table) if s.index is not None else s
                 for s in steps]
    return Plan(ops=ops, input_shape=tuple(input_shape), steps=tuple(steps))


def _count(step, op_table):
    op = resolve(step.op, op_table)
    try:
        params = op.count_params(step.input_shape)
        flops = op.count_flops(step.input_shape)
    except Exception as e:
        raise InvalidArchitectureError(
            f"op {step.index} ({step.op!r}) could not be sized: "
            f"{type(e).__name__}: {e}"
        ) from e
    return dataclasses.replace(step, params=params, flops=flops)


def check(ops, input_shape, op_table=None, front=()) -> Optional[str]:
    """Returns why `ops` is invalid for `input_shape`, or `None` if valid.

    >>> check(["dense-32", "conv3x3-16"], (8, 8, 1))
    "op 1 ('conv3x3-16') after 'dense-32' needs image input, but its input is tabular of shape (32,)"
    """
    try:
        plan(ops, input_shape, op_table=op_table, count=False, front=front)
    except InvalidArchitectureError as e:
        return str(e)
    return None


def over_budget(plan, max_params=None, max_flops=None):
    """Why `plan` is over a budget (`max_params` weights, `max_flops`
    multiply-adds), or `None`."""
    if max_params is not None and plan.params > max_params:
        return f"{plan.params} parameters exceed max_params={max_params}"
    if max_flops is not None and plan.flops > max_flops:
        return f"{plan.flops} multiply-adds exceed max_flops={max_flops}"
    return None
