"""The export formats by name: which there are, what each may be quantized
to, the runtime that serves it, and the format a path names.

Names only, with no Keras or TensorFlow import, so that the command line
can refuse `keras-nas export DIR model.h5` at once rather than after
TensorFlow has started. Converting, loading and timing are
`export/runtimes.py`, which re-exports these names.
"""

import os

__all__ = ["FORMATS", "QUANTIZE", "RUNTIMES", "format_of_path"]

#: Export formats, by the name `format=` takes.
FORMATS = ("keras", "tf_saved_model", "onnx", "litert")
#: The quantizations each format takes (`None`: float32 as trained).
QUANTIZE = {"keras": (None,), "tf_saved_model": (None,),
            "onnx": (None, "int8"), "litert": (None, "float16", "int8")}
#: The runtime that serves each format (`latency_runtime=` takes these).
RUNTIMES = {"keras": "keras", "tf_saved_model": "tensorflow",
            "onnx": "onnxruntime", "litert": "litert"}
_SUFFIXES = {".keras": "keras", ".onnx": "onnx", ".tflite": "litert"}


def format_of_path(path):
    """The format that `path` names: `.keras`, `.onnx`, `.tflite`, or a
    folder (no suffix, or an existing directory) for a SavedModel."""
    path = os.fspath(path).rstrip("/" + os.sep)
    suffix = os.path.splitext(path)[1].lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix == "" or os.path.isdir(path):
        return "tf_saved_model"
    raise ValueError(
        "`path` must end with .keras, .onnx or .tflite, or name a folder "
        "(a TensorFlow SavedModel); or pass `format=`. Received: "
        f"path={path!r}.")
