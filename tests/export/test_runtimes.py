"""Every op and block layer in every runtime: converted, loaded, and run
with the Keras model's outputs (export/runtimes.py); latency timed there."""

import re
import sys
import warnings

import keras
import numpy as np
import pytest

from keras_nas import ops as ops_module
from keras_nas.ops import blocks
from keras_nas.space import builder
from keras_nas.scoring import latency
from keras_nas.export import runtimes
from keras_nas.space.search_space import SearchSpace

# A few models that hold, together, every op family of every vocabulary
# and every block layer (test_the_models_cover_every_op checks it).
MODELS = {
    "image": ("image-layers", (32, 32, 3), [
        "conv3x3-16", "sepconv3x3-32", "batchnorm", "maxpool",
        "convbnrelu3x3-16", "resblock-32", "mbconv3x3-e1-16",
        "mbconv3x3-e6-32-s2", "mbconv3x3-e3-se-64", "resblock-64-s2",
        "mbconv5x5-e6-se-64-s2", "avgpool", "dropout", "dense-64"]),
    "sequence": ("sequence-layers", (16, 3), [
        "conv3-16", "sepconv3-32", "convbnrelu5-64", "convbnrelu3-64-s2",
        "lstm-32", "bilstm-32", "gru-64", "transformer-h2-32", "maxpool",
        "batchnorm", "avgpool", "gmp", "dropout", "dense-64"]),
    "text": ("text-blocks", (12,), [
        "transformer-h4-64", "bigru-16", "gap", "dense-16"]),
    "tabular": ("tabular-blocks", (10,), [
        "densebnrelu-64", "resmlp-64", "dropout-0.5", "dense-32",
        "batchnorm", "dropout"]),
}


def family(name):
    return re.sub(r"\d+(\.\d+)?", "N", name)


def make(kind):
    vocabulary, shape, ops = MODELS[kind]
    space = SearchSpace(vocabulary, vocabulary_size=40 if kind == "text"
                        else None).bind(shape, output_units=5)
    model = builder.build_from_plan(space.plan(ops), "softmax",
                                    op_table=space.op_table)
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 40, (24,) + shape) if kind == "text"
         else rng.standard_normal((24,) + shape)).astype("float32")
    return model, x


def test_the_models_cover_every_op():
    covered = {family(o) for _, _, ops in MODELS.values() for o in ops}
    for name in ops_module.VOCABULARIES:
        missing = {family(o) for o in ops_module.vocabulary(name)} - covered
        assert not missing, (name, missing)
    layers = set()
    for kind in MODELS:
        model, _ = make(kind)
        layers |= {type(layer).__name__ for layer in model.layers}
    # `keras_nas.blocks` lists every block layer, wherever it is defined.
    block_layers = {n for n in blocks.__all__ if issubclass(
        getattr(blocks, n), keras.layers.Layer)}
    assert {"RecurrentBlock", "TransformerBlock", "TokenEmbedding",
            "ConvBNReLU"} <= block_layers
    assert block_layers and block_layers <= layers, block_layers - layers


@pytest.mark.parametrize("kind,format", [
    (kind, fmt) for kind in MODELS for fmt in ("onnx", "litert")
] + [("image", "tf_saved_model")])
def test_float_parity(tmp_path, kind, format):
    model, x = make(kind)
    ref = model.predict(x, verbose=0)
    path = tmp_path / {"onnx": "m.onnx", "litert": "m.tflite",
                       "tf_saved_model": "m"}[format]
    runtimes.convert(model, path, format)
    runner = runtimes.load(path, format)
    assert runner.runtime == runtimes.runtime_of(format)
    out = runner.predict(x)
    assert out.shape == ref.shape
    assert np.max(np.abs(out - ref)) < 1e-4
    assert np.mean(out.argmax(1) == ref.argmax(1)) >= 0.999


def test_format_of_path_and_bad_arguments(tmp_path):
    assert runtimes.format_of_path("a/b.onnx") == "onnx"
    assert runtimes.format_of_path("b.TFLITE") == "litert"
    assert runtimes.format_of_path("b.keras") == "keras"
    assert runtimes.format_of_path(str(tmp_path)) == "tf_saved_model"
    with pytest.raises(ValueError, match=r"path.*\.onnx.*format="):
        runtimes.format_of_path("model.bin")
    with pytest.raises(ValueError, match="format"):
        runtimes.check_format("tflite")
    with pytest.raises(ValueError, match=r"quantize.*'onnx'.*int8"):
        runtimes.check_format("onnx", "float16")
    for fmt in ("litert", "onnx"):
        with pytest.raises(ValueError,
                           match="TensorFlow backend only.*'jax'"):
            runtimes.check_format(fmt, backend="jax")
    runtimes.check_format("tf_saved_model", backend="jax")


def test_litert_int8_refuses_recurrent_layers_before_converting(tmp_path):
    model, x = make("text")
    with pytest.raises(ValueError, match=r"recurrent.*op1_bigru-16"):
        runtimes.convert(model, tmp_path / "m.tflite", "litert", "int8",
                         representative=x)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_runtime_names_the_extra(monkeypatch):
    # `None` in sys.modules is how Python marks a module as unimportable.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r'keras-nas\[export\]'):
        runtimes.check_format("onnx")
    with pytest.raises(ImportError, match="onnxruntime"):
        latency.Latency(runtime="onnxruntime")


def test_latency_on_each_runtime_is_cached_by_runtime():
    latency.clear_cache()
    ops = ["conv3x3-16", "maxpool", "dense-16"]
    times = {r: latency.measure_latency(ops, (8, 8, 1), repeats=3, runtime=r)
             for r in ("keras", "onnxruntime", "litert")}
    assert all(ms > 0 for ms in times.values())
    assert latency.cache_info()["misses"] == 3  # One per runtime.
    converted = latency.conversion_seconds()
    assert converted > 0
    assert latency.measure_latency(ops, (8, 8, 1), repeats=3,
                                   runtime="litert") == times["litert"]
    assert latency.cache_info()["hits"] == 1
    assert latency.conversion_seconds() == converted  # Not converted again.
    latency.clear_cache()


@pytest.mark.parametrize("kwargs,match", [
    ({"max_ms": 0}, "max_ms"),
    ({"max_ms": True}, "max_ms"),
    ({"batch_size": 0}, "batch_size"),
    ({"runtime": "tflite"}, r"runtime.*'litert'"),
])
def test_latency_option_checks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        latency.Latency(**kwargs)


def test_latency_option_config_round_trip():
    option = latency.Latency(max_ms=5, batch_size=2, runtime="litert")
    assert latency.Latency.from_config(option.get_config()) == option
    meter = option.meter()
    assert (meter.runtime, meter.batch_size) == ("litert", 2)


def _model_with(op):
    """A tiny model with `op` (a function of keras.ops) between two dense
    layers, and inputs for it."""
    inputs = keras.Input((6,))
    x = keras.layers.Lambda(op)(keras.layers.Dense(4)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    return model, np.random.default_rng(0).standard_normal(
        (16, 6)).astype("float32")


def test_litert_int8_tries_float_kernels_only_after_a_converter_error(
        tmp_path):
    # LiteRT has no kernel for arctan at all: int8 fails in the converter,
    # which says so and tries float kernels, which fail as well; that
    # error reaches the caller as it is.
    model, x = _model_with(keras.ops.arctan)
    with pytest.warns(UserWarning, match=r"int8 \(tf\.Atan\).*converting "
                      r"again with float kernels.*integer_only: false"):
        with pytest.raises(Exception) as info:
            runtimes.convert(model, tmp_path / "m.tflite", "litert", "int8",
                             representative=x)
    assert type(info.value).__name__ == "ConverterError"
    assert "tf.Atan" in str(info.value)


def test_litert_int8_does_not_hide_other_errors_behind_float(tmp_path):
    # A file that cannot be written is no reason to try float kernels: no
    # warning, the error as it is.
    model, x = _model_with(keras.ops.tanh)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(OSError):
            runtimes.convert(model, tmp_path / "missing" / "m.tflite",
                             "litert", "int8", representative=x)
