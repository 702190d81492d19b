"""Why a trial failed, and when failures stop a search.

Searching means meeting architectures that fail: a sequence invalid for
the input, a loss that diverges, a model too large for the memory. Those
are `ArchitectureFailure`s, part of the search's results. A failure of the
user's setup (an exception in a callback, the loss, a metric, the data)
will meet every trial alike. `FailurePolicy` stops a search for the second
kind, and for the first only when nothing has worked yet. A failure of the
machine (a full disk, a read-only or forbidden project folder) is neither:
`machine_error` finds it, and `MachineFailure` stops the search at once,
without recording a trial as failed.
"""

import errno
import os

import keras_tuner

__all__ = ["ArchitectureFailure", "FailurePolicy", "MACHINE_ERRNOS",
           "MachineFailure", "is_out_of_memory", "machine_error", "reason_of"]

#: The `OSError`s of a folder that no architecture causes: no space, no
#: quota, a read-only file system, no permission.
MACHINE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES,
                  errno.EPERM)


class MachineFailure(keras_tuner.errors.FatalError):
    """The machine failed a trial (`machine_error`): the search stops, and
    the trial in flight is run again when the search resumes."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def machine_error(error, folder=None):
    """The `OSError` in `error` or its causes that is the machine's failure,
    or `None`.

    No space (`ENOSPC`, `EDQUOT`) counts wherever it happens; a read-only
    file system or a refused permission counts when it names no file or a
    file in `folder`.
    """
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, MachineFailure):
            return error.error
        if isinstance(error, OSError) and error.errno in MACHINE_ERRNOS:
            name = error.filename
            if error.errno in (errno.ENOSPC, errno.EDQUOT) or folder is None \
                    or name is None or os.path.abspath(str(name)).startswith(
                        os.path.abspath(folder)):
                return error
        if isinstance(error, OSError) and "No space left on device" in str(
                error):  # Libraries (h5py) that lose the errno on the way.
            return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        error = error.__cause__ or error.__context__
    return None


class ArchitectureFailure(keras_tuner.errors.FailedTrialError):
    """A trial failed because of its architecture, not the user's setup: an
    invalid sequence, a NaN or infinite loss, an objective that was never
    finite, or out of memory after the retry. Searching means meeting
    these; they do not stop a search that has completed trials."""


def is_out_of_memory(error):
    """Whether `error` is a backend's out-of-memory error."""
    text = f"{type(error).__name__}: {error}"
    return (
        "ResourceExhausted" in text
        or "RESOURCE_EXHAUSTED" in text
        or "out of memory" in text.lower()
        or isinstance(error, MemoryError)
    )


class FailurePolicy:
    """When failed trials stop a search.

    Failures that belong to one architecture (`ArchitectureFailure`) are
    part of searching: they never stop a search that has completed a
    trial, and stop one only when its first `ARCHITECTURE_FACTOR * limit`
    trials all failed (a space where nothing trains). Other failures come
    from the user's setup (an exception in a callback, the loss, a metric,
    the data): `limit` of them in a row stop the search, whatever happened
    in between, because the next trial will meet them too.

    Args:
        limit: The `max_consecutive_failed_trials` of the search.
    """

    #: How many more architecture failures than setup failures it takes.
    ARCHITECTURE_FACTOR = 3

    def __init__(self, limit):
        self.limit = int(limit)
        self.completed = 0
        self.failed = 0
        self.setup_in_a_row = 0

    def record(self, completed, architecture):
        """Count one ended trial; return why the search must stop, or
        `None`."""
        if completed:
            self.completed += 1
            self.setup_in_a_row = 0
            return None
        self.failed += 1
        if not architecture:
            self.setup_in_a_row += 1
            if self.setup_in_a_row >= self.limit:
                return f"{self.setup_in_a_row} trials in a row failed"
        if not self.completed and (
                self.failed >= self.ARCHITECTURE_FACTOR * self.limit):
            return f"the first {self.failed} trials all failed"
        return None


def reason_of(message):
    """The one-line reason in a Keras Tuner trial message (a traceback)."""
    if not message:
        return None
    lines = [ln.strip() for ln in str(message).strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    # "keras_tuner.errors.FailedTrialError: invalid architecture: ..."
    head, sep, rest = last.partition(": ")
    if sep and head.replace(".", "").replace("_", "").isalnum() and " " not in head:
        return rest
    return last
