import keras
import pytest

from keras_nas.space import architecture
from keras_nas import ops

from tests.conftest import SHAPES


@pytest.mark.parametrize("name", ops.names())
def test_every_builtin_builds_for_every_rank_it_claims(name):
    op = ops.get(name)
    for shape in SHAPES.values():
        if not op.accepts(shape):
            continue
        try:
            out = op.output_shape(shape)
        except ops.InvalidArchitectureError:
            continue
        layer = op.make_layer(shape)
        assert isinstance(layer, keras.layers.Layer)
        y = layer.compute_output_shape((None,) + shape)
        if op.needs_flat and len(shape) > 1:
            continue  # The builder flattens first; checked in test_builder.
        assert tuple(y[1:]) == tuple(out), (name, shape)
        layer.build((None,) + shape)
        assert layer.count_params() == op.count_params(shape), (name, shape)


def test_every_kind_has_conv_pool_dense_dropout_batchnorm():
    for rank in (2, 3):
        names = ops.default_ops(rank)
        assert any(n.startswith("conv") for n in names)
        assert any(n.startswith("sepconv") for n in names)
        assert {"maxpool", "avgpool", "dropout", "batchnorm"} <= set(names)
        assert any(n.startswith("dense-") for n in names)
    assert all(
        n.startswith(("dense", "dropout", "batchnorm"))
        for n in ops.default_ops(1)
    )


def test_2d_ops_reject_sequences_and_1d_ops_reject_images():
    assert architecture.check(["conv3x3-32"], SHAPES["sequence"])
    assert architecture.check(["conv3-32"], SHAPES["image"])
    assert architecture.check(["conv3x3-32"], SHAPES["tabular"])
    assert architecture.check(["conv3-32"], SHAPES["sequence"]) is None


def test_register_custom_op_defaults_to_shape_preserving_anywhere():
    op = ops.register(
        "test-gelu", lambda: keras.layers.Activation("gelu"), overwrite=True
    )
    try:
        assert "test-gelu" in ops.names(rank=1)
        for shape in SHAPES.values():
            assert op.output_shape(shape) == shape
        assert ops.get("test-gelu") is op
        with pytest.raises(ValueError, match="already registered"):
            ops.register("test-gelu", lambda: keras.layers.Activation("relu"))
    finally:
        ops.unregister("test-gelu")
    with pytest.raises(ValueError, match="Unknown op name: 'test-gelu'"):
        ops.get("test-gelu")


def test_custom_op_params_are_counted_by_building_the_layer_alone():
    op = ops.make_op("proj", lambda: keras.layers.Dense(7))
    assert op.count_params((5,)) == 5 * 7 + 7


def test_factory_that_returns_no_layer_is_a_type_error():
    with pytest.raises(TypeError, match="must return a `keras.layers.Layer`"):
        ops.register("bad", lambda: "not a layer")
    assert "bad" not in ops.names()


def test_builtin_ops_cannot_be_unregistered():
    with pytest.raises(ValueError, match="built in"):
        ops.unregister("maxpool")


def test_unsupported_rank_names_what_is_accepted():
    with pytest.raises(ValueError, match=r"Unsupported input rank: 4.*Accepted"):
        ops.default_ops(4)
