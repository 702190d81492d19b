"""One search at a time in a project folder: its lock.

Two searches on one folder would both train every trial, over each other's
files. `Lock` (an `fcntl` lock on `LOCK`, a file that names its holder:
host, process id, start time, command) refuses a second search at once,
with `ProjectLockedError` naming the first. The kernel drops the lock when
its holder dies (`kill -9`, a reboot), so a dead holder's lock is taken
over, with a warning. `project_folder.session` takes it around a search.
"""

import datetime
import errno
import json
import os
import socket
import sys
import time
import warnings

__all__ = ["HAS_FCNTL", "LOCK", "Lock", "ProjectLockedError"]

try:
    import fcntl  # noqa: F401
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - Windows
    HAS_FCNTL = False

#: The lock file in a project folder.
LOCK = "keras_nas.lock"


class ProjectLockedError(RuntimeError):
    """Another live search holds the project folder."""


class Lock:
    """The project folder's lock: an `fcntl` lock on `LOCK`, whose content
    names the holder.

    Args:
        project_dir: The project folder (created if needed).
    """

    def __init__(self, project_dir):
        self.project_dir = os.fspath(project_dir)
        self.path = os.path.join(self.project_dir, LOCK)
        self._file = None

    def acquire(self):
        """Take the lock, or raise `ProjectLockedError` naming its live
        holder. A lock left by a dead holder is taken over with a warning."""
        import fcntl

        os.makedirs(self.project_dir, exist_ok=True)
        f = open(self.path, "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                f.close()
                raise
            holder = _wait_for_holder(f)
            f.close()
            raise ProjectLockedError(
                f"The project folder {self.project_dir} is in use by another "
                f"search: {_describe(holder)}. Wait for it to end, give this "
                "search another `project_name` (or `directory`), or, to train "
                "trials in parallel, run one search with `engine=keras_nas."
                "KerasTunerEngine(workers=...)` (or `keras_nas.Ray(workers="
                "...)`).") from None
        f.seek(0)
        previous = _read_holder(f.read())
        if previous:
            warnings.warn(
                f"Took over the lock of the project folder {self.project_dir}"
                f" from a search that is no longer running "
                f"({_describe(previous)}); its completed trials are kept and "
                "the search resumes.", RuntimeWarning, stacklevel=3)
        f.seek(0)
        f.truncate()
        f.write(json.dumps({
            "host": socket.gethostname(), "pid": os.getpid(),
            "started": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)}))
        f.flush()
        self._file = f
        return self

    def release(self):
        """Empty the lock file (nobody holds it) and drop the lock."""
        if self._file is None:
            return
        f, self._file = self._file, None
        try:
            f.seek(0)
            f.truncate()
        except OSError:  # A full disk still lets the lock go.
            pass
        finally:
            f.close()  # Drops the fcntl lock.


def _wait_for_holder(f, seconds=2.0):
    """The holder a locked file names. A holder writes its name just after
    it takes the lock, so a search refused in between (or mid-write) waits
    for it, up to `seconds`, rather than name nobody."""
    deadline = time.monotonic() + seconds
    while True:
        f.seek(0)
        holder = _read_holder(f.read())
        if (holder and "unreadable" not in holder
                or time.monotonic() > deadline):
            return holder
        time.sleep(0.05)


def _read_holder(text):
    try:
        holder = json.loads(text) if text.strip() else None
    except ValueError:
        return {"unreadable": text[:80]}
    return holder if isinstance(holder, dict) else None


def _describe(holder):
    if not holder:
        return "a process that did not say who it is"
    if "unreadable" in holder:
        return f"a process whose lock reads {holder['unreadable']!r}"
    return (f"process {holder.get('pid')} on {holder.get('host')}, started "
            f"{holder.get('started')} ({holder.get('command')!r})")
