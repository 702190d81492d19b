import keras
import numpy as np
import pytest

import keras_nas
from keras_nas.space import architecture
from keras_nas.space import builder
from keras_nas import ops

from tests.conftest import SHAPES


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_param_estimate_equals_count_params_on_random_sequences(kind, rng):
    shape = SHAPES[kind]
    space = keras_nas.SearchSpace(
        ops=ops.names(rank=len(shape)), max_depth=6, input_shape=shape
    )
    for i in range(100):
        seq = space.random_ops(rng)
        task = ("multiclass", "binary", "regression")[i % 3]
        units = {"multiclass": 10, "binary": 1, "regression": 2}[task]
        plan = architecture.plan(seq, shape, output_units=units)
        model = builder.build_model(
            seq, shape, task=task, num_classes=10, num_targets=2
        )
        assert model.count_params() == plan.params, seq
        assert model.output_shape == (None, units)
        # The head's multiply-adds, one per weight of its kernel, counted.
        head = plan.steps[-1]
        assert head.op == "head" and head.output_shape == (units,)
        assert head.flops == head.input_shape[-1] * units <= plan.flops


def test_heads_follow_the_task():
    seq = ["dense-16"]
    multi = builder.build_model(seq, (30,), task="multiclass", num_classes=4)
    binary = builder.build_model(seq, (30,), task="binary")
    reg = builder.build_model(seq, (30,), task="regression", num_targets=3)
    assert multi.layers[-1].activation.__name__ == "softmax"
    assert multi.output_shape == (None, 4)
    assert binary.layers[-1].activation.__name__ == "sigmoid"
    assert binary.output_shape == (None, 1)
    assert reg.layers[-1].activation.__name__ == "linear"
    assert reg.output_shape == (None, 3)


def test_spatial_to_flat_is_inserted():
    plan = architecture.plan(["conv3-16", "dense-32"], (50, 3))
    assert [s.op for s in plan.steps] == ["conv3-16", "flatten", "dense-32", "head"]
    plan = architecture.plan(["conv3x3-16"], (8, 8, 1))
    assert [s.op for s in plan.steps] == ["conv3x3-16", "flatten", "head"]
    # Large maps are pooled, not flattened, unless asked.
    big = architecture.plan(["conv3x3-64"], (64, 64, 3), output_units=3)
    assert big.steps[1].op == "gap"
    forced = architecture.plan(["conv3x3-64"], (64, 64, 3), head="flatten")
    assert forced.steps[1].op == "flatten"
    model = builder.build_model(["conv3x3-64"], (64, 64, 3), num_classes=3)
    assert model.count_params() == big.params


@pytest.mark.parametrize(
    "seq, shape, reason",
    [
        (["maxpool"] * 4, (8, 8, 1), "at least 2 in each spatial dimension"),
        (["dense-32", "conv3x3-16"], (8, 8, 1), "needs image input"),
        (["dense-32", "maxpool"], (50, 3), "needs sequence or image input"),
        (["conv3x3-16"], (50, 3), "needs image input"),
        (["gap", "conv3-16"], (50, 3), "needs sequence input"),
        ([], (30,), "empty"),
    ],
)
def test_invalid_sequences_are_caught_before_any_layer_is_built(
    seq, shape, reason
):
    built = []

    def spy(shape):
        built.append(shape)
        return keras.layers.Identity()

    table = {"spy": ops.make_op("spy", spy)}
    with pytest.raises(ops.InvalidArchitectureError, match=reason):
        builder.build_model(["spy"] + seq if seq else seq, shape,
                            num_classes=3, op_table=table)
    assert built == []
    assert reason in architecture.check(seq, shape)


def test_unsupported_input_rank_is_rejected():
    with pytest.raises(ValueError, match=r"input_shape.*Received: input_shape=\(2, 2, 2, 2\)"):
        builder.build_model(["dense-16"], (2, 2, 2, 2), num_classes=3)


def test_unknown_task_and_missing_classes():
    with pytest.raises(ValueError, match="`task` must be one of"):
        builder.build_model(["dense-16"], (30,), task="ranking")
    with pytest.raises(ValueError, match="num_classes"):
        builder.build_model(["dense-16"], (30,), task="multiclass")


def test_built_model_trains():
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 1)).astype("float32")
    y = np.arange(32) % 3
    model = builder.build_model(
        ["conv3x3-16", "batchnorm", "maxpool", "dropout", "dense-32"],
        (8, 8, 1),
        num_classes=3,
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
