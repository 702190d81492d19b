import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas.space import architecture
from keras_nas.space import builder
from keras_nas import ops
from keras_nas.space.search_space import SearchSpace

from tests.conftest import tabular, waves

# The branches that tests/ops/test_ops.py's shapes (8x8x1, 50x3, 30) miss:
# identity shortcuts, odd sizes under stride 2, a transformer input of its own
# width.
SHAPES = [(8, 8, 16), (5, 7, 64), (20, 32), (20, 64), (64,)]

BLOCK_PREFIXES = ("convbnrelu", "resblock", "mbconv", "lstm", "bilstm",
                  "gru", "bigru", "transformer", "densebnrelu", "resmlp")
BLOCK_OPS = [n for n in ops.names() if n.startswith(BLOCK_PREFIXES)]


@pytest.mark.parametrize("prefix", BLOCK_PREFIXES)
def test_block_shapes_and_params_are_exact(prefix):
    names = [n for n in BLOCK_OPS if n.startswith(prefix)
             and (prefix != "lstm" or not n.startswith("bi"))]
    assert names
    for name in names:
        op = ops.get(name)
        for shape in SHAPES:
            if not op.accepts(shape) or (op.needs_flat and len(shape) > 1):
                continue
            try:
                out = op.output_shape(shape)
            except ops.InvalidArchitectureError:
                continue
            layer = op.make_layer(shape)
            layer.build((None,) + shape)
            assert layer.count_params() == op.count_params(shape), (name, shape)
            assert op.count_flops(shape) > 0
            y = layer.compute_output_shape((None,) + shape)
            assert tuple(y[1:]) == out, (name, shape)


def test_blocks_run_and_keep_their_planned_shapes():
    for name, shape in [("mbconv5x5-e6-se-32-s2", (5, 7, 16)),
                        ("mbconv3x3-e1-16", (8, 8, 16)),
                        ("resblock-32-s2", (8, 8, 3)),
                        ("convbnrelu3-32-s2", (9, 4)),
                        ("bigru-16", (10, 3)),
                        ("transformer-h2-32", (10, 8)),
                        ("resmlp-64", (64,)),
                        ("densebnrelu-32", (12,))]:
        op = ops.get(name)
        y = op.make_layer(shape)(np.zeros((2,) + shape, "float32"),
                                 training=True)
        assert tuple(y.shape) == (2,) + op.output_shape(shape), name


def test_stride_two_needs_room_to_halve():
    assert "halves" in architecture.check(["resblock-32-s2"], (1, 1, 3))


def test_recurrent_after_global_pooling_is_never_proposed():
    space = SearchSpace("sequence-blocks").bind((20, 3))
    assert "needs sequence input" in space.check(["gap", "lstm-32"])
    assert space.check(["lstm-32", "transformer-h2-32", "gap",
                        "dense-64"]) is None
    rng = np.random.default_rng(0)
    for _ in range(30):
        assert space.check(space.random_ops(rng)) is None


def test_named_vocabularies_and_their_depths():
    for name in ops.VOCABULARIES:
        assert all(n in ops.names() for n in ops.vocabulary(name))
    assert ops.vocabulary("image-layers") == ops.default_ops(3)
    space = SearchSpace("image-blocks")
    assert (space.kind, space.max_depth) == ("image", 6)
    assert SearchSpace().bind((8, 8, 1)).ops == ops.default_ops(3)
    with pytest.raises(ValueError, match="Accepted"):
        ops.vocabulary("photo-blocks")
    with pytest.raises(TypeError, match="name a vocabulary"):
        SearchSpace("conv3x3-32")
    with pytest.raises(ValueError, match="must agree"):
        SearchSpace("image-blocks", kind="text")
    with pytest.raises(ValueError, match="is for image data"):
        SearchSpace("image-blocks").bind((20, 3))


def test_text_space_infers_the_vocabulary_and_prepends_the_embedding():
    x = np.array([[0, 3, 4], [7, 1, 2]], "float32")
    space = SearchSpace(kind="text", embedding_dim=8)
    with pytest.raises(ValueError, match="vocabulary_size"):
        space.bind((3,))
    adapted = space.adapted(x)
    assert adapted.vocabulary_size == 8 and space.vocabulary_size is None
    bound = adapted.bind((3,), output_units=2)
    plan = bound.plan(["conv3-16"])
    assert [s.op for s in plan.steps] == ["embedding-8-8", "conv3-16",
                                          "flatten", "head"]
    model = builder.build_from_plan(plan, "softmax", op_table=bound.op_table)
    assert model.count_params() == plan.params
    assert "embedding" not in " ".join(bound.ops)
    with pytest.raises(ValueError, match="does not fit"):
        SearchSpace(kind="text", vocabulary_size=5).adapted(x)
    with pytest.raises(ValueError, match="non-negative integer"):
        SearchSpace(kind="text").adapted(x - 0.5)
    # Other spaces are returned as they are.
    assert SearchSpace().adapted(x).vocabulary_size is None


def test_saved_block_model_loads_in_safe_mode_after_import(tmp_path):
    space = SearchSpace(kind="text", vocabulary_size=10).bind(
        (6,), output_units=3)
    parts = [
        (["mbconv3x3-e6-se-16-s2", "resblock-16", "convbnrelu3x3-16"],
         (8, 8, 3), {}),
        (["lstm-16", "bigru-16", "transformer-h2-32", "convbnrelu3-16"],
         (6, 2), {}),
        (["densebnrelu-32", "resmlp-32"], (5,), {}),
    ]
    paths = []
    for i, (names, shape, _) in enumerate(parts):
        model = builder.build_model(names, shape, num_classes=3)
        paths.append(str(tmp_path / f"m{i}.keras"))
        model.save(paths[-1])
    text = builder.build_from_plan(space.plan(["gru-16"]), "softmax",
                                   op_table=space.op_table)
    paths.append(str(tmp_path / "text.keras"))
    text.save(paths[-1])
    x = [np.ones((2, 8, 8, 3)), np.ones((2, 6, 2)), np.ones((2, 5)),
         np.ones((2, 6))]
    models = [keras.models.load_model(p) for p in paths]
    expected = [m.predict(xi, verbose=0) for m, xi in zip(models, x)]
    np.save(tmp_path / "expected.npy", np.concatenate(
        [e.ravel() for e in expected]))
    script = textwrap.dedent(f"""
        import numpy as np, keras
        import keras_nas  # with keras loaded, registers the block layers
        paths = {paths!r}
        x = [np.ones((2, 8, 8, 3)), np.ones((2, 6, 2)), np.ones((2, 5)),
             np.ones((2, 6))]
        got = [keras.models.load_model(p, safe_mode=True).predict(xi, verbose=0)
               for p, xi in zip(paths, x)]
        want = np.load({str(tmp_path / "expected.npy")!r})
        np.testing.assert_allclose(
            np.concatenate([g.ravel() for g in got]), want, atol=1e-5)
        print("loaded")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True,
                         text=True, timeout=120,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "loaded" in out.stdout


def _fit(space, x, y, tmp_path):
    search = keras_nas.NASSearch(space=space, max_trials=1, seed=0,
                                 directory=str(tmp_path), overwrite=True)
    search.fit(x, y, epochs=1, verbose=0)
    assert search.results()[0].status == "COMPLETED"
    return search


def test_each_kind_of_input_fits_one_tiny_trial(tmp_path):
    rng = np.random.default_rng(0)
    x_img = rng.normal(size=(48, 8, 8, 3)).astype("float32")
    _fit(SearchSpace("image-blocks", max_depth=2), x_img,
         rng.integers(0, 3, 48), tmp_path / "image")
    x_seq, y_seq = waves(48, steps=12)
    _fit(SearchSpace("sequence-blocks", max_depth=2), x_seq, y_seq,
         tmp_path / "sequence")
    x_tok = rng.integers(0, 30, (48, 10)).astype("float32")
    search = _fit(SearchSpace("text-blocks", max_depth=2), x_tok,
                  rng.integers(0, 2, 48), tmp_path / "text")
    assert search.space_.vocabulary_size == int(x_tok.max()) + 1
    x_tab, y_tab = tabular(48)
    _fit(SearchSpace("tabular-blocks", max_depth=2), x_tab, y_tab,
         tmp_path / "tabular")


def test_image_blocks_run_under_jax(tmp_path):
    pytest.importorskip("jax")
    script = textwrap.dedent("""
        import numpy as np, keras
        from keras_nas.space import builder
        assert keras.backend.backend() == "jax"
        model = builder.build_model(
            ["convbnrelu3x3-16-s2", "resblock-16", "resblock-32-s2",
             "mbconv5x5-e3-se-32", "mbconv3x3-e6-32-s2"], (8, 8, 3),
            num_classes=3)
        model.compile("adam", "sparse_categorical_crossentropy")
        x = np.random.default_rng(0).normal(size=(16, 8, 8, 3))
        model.fit(x, np.arange(16) % 3, epochs=1, verbose=0)
        print("jax ok", model.count_params())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True,
                         text=True, timeout=180,
                         env=dict(os.environ, KERAS_BACKEND="jax",
                                  TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "jax ok" in out.stdout


def test_every_batch_normalization_follows_a_short_trial():
    # At Keras' default momentum (0.99) the inference statistics lag a
    # trial of a few epochs; see `blocks.BN_MOMENTUM`.
    model = keras_nas.build_model(
        ["convbnrelu3x3-16", "resblock-32-s2", "mbconv3x3-e3-se-32",
         "batchnorm", "gap", "densebnrelu-32", "resmlp-32"], (8, 8, 3),
        num_classes=3)
    norms = [layer for layer in _sublayers(model)
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) >= 8
    assert {layer.momentum for layer in norms} == {keras_nas.ops.blocks.BN_MOMENTUM}


def _sublayers(layer):
    for sub in getattr(layer, "_layers", []) or []:
        yield sub
        yield from _sublayers(sub)
