"""Atomic writes for Keras Tuner's state files.

Keras Tuner writes `oracle.json`, `trial.json` and the tuner's JSON by
opening the file and writing into it, so a process killed mid-write leaves a
truncated file, and the project no longer reloads. `install()` replaces its
`save_json` with one that writes a temporary file beside the target and
renames it over it: a reader, or a resumed search, sees the old file or the
new one, never a part. Remote paths (`gs://...`) keep Keras Tuner's writer.

The renames protect against a crash or a kill of the process, the failure a
search meets; they are not followed by fsync, so a power cut may still lose
the last write.
"""

import json
import os
import threading

from keras_tuner.src import utils as kt_utils

__all__ = ["install", "save_json_atomic", "write_text_atomic"]

_ORIGINAL = kt_utils.save_json


def write_text_atomic(path, text, fsync=False):
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}-{threading.get_ident()}"
    try:
        with open(tmp, "w") as f:
            f.write(text)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_json_atomic(path, obj):
    """`keras_tuner`'s `save_json`, written whole or not at all."""
    path = os.fspath(path)
    if "://" in path:
        return _ORIGINAL(path, obj)
    text = json.dumps(obj)
    write_text_atomic(path, text)
    return text


def install():
    """Make Keras Tuner's state writes atomic, for this process."""
    kt_utils.save_json = save_json_atomic


install()
