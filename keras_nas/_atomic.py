"""Files written whole or not at all.

A search is killed (Ctrl-C, an out-of-memory killer, `kill -9`) at arbitrary
moments. Everything keras_nas writes — Keras Tuner's state files (through
`_compat`), the best-epoch weights of a trial, the search's own description,
an exported model — goes through `write_atomic`: the content is written to a
temporary file beside the target, then renamed over it, so a reader (or a
resumed search) sees the old file or the new one, never a part.

The renames protect against a crash or a kill of the process, the failure a
search meets; only `fsync=True` writes also survive a power cut.

A write that knows its size (`size=`, e.g. `weights_bytes(model)`) first
checks the free space and fails with `ENOSPC` before writing anything: h5py,
which writes Keras' weights, leaves its library in a state that crashes the
process at exit (a segmentation fault) when a disk fills under it.
"""

import errno
import os
import shutil
import threading

__all__ = ["weights_bytes", "write_atomic", "write_text_atomic"]

#: What an HDF5 file adds to each array it holds, and to itself (bytes; as
#: measured on Keras weight files, rounded up).
_H5_PER_ARRAY = 2048
_H5_PER_FILE = 16384


def weights_bytes(model):
    """About the bytes of `model`'s weights file (`save_weights`): its
    variables and its optimizer's, with HDF5's overhead."""
    variables = list(model.variables)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        variables += list(optimizer.variables)
    total = _H5_PER_FILE
    for v in variables:
        count = 1
        for d in v.shape:
            count *= int(d)
        total += count * _itemsize(v.dtype) + _H5_PER_ARRAY
    return total


def _itemsize(dtype):
    name = str(getattr(dtype, "name", dtype))
    for width in (64, 32, 16, 8):
        if name.endswith(str(width)):
            return width // 8
    return 8


def _check_space(path, size):
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    if free < size:
        raise OSError(
            errno.ENOSPC,
            f"{os.strerror(errno.ENOSPC)} (needs about {size} bytes, "
            f"{free} free)", path)


def _temporary_name(path):
    # Keep the extension: Keras picks the file format from it
    # (`.keras`, `.weights.h5`).
    directory, name = os.path.split(path)
    stem, dot, rest = name.partition(".")
    tag = f"tmp{os.getpid()}-{threading.get_ident()}"
    return os.path.join(directory, f"{stem}.{tag}{dot}{rest}")


def write_atomic(path, write, fsync=False, size=None):
    """Call `write(temporary_path)`, then rename the result to `path`.

    Args:
        path: The file to create or replace.
        write: A callable that writes the whole content to the path it is
            given (e.g. `model.save`).
        fsync: Flush the file to the disk before the rename. Defaults to
            `False`.
        size: Optional bytes the file will take: with less free space, an
            `OSError` (`ENOSPC`) before anything is written.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if size is not None:
        _check_space(path, size)
    tmp = _temporary_name(path)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            # Emptied first: a writer that failed (a full disk) may still
            # hold the file open, and its library flushes on close (h5py at
            # exit, which can crash when the space is still taken).
            try:
                os.truncate(tmp, 0)
            except OSError:
                pass
            os.remove(tmp)


def write_text_atomic(path, text, fsync=False):
    """Write `text` to `path` whole or not at all."""

    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)

    write_atomic(path, write, fsync=fsync)
