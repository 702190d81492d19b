"""Export of a finished search (front/export.py): each format checked in
its runtime at export, quantized within reach of the float model, after a
reload too, and nothing left behind by a failed one."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas.front import export as export_module
from keras_nas.scoring import latency
from keras_nas.space.builder import build_model
from tests.conftest import digits


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    keras.utils.set_random_seed(0)
    (x, y), _ = digits(n=1000)
    ops = ["conv3x3-16", "maxpool", "dense-64"]
    s = keras_nas.NASSearch(
        space=keras_nas.SearchSpace(ops=ops, max_depth=3), max_trials=1,
        initial_architectures=[ops], seed=0, warm_start=False,
        directory=str(tmp_path_factory.mktemp("runs")), project_name="d")
    s.fit(x, y, epochs=8, validation_split=0.3, verbose=0)
    return s


def read(json_path):
    with open(json_path) as f:
        return json.load(f)


def test_onnx_export_is_checked_and_described(search, tmp_path):
    info = read(search.export(tmp_path / "m.onnx"))
    assert (tmp_path / "m.onnx").stat().st_size == info["file_size"] > 0
    assert info["format"] == "onnx" and info["runtime"] == "onnxruntime"
    assert "onnxruntime" in info["versions"] and info["task"]["kind"]
    checks = info["checks"]
    assert checks["passed"] and checks["class_agreement"] >= 0.999
    assert checks["inputs"] == "validation" and checks["samples"] == 300
    assert checks["keras"] > 0.8 and checks["exported"] == pytest.approx(
        checks["keras"], abs=1e-3)
    assert sorted(os.listdir(tmp_path)) == ["m.json", "m.onnx"]


@pytest.mark.parametrize("name,quantize", [
    ("q.tflite", "int8"), ("q.onnx", "int8"), ("h.tflite", "float16")])
def test_quantized_within_two_points(search, tmp_path, name, quantize):
    info = read(search.export(tmp_path / name, quantize=quantize))
    checks = info["checks"]
    assert info["quantize"] == quantize and checks["passed"] is None
    assert checks["metric"] == "accuracy"
    assert abs(checks["drop"]) <= 0.02, checks
    if name == "q.tflite":
        assert info["conversion"]["integer_only"] is True
        float_info = read(search.export(tmp_path / "f.tflite"))
        # int8 weights take about a quarter of the float file.
        assert info["file_size"] < 0.5 * float_info["file_size"]


def test_saved_model_folder_replaces_an_old_one(search, tmp_path):
    folder = tmp_path / "served"
    search.export(folder)
    info = read(search.export(folder))  # Over the first: replaced whole.
    assert info["format"] == "tf_saved_model" and info["checks"]["passed"]
    assert (folder / "saved_model.pb").exists()
    assert sorted(os.listdir(tmp_path)) == ["served", "served.json"]


def test_export_after_reload(search, tmp_path):
    again = keras_nas.NASSearch.load(search.directory, search.project_name)
    info = read(again.export(tmp_path / "r.tflite"))
    assert info["checks"]["passed"]
    assert info["checks"]["inputs"].startswith("random")
    with pytest.raises(ValueError, match="validation_data"):
        again.export(tmp_path / "r8.tflite", quantize="int8")
    _, (xt, yt) = digits()
    info = read(again.export(tmp_path / "r8.tflite", quantize="int8",
                             validation_data=(xt, yt)))
    assert info["checks"]["inputs"] == "validation"
    assert abs(info["checks"]["drop"]) <= 0.03


class _Opaque(keras.layers.Layer):
    """A layer no converter can translate: it calls back into Python."""

    def call(self, x):
        import tensorflow as tf

        out = tf.numpy_function(lambda a: a * 2, [x], tf.float32)
        out.set_shape(x.shape)
        return out

    def compute_output_shape(self, shape):
        return shape


def _converter_error():
    from tensorflow.lite.python.convert_phase import ConverterError

    return ConverterError


def _onnx_runtime_error():
    from onnxruntime.capi.onnxruntime_pybind11_state import InvalidGraph

    return InvalidGraph


# ONNX: tf2onnx writes the file, ONNX Runtime refuses it; LiteRT: the
# converter fails; Keras: the file is written, and does not load. Each the
# converter's or the runtime's own error, passed on as it was raised.
@pytest.mark.parametrize("name,error,message", [
    ("bad.onnx", _onnx_runtime_error, "No Op registered for PyFunc"),
    ("bad.tflite", _converter_error,
     "'tf.PyFunc' op is neither a custom op nor a flex op"),
    ("bad.keras", lambda: TypeError, "could not be deserialized properly"),
])
def test_failed_conversion_leaves_no_file(tmp_path, name, error, message):
    from keras_nas.data.task import Task

    model = keras.Sequential([keras.Input((4,)), _Opaque(),
                              keras.layers.Dense(3, activation="softmax")])
    (tmp_path / name).write_bytes(b"an earlier export")
    with pytest.raises(error(), match=message):
        export_module.export(tmp_path / name, model, {}, Task(
            "multiclass", classes=(0, 1, 2)))
    # The earlier file is untouched; no temporary, no JSON.
    assert os.listdir(tmp_path) == [name]
    assert (tmp_path / name).read_bytes() == b"an earlier export"


def test_bad_format_fails_before_any_work(search, tmp_path):
    with pytest.raises(ValueError, match="quantize"):
        search.export(tmp_path / "m.onnx", quantize="float16")
    with pytest.raises(ValueError, match="format"):
        search.export(tmp_path / "m.bin")
    assert os.listdir(tmp_path) == []


def test_latency_option_in_a_search(tmp_path):
    (x, y), _ = digits(n=200)
    option = latency.Latency(max_ms=1000.0, runtime="onnxruntime")
    s = keras_nas.NASSearch(
        space=keras_nas.SearchSpace(ops=["conv3x3-16", "dense-16"],
                                    max_depth=2),
        max_trials=2, seed=0, warm_start=False, latency=option,
        objective=["val_accuracy", "latency_ms"],
        directory=str(tmp_path), project_name="lat")
    s.fit(x, y, epochs=1, verbose=0)
    meter = s.tuner.latency
    assert meter.runtime == "onnxruntime" and meter.measured >= 1
    assert 0 < meter.conversion_seconds <= meter.seconds
    assert all(r.objectives.get("latency_ms", 0) > 0 for r in s.results()
               if r.status == "COMPLETED")
    assert keras_nas.NASSearch.from_config(
        s.get_config()).config.latency == option


LOAD = "import {first}, {second}; m = keras.models.load_model({path!r}); " \
       "print(type(m.layers[0]).__name__)"


@pytest.mark.parametrize("first,second", [("keras_nas", "keras"),
                                          ("keras", "keras_nas")])
def test_block_model_loads_in_either_import_order(tmp_path, first, second):
    path = str(tmp_path / "b.keras")
    build_model(["convbnrelu3x3-16", "resblock-16"], (8, 8, 1),
                num_classes=3).save(path)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", LOAD.format(first=first, second=second,
                                           path=path)],
        env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ConvBNReLU")
