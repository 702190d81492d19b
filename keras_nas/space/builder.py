"""Compile an op list into a `keras.Sequential`.

The builder first plans the sequence (`architecture.plan`), so an invalid one
fails with its reason before any layer exists. It then makes one layer per
step: the ops, the `Flatten` (or global pooling) where spatial becomes flat,
and a head that follows the task.

Invalid sequences are never repaired: `build_model` raises
`InvalidArchitectureError`. In a search, the built-in strategies only propose
valid sequences; one that still arrives (from a user's own oracle) is
recorded as a failed trial with its reason, and costs no training.
"""

import keras

from keras_nas.space import architecture
from keras_nas import ops as ops_module
from keras_nas.data.task import head as task_head

__all__ = ["build_model", "build_from_plan"]


def build_model(
    ops,
    input_shape,
    task="multiclass",
    num_classes=None,
    num_targets=1,
    head="auto",
    op_table=None,
    name=None,
    front=(),
):
    """Build the `keras.Sequential` of an op list.

    Args:
        ops: A list of op names, e.g. `["conv3x3-32", "maxpool", "dense-64"]`.
        input_shape: The shape of one sample, without the batch dimension.
        task: `"multiclass"` (softmax head), `"binary"` (one sigmoid unit) or
            `"regression"` (linear units). Defaults to `"multiclass"`.
        num_classes: Number of classes of a multiclass task.
        num_targets: Number of outputs of a regression. Defaults to `1`.
        head: `"auto"`, `"flatten"` or `"gap"`: how spatial maps become flat
            before the head. Defaults to `"auto"`.
        op_table: Optional mapping from op name to `Op` (a search space's
            own ops), looked up before the registry.
        name: Optional model name.
        front: `Op`s applied before `ops` that the genotype does not list,
            e.g. `ops.embedding_op(...)` for integer tokens. Defaults to `()`.

    Returns:
        An uncompiled, built `keras.Sequential`.

    Raises:
        InvalidArchitectureError: the sequence is invalid for `input_shape`;
            no layer was built.

    >>> model = build_model(["conv3x3-16", "maxpool"], (8, 8, 1), num_classes=10)
    >>> model.count_params()
    2730
    """
    units, activation = task_head(task, num_classes, num_targets)
    plan = architecture.plan(
        ops, input_shape, output_units=units, head=head, op_table=op_table,
        front=front,
    )
    if front:
        op_table = {**(op_table or {}), **{op.name: op for op in front}}
    return build_from_plan(plan, activation, op_table=op_table, name=name)


def build_from_plan(plan, activation, op_table=None, name=None):
    """Build the model of a `Plan`; the head uses `activation`.

    `op_table` must also hold the plan's front ops, if any (a search space's
    `op_table` does).
    """
    layers = [keras.Input(shape=plan.input_shape)]
    for i, step in enumerate(plan.steps):
        if step.op == "flatten":
            layers.append(keras.layers.Flatten(name=f"flatten_{i}"))
        elif step.op == "gap":
            layer = ops_module.get("gap").make_layer(step.input_shape)
            layer.name = f"gap_{i}"
            layers.append(layer)
        elif step.op == "head":
            layers.append(
                keras.layers.Dense(
                    step.output_shape[-1], activation=activation, name="head"
                )
            )
        else:
            op = architecture.resolve(step.op, op_table)
            layer = op.make_layer(step.input_shape)
            if ops_module.is_builtin(op.name):
                # Readable names in summaries and TensorBoard graphs.
                layer.name = ops_module.layer_name(step.index, step.op)
            layers.append(layer)
    return keras.Sequential(layers, name=name)
