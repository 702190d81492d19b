"""Export of a finished search's model to the format that serves it.

`search.export(path)` ends a search: the best model, written as a `.keras`
file, an ONNX file, a LiteRT (`.tflite`) file or a TensorFlow SavedModel
folder, optionally quantized, with a JSON description beside it. An export
is only as good as its agreement with the model that was searched, so the
written file is loaded in its own runtime and its outputs compared with the
Keras model's on the search's validation inputs before it is kept: a float
file that disagrees fails with the figures and leaves nothing behind; a
quantized one reports what quantizing cost (the accuracy, or the mean
squared error of a regression, of both). Conversion and the runtimes are in
`keras_nas.export.runtimes`; this module decides what to check and writes
the files whole or not at all.
"""

import json
import logging
import os
import shutil
import time

import numpy as np

from keras_nas._atomic import write_text_atomic
from keras_nas.data import prepare as data_module
from keras_nas.export import runtimes

__all__ = ["ParityError", "export", "json_path_of", "MIN_AGREEMENT"]

_logger = logging.getLogger(__name__)

#: The least share of samples whose predicted class a float export must
#: keep.
MIN_AGREEMENT = 0.999
#: Samples of the validation data the parity check runs on, at most.
MAX_CHECK_SAMPLES = 1000
#: Training samples that calibrate int8 activations (LiteRT).
REPRESENTATIVE_SAMPLES = 300
_EXTENSIONS = {"keras": ".keras", "onnx": ".onnx", "litert": ".tflite",
               "tf_saved_model": ""}


class ParityError(RuntimeError):
    """An exported float model's outputs disagree with the Keras model's."""


def json_path_of(path):
    """The JSON written beside an export at `path`."""
    path = os.fspath(path).rstrip("/" + os.sep)
    stem, suffix = os.path.splitext(path)
    return (stem if suffix.lower() in (".keras", ".onnx", ".tflite")
            else path) + ".json"


def export(path, model, info, task, format=None, quantize=None,
           validation=None, representative=None):
    """Write `model` to `path` in `format`, check it in its runtime, and
    write `info` with the checks as JSON beside it.

    Args:
        path: The file, or for a SavedModel the folder, to write.
        model: The trained `keras.Model`.
        info: A dict describing the model (the search's architecture).
        task: The search's `Task`.
        format: One of `runtimes.FORMATS`. Defaults to `None`: from the
            suffix of `path` (`.keras`, `.onnx`, `.tflite`, a folder).
        quantize: `None`, `"float16"` or `"int8"` (see `runtimes.convert`).
            Defaults to `None`.
        validation: `(x, y)` encoded as in training (for a model behind a
            preprocessing, `x` as it takes it: strings, a dict of
            columns), for the checks; `None`
            checks float formats on seeded random inputs and refuses
            `quantize`, whose cost cannot be measured without data.
        representative: Training inputs to calibrate LiteRT int8; defaults
            to the validation inputs.

    Returns:
        The path of the JSON file.

    Raises:
        ParityError: a float export disagrees; nothing is left at `path`.
    """
    path = os.fspath(path).rstrip("/" + os.sep)
    if format is None:
        format = runtimes.format_of_path(path)
    runtimes.check_format(format, quantize)
    if quantize is not None and validation is None:
        raise ValueError(
            f"quantize={quantize!r} needs validation data, to measure what "
            "quantizing costs: export in the session of `fit`, or pass "
            "`validation_data=(x, y)`. Received: validation_data=None.")
    x_check, y_check = _check_inputs(model, validation)
    if representative is None:
        representative = x_check
    representative = _sample(representative, REPRESENTATIVE_SAMPLES)
    start = time.perf_counter()
    tmp = _temporary_path(path, format)
    try:
        notes = runtimes.convert(model, tmp, format, quantize,
                                 representative=representative)
        convert_seconds = time.perf_counter() - start
        checks = _checks(model, runtimes.load(tmp, format), x_check,
                         y_check, task, quantize)
        checks["inputs"] = "validation" if validation is not None \
            else "random normal (no validation data)"
        if quantize is None and not checks["passed"]:
            raise ParityError(
                f"The {format} export disagrees with the Keras model: "
                f"{_figures(checks)} on {checks['samples']} samples "
                f"(needed: class agreement of at least {MIN_AGREEMENT:.1%}, "
                "or for a regression a largest difference of at most 1e-3 "
                "of the outputs' scale). Nothing was written.")
        size = _size(tmp)
        _replace(tmp, path)
    finally:
        _remove(tmp)
    info = dict(info, format=format, quantize=quantize,
                runtime=runtimes.runtime_of(format),
                versions=runtimes.versions(format), file_size=size,
                conversion=dict(notes, seconds=round(convert_seconds, 3)),
                checks=checks, load=_how_to_load(format, info.get("load")))
    json_path = json_path_of(path)
    write_text_atomic(json_path, json.dumps(info, indent=1, default=_json),
                      fsync=True)
    _logger.info("Exported %s (%s, %d bytes): %s", path, format, size,
                 _figures(checks))
    return json_path


def _check_inputs(model, validation):
    if validation is not None:
        x, y = validation
        x = _numeric(x)
        n = min(_rows(x), MAX_CHECK_SAMPLES)
        return _take(x, slice(0, n)), None if y is None else np.asarray(
            y)[:n]
    shape = (256,) + tuple(model.input_shape[1:])
    return np.random.default_rng(0).standard_normal(shape).astype(
        "float32"), None


def _numeric(x):
    """Float32 samples; raw ones (strings, a dict of columns, the input of
    a preprocessed model) as they are."""
    if isinstance(x, dict) or np.asarray(x).dtype == object:
        return x
    return np.asarray(x, dtype="float32")


def _rows(x):
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def _take(x, index):
    if isinstance(x, dict):
        return {k: v[index] for k, v in x.items()}
    return x[index]


def _sample(x, n):
    x = _numeric(x)
    if _rows(x) <= n:
        return x
    return _take(x, np.sort(np.random.default_rng(0).choice(_rows(x), n,
                                                            False)))


def _outputs(runner, x):
    """The runtime's outputs of `x`; raw inputs (strings, columns) in the
    runtimes that take them (Keras, a SavedModel)."""
    if not isinstance(x, dict) and x.dtype != object:
        return runner.predict(x)
    if runner.runtime == "keras":
        return np.asarray(runner.model.predict(x, batch_size=256, verbose=0))
    import tensorflow as tf

    tensors = ({k: tf.constant(v.reshape(-1, 1)) for k, v in x.items()}
               if isinstance(x, dict) else tf.constant(x.reshape(-1, 1)))
    out = runner.loaded.serve(tensors)
    if isinstance(out, dict):
        out = next(iter(out.values()))
    return np.asarray(out)


def _checks(model, runner, x, y, task, quantize):
    """Parity of the runtime's outputs with Keras', and the metric of both
    on `(x, y)` when there are labels."""
    ref = np.asarray(model.predict(x, verbose=0, batch_size=256))
    out = _outputs(runner, x).reshape(ref.shape)
    diff = float(np.max(np.abs(out - ref))) if ref.size else 0.0
    checks = {"samples": int(_rows(x)), "max_abs_diff": diff}
    if task.kind == "regression":
        scale = 1.0 + float(np.max(np.abs(ref))) if ref.size else 1.0
        checks["passed"] = diff <= 1e-3 * scale
    else:
        agreement = float(np.mean(_classes(ref, task) == _classes(out, task)))
        checks["class_agreement"] = agreement
        checks["passed"] = agreement >= MIN_AGREEMENT
    if y is not None:
        name, keras_value, value = _metric(ref, out, y, task)
        checks.update({"metric": name, "keras": keras_value,
                       "exported": value,
                       "drop": keras_value - value if name == "accuracy"
                       else value - keras_value})
    if quantize is not None:
        checks["passed"] = None  # Reported, not required.
    return checks


def _classes(outputs, task):
    if task.kind == "binary" or outputs.shape[-1] == 1:
        return (outputs.reshape(len(outputs), -1)[:, 0] > 0.5).astype(int)
    return np.argmax(outputs, axis=-1)


def _metric(ref, out, y, task):
    if task.kind == "regression":
        y = np.asarray(y, dtype="float32").reshape(ref.shape)
        return ("mse", float(np.mean((ref - y) ** 2)),
                float(np.mean((out - y) ** 2)))
    y = np.asarray(y)
    labels = (np.argmax(y, axis=-1) if y.ndim == 2 and y.shape[1] > 1
              else y.reshape(-1).round().astype(int))
    return ("accuracy", float(np.mean(_classes(ref, task) == labels)),
            float(np.mean(_classes(out, task) == labels)))


def _figures(checks):
    parts = [f"max |difference| {checks['max_abs_diff']:.3g}"]
    if "class_agreement" in checks:
        parts.append(f"class agreement {checks['class_agreement']:.2%}")
    if "metric" in checks:
        parts.append(f"{checks['metric']} {checks['keras']:.4g} (Keras) -> "
                     f"{checks['exported']:.4g} (exported)")
    return ", ".join(parts)


def _how_to_load(format, keras_load):
    return {
        "keras": keras_load,
        "tf_saved_model": "import tensorflow as tf; "
                          "tf.saved_model.load(path).serve(x)",
        "onnx": "import onnxruntime; onnxruntime.InferenceSession(path)"
                ".run(None, {input_name: x})",
        "litert": "from ai_edge_litert.interpreter import Interpreter; "
                  "Interpreter(model_path=path) (fixed batch: see "
                  "conversion.batch_size)",
    }[format]


def _temporary_path(path, format):
    # Beside the target (a rename is then atomic), hidden, and with the
    # extension the converter requires (Keras wants .keras / .tflite).
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, f".{name}.tmp{os.getpid()}"
                                   f"{_EXTENSIONS[format]}")


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(root, f))
                   for root, _, files in os.walk(path) for f in files)
    return os.path.getsize(path)


def _replace(tmp, path):
    if os.path.isdir(tmp) and os.path.exists(path):
        # A folder cannot be renamed over another: the old one steps aside
        # first and is removed once the new one is in place.
        old = tmp + ".old"
        os.replace(path, old)
        os.replace(tmp, path)
        _remove(old)
    else:
        os.replace(tmp, path)


def _remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)


def _json(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Not JSON serializable: {value!r}")


def validation_of(search, validation_data=None):
    """The `(x, y)` a search's export is checked on, encoded as in
    training: `validation_data` (raw labels, as in `fit`), else the
    validation split of this session's `fit`, else `None`."""
    if validation_data is not None:
        x, y = validation_data
        return data_module.encode_for_evaluation(x, y, search.task_)
    data = search.data
    if data is not None and not data.is_dataset:
        return data.validation
    return None


def representative_of(search):
    """Training inputs of this session's `fit` (array data), or `None`."""
    data = search.data
    if data is not None and not data.is_dataset:
        return data.x
    return None
