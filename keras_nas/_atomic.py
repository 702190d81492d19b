"""Files written whole or not at all.

A search is killed (Ctrl-C, an out-of-memory killer, `kill -9`) at arbitrary
moments. Everything keras_nas writes — Keras Tuner's state files (through
`_compat`), the best-epoch weights of a trial, the search's own description,
an exported model — goes through `write_atomic`: the content is written to a
temporary file beside the target, then renamed over it, so a reader (or a
resumed search) sees the old file or the new one, never a part.

The renames protect against a crash or a kill of the process, the failure a
search meets; only `fsync=True` writes also survive a power cut.
"""

import os
import threading

__all__ = ["write_atomic", "write_text_atomic"]


def _temporary_name(path):
    # Keep the extension: Keras picks the file format from it
    # (`.keras`, `.weights.h5`).
    directory, name = os.path.split(path)
    stem, dot, rest = name.partition(".")
    tag = f"tmp{os.getpid()}-{threading.get_ident()}"
    return os.path.join(directory, f"{stem}.{tag}{dot}{rest}")


def write_atomic(path, write, fsync=False):
    """Call `write(temporary_path)`, then rename the result to `path`.

    Args:
        path: The file to create or replace.
        write: A callable that writes the whole content to the path it is
            given (e.g. `model.save`).
        fsync: Flush the file to the disk before the rename. Defaults to
            `False`.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = _temporary_name(path)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text_atomic(path, text, fsync=False):
    """Write `text` to `path` whole or not at all."""

    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)

    write_atomic(path, write, fsync=fsync)
