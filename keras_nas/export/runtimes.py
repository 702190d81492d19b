"""A Keras model in the runtimes that serve it: convert, load, run, time.

A model found by a search is deployed on another runtime than Keras: LiteRT
(formerly TFLite) on a phone, ONNX Runtime on many servers, TensorFlow
Serving on a SavedModel. Their kernels differ, so a candidate's latency (and
which candidate is fastest) differs too, which is why the device searches
(MnasNet, ProxylessNAS, Once-for-All) time candidates where they will run.
This module is the one place that knows those formats: `convert` writes one
(optionally quantized), `load` opens it in its runtime as a `Runner` that
predicts and times, and `versions` names what did it. The latency meter of
the search (`scoring/latency.py`) and the export of a finished search
(`front/export.py`) both go through it.

Conversion goes through Keras' own `model.export` (`format="onnx"`, which
uses tf2onnx on TensorFlow; `format="litert"`, which converts a SavedModel,
since `TFLiteConverter.from_keras_model` does not work on Keras 3). The
runtimes (`onnxruntime`, `ai-edge-litert`, `tf2onnx`, `onnx`) are the
`export` extra: `pip install "keras-nas[export]"`. The formats' names (and
the format a path names) are `export/formats.py`, re-exported here.
"""

import functools
import importlib
import os
import statistics
import time
import warnings

import keras
import numpy as np

from keras_nas._checks import check_int
from keras_nas.ops import sequence_blocks
from keras_nas.export.formats import (FORMATS, QUANTIZE, RUNTIMES,
                                     format_of_path)

__all__ = ["FORMATS", "QUANTIZE", "RUNTIMES", "MissingRuntimeError",
           "Runner", "check_format", "convert", "format_of_path", "load",
           "runner_of",
           "runtime_of", "versions"]

#: The Python modules each format needs beyond Keras and TensorFlow.
_NEEDS = {"keras": (), "tf_saved_model": (),
          "onnx": ("onnx", "tf2onnx", "onnxruntime"),
          "litert": ("ai_edge_litert",)}
_PIP = {"onnx": "onnx", "tf2onnx": "tf2onnx", "onnxruntime": "onnxruntime",
        "ai_edge_litert": "ai-edge-litert"}


class MissingRuntimeError(ImportError):
    """A format's converter or runtime is not installed."""


def check_format(format, quantize=None, backend=None):
    """Raise a clear error unless this backend can write `format` with
    `quantize`, and its extra is installed. Returns `format`."""
    if format not in FORMATS:
        raise ValueError(
            f"`format` must be one of {FORMATS}. Received: format={format!r}.")
    if quantize not in QUANTIZE[format]:
        raise ValueError(
            f"`quantize` for format={format!r} must be one of "
            f"{QUANTIZE[format]}. Received: quantize={quantize!r}.")
    backend = backend or keras.backend.backend()
    if format in ("litert", "onnx") and backend != "tensorflow":
        # Keras writes LiteRT from TensorFlow (or PyTorch with
        # litert-torch), and ONNX from JAX only with jax2onnx: neither is
        # in the export extra, so neither is offered.
        raise ValueError(
            f"The {format!r} format is written from the TensorFlow backend "
            f"only; this process runs on {backend!r}. Set "
            "KERAS_BACKEND=tensorflow, or export to .keras or to a folder "
            "(a TensorFlow SavedModel).")
    for module in _NEEDS[format]:
        _require(module, format)
    return format


def _require(module, format):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingRuntimeError(
            f"The {format!r} format needs the Python package "
            f"{_PIP[module]!r}, which is not installed. Install the export "
            'extra: pip install "keras-nas[export]"') from None


def runtime_of(format):
    """The runtime that serves `format` (`"onnxruntime"` for `"onnx"`)."""
    return RUNTIMES[format]


def versions(format):
    """`{package: version}` of what writes and runs `format`."""
    out = {"keras": keras.__version__,
           "backend": keras.backend.backend()}
    try:
        import tensorflow as tf

        out["tensorflow"] = tf.__version__
    except ImportError:  # The JAX backend without TensorFlow.
        pass
    for module in _NEEDS[format]:
        out[_PIP[module]] = getattr(
            importlib.import_module(module), "__version__", "unknown")
    return out


def convert(model, path, format, quantize=None, representative=None,
            batch_size=1):
    """Write `model` to `path` in `format`.

    Args:
        model: A built `keras.Model`.
        path: The file (or, for `"tf_saved_model"`, folder) to write.
            LiteRT wants a `.tflite` name; Keras a `.keras` one.
        format: One of `FORMATS`.
        quantize: `None`, `"float16"` (LiteRT) or `"int8"` (LiteRT:
            full-integer ops, calibrated on `representative`; ONNX: dynamic,
            weights in int8). Defaults to `None`.
        representative: Float32 inputs (a few hundred samples) that
            calibrate LiteRT's int8 activations. Needed for LiteRT int8.
        batch_size: The batch a LiteRT file takes (its graph is fixed;
            `Runner.predict` feeds larger inputs in such batches). Other
            formats take any batch. Defaults to `1`, one request.

    Returns:
        A dict of notes on the conversion (`{"integer_only": ...}` for
        LiteRT int8), empty otherwise.
    """
    check_format(format, quantize)
    path = os.fspath(path)
    if format == "keras":
        model.save(path)
        return {}
    if format == "tf_saved_model":  # Any inputs, strings and dicts too.
        model.export(path, format="tf_saved_model", verbose=False)
        return {}
    # Keras' ONNX export wants a model that has been called once; one
    # eager call on zeros costs milliseconds.
    model(np.zeros((1,) + tuple(model.input_shape[1:]), "float32"),
          training=False)
    if format == "onnx":
        if quantize is None:
            model.export(path, format="onnx", verbose=False)
            return {}
        from onnxruntime.quantization import QuantType, quantize_dynamic

        float_path = path + ".float.onnx"
        try:
            model.export(float_path, format="onnx", verbose=False)
            quantize_dynamic(float_path, path, weight_type=QuantType.QInt8)
        finally:
            if os.path.exists(float_path):
                os.remove(float_path)
        return {"quantization": "dynamic int8 weights (onnxruntime)"}
    return _convert_litert(model, path, quantize, representative,
                           check_int("batch_size", batch_size, 1))


def _convert_litert(model, path, quantize, representative, batch_size):
    import tensorflow as tf

    # A fixed batch: LiteRT then lowers recurrent loops to its builtin ops
    # (with a free batch axis they need TensorFlow's "select" ops, which
    # ai-edge-litert's interpreter does not run), and its XNNPACK delegate
    # cannot resize a prepared graph anyway. Builtin ops only, so that a
    # model the runtime cannot run fails here, not on the device.
    signature = [keras.InputSpec(
        shape=(int(batch_size),) + tuple(model.input_shape[1:]),
        dtype="float32")]
    builtins = tf.lite.OpsSet.TFLITE_BUILTINS
    export = functools.partial(model.export, path, format="litert",
                               verbose=False, input_signature=signature)
    if quantize is None:
        export(target_spec={"supported_ops": [builtins]})
        return {"batch_size": int(batch_size)}
    if quantize == "float16":
        export(optimizations=[tf.lite.Optimize.DEFAULT],
               target_spec={"supported_ops": [builtins],
                            "supported_types": [tf.float16]})
        return {"quantization": "float16 weights",
                "batch_size": int(batch_size)}
    if representative is None or len(representative) == 0:
        raise ValueError(
            "LiteRT int8 quantization needs `representative` inputs to "
            "calibrate its activations. Received: representative=None.")
    recurrent = [layer.name for layer in model.layers if isinstance(
        layer, (sequence_blocks.RecurrentBlock, keras.layers.RNN,
                keras.layers.Bidirectional))]
    if recurrent:
        # TensorFlow 2.21's calibrator crashes the process (SIGSEGV) on
        # the lowered recurrent loop; refuse before it runs.
        raise ValueError(
            "LiteRT int8 quantization of recurrent layers (LSTM, GRU) is "
            f"not supported; this model has {recurrent}. Accepted for it: "
            "quantize=None or 'float16' for .tflite, or 'int8' for .onnx.")
    samples = np.asarray(representative, dtype="float32")
    samples = samples[: len(samples) // batch_size * batch_size] if len(
        samples) >= batch_size else np.resize(
            samples, (batch_size,) + samples.shape[1:])

    def dataset():
        for i in range(0, len(samples), batch_size):
            yield [samples[i:i + batch_size]]

    common = dict(optimizations=[tf.lite.Optimize.DEFAULT],
                  representative_dataset=dataset)
    # TensorFlow has no public name for the converter's error.
    from tensorflow.lite.python.convert_phase import ConverterError

    try:
        # Full-integer: every op in int8, float32 in and out, so the file
        # is called as the float one is.
        export(target_spec={"supported_ops": [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8]}, **common)
        return {"quantization": "int8, full-integer ops",
                "integer_only": True, "batch_size": int(batch_size)}
    except ConverterError as e:
        # An op the converter cannot write in int8: keep that one in float.
        # Anything else (bad inputs, a crashed calibration) is no reason to.
        ops = sorted({err.operator.name for err in getattr(e, "errors", ())
                      if err.operator.name})
        warnings.warn(
            "LiteRT could not write every op of this model in int8"
            + (f" ({', '.join(ops)})" if ops else "") + "; converting again "
            "with float kernels where int8 ones are missing, so the file is "
            "not integer-only (`integer_only: false` in its notes).",
            stacklevel=3)
    export(target_spec={"supported_ops": [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8, builtins]}, **common)
    return {"quantization": "int8 where LiteRT has int8 kernels, "
                            "float elsewhere", "integer_only": False,
            "batch_size": int(batch_size)}


def load(path, format):
    """A `Runner` for the file at `path`, in the runtime of `format`."""
    if format not in FORMATS:
        raise ValueError(
            f"`format` must be one of {FORMATS}. Received: format={format!r}.")
    if format in ("onnx", "litert"):
        _require({"onnx": "onnxruntime", "litert": "ai_edge_litert"}[format],
                 format)
    path = os.fspath(path)
    if format == "keras":
        return _KerasRunner(keras.models.load_model(path))
    if format == "tf_saved_model":
        return _SavedModelRunner(path)
    if format == "onnx":
        return _OnnxRunner(path)
    return _LiteRTRunner(path)


def runner_of(model):
    """A `Runner` for a Keras model in memory (the `"keras"` runtime)."""
    return _KerasRunner(model)


class Runner:
    """A model in its runtime: `predict(x)` and `latency_ms(...)`."""

    runtime = None

    def run(self, x):
        """Outputs of one batch `x` (float32), as a NumPy array."""
        raise NotImplementedError

    def predict(self, x, batch_size=256):
        """Outputs of `x`, in batches of `batch_size`."""
        x = np.asarray(x, dtype="float32")
        return np.concatenate([self.run(x[i:i + batch_size])
                               for i in range(0, len(x), batch_size)])

    def latency_ms(self, x, repeats=10):
        """Median milliseconds of `run(x)` after one untimed warm-up."""
        x = np.asarray(x, dtype="float32")
        self.run(x)
        times = []
        for _ in range(int(repeats)):
            start = time.perf_counter()
            self.run(x)
            times.append((time.perf_counter() - start) * 1000.0)
        return float(statistics.median(times))


class _KerasRunner(Runner):
    runtime = "keras"

    def __init__(self, model):
        self.model = model

    def run(self, x):
        # The compiled predict function, as serving in Keras does.
        return np.asarray(self.model.predict_on_batch(x))


class _SavedModelRunner(Runner):
    runtime = "tensorflow"

    def __init__(self, path):
        import tensorflow as tf

        self._tf = tf
        self.loaded = tf.saved_model.load(path)

    def run(self, x):
        out = self.loaded.serve(self._tf.constant(x))
        if isinstance(out, dict):
            out = next(iter(out.values()))
        return np.asarray(out)


class _OnnxRunner(Runner):
    runtime = "onnxruntime"

    def __init__(self, path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            path, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def run(self, x):
        return self.session.run(None, {self.input_name: x})[0]


class _LiteRTRunner(Runner):
    runtime = "litert"

    def __init__(self, path):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=path)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch_size = int(self.input["shape"][0])

    def run(self, x):
        # The graph takes `batch_size` samples: feed x in such batches, the
        # last one padded.
        it, n, outs = self.interpreter, self.batch_size, []
        for i in range(0, len(x), n):
            chunk = x[i:i + n]
            if len(chunk) < n:
                chunk = np.concatenate(
                    [chunk, np.zeros((n - len(chunk),) + chunk.shape[1:],
                                     chunk.dtype)])
            it.set_tensor(self.input["index"], chunk)
            it.invoke()
            outs.append(np.array(it.get_tensor(self.output["index"])))
        return np.concatenate(outs)[:len(x)]
