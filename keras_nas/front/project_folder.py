"""The rules of a project folder: one search at a time, damage that costs
only what is damaged, and a machine's failure told as one.

A project folder is where Keras Tuner keeps a search's trials, and where a
search run again resumes. Real folders meet accidents that no architecture
causes, and each has a rule here, applied by `session()` around a search:

- **Two searches on one folder** would both train every trial, over each
  other's files. A lock (`project_lock.Lock`, an `fcntl` lock on a file
  that names its holder) refuses a second search at once; a dead holder's
  lock is taken over, with a warning. Keras Tuner's workers (local ones
  from `KerasTunerEngine(workers=...)`, any with `KERASTUNER_*` set) are
  part of their chief's search and never take it.
- **A damaged file** (a `trial.json` cut short, a checkpoint that does not
  load) is moved aside to `DAMAGED`, with a warning that names it, and the
  trial's slot is run again (`rerun_damaged`): every other trial is kept.
  Damage in the search's own state (`oracle.json`, `keras_nas.json`) is an
  error that names the file and the choices.
- **A full disk** (or a read-only or forbidden folder) stops the search at
  once with one `ProjectFolderError`, which says what a trial's files take
  and that the completed trials are kept; the trial in flight runs again on
  resume. (Weights files check the free space before h5py writes them:
  `_atomic.write_atomic(size=...)`.)
- **Ctrl-C** ends the search with one line, "interrupted after N of M
  trials; run the same code again to resume", and exit status 130.
"""

import contextlib
import errno
import gc
import json
import logging
import os
import shutil
import sys
import time
import warnings

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas.engine import interrupts, parallel
from keras_nas.engine.failures import machine_error
from keras_nas.front.project import META, ORACLE
from keras_nas.front.project_lock import HAS_FCNTL, LOCK, Lock

__all__ = ["DAMAGED", "DamagedProjectError", "ProjectFolderError",
           "completed_trials", "repair", "rerun_damaged", "session"]

_logger = logging.getLogger("keras_nas")

#: Where damaged files are moved.
DAMAGED = "damaged"
#: The message of a trial whose files were damaged and set aside.
_DAMAGED_MARK = "keras_nas: damaged files set aside in "
#: The files of the search's own state, which nothing can rebuild.
_STATE_FILES = (ORACLE, META)


class DamagedProjectError(RuntimeError):
    """The search's own state in the project folder cannot be read."""


class ProjectFolderError(OSError):
    """The project folder cannot be written: full, read-only, forbidden."""


# -- damage ----------------------------------------------------------------


def repair(project_dir):
    """Set aside what is damaged in `project_dir`, before a search reloads.

    A trial whose `trial.json` does not parse, or whose checkpoint does not
    open, is moved to `DAMAGED` with a warning; a placeholder of its slot
    is left for `rerun_damaged`. A damaged tuner file (it holds no state) is
    rewritten.

    Returns:
        The ids of the trials set aside.

    Raises:
        DamagedProjectError: `oracle.json` or `keras_nas.json` does not parse.
    """
    project_dir = os.fspath(project_dir)
    if not os.path.isdir(project_dir):
        return []
    for name in _STATE_FILES:
        path = os.path.join(project_dir, name)
        if os.path.exists(path) and _json_error(path) is not None:
            raise DamagedProjectError(
                f"The search's own state {path} cannot be read "
                f"({_json_error(path)}); the trials cannot be resumed without "
                "it. Restore the file (from a backup or a copy of the folder),"
                " or start afresh with `overwrite=True`, which deletes the "
                f"trials in {project_dir}.")
    damaged = []
    for entry in sorted(os.listdir(project_dir)):
        folder = os.path.join(project_dir, entry)
        if not (entry.startswith("trial_") and os.path.isdir(folder)):
            continue
        trial_json = os.path.join(folder, "trial.json")
        reason = _json_error(trial_json) if os.path.exists(trial_json) \
            else None
        if reason is None:
            reason = _checkpoint_error(folder, trial_json)
        if reason is None:
            continue
        trial_id = entry[len("trial_"):]
        target = _aside(project_dir, entry)
        shutil.move(folder, target)
        os.makedirs(folder)
        # The slot stays, so that trial ids do not collide; its values are
        # drawn again by the strategy (`rerun_damaged`).
        keras_tuner.engine.trial.Trial(
            keras_tuner.HyperParameters(), trial_id=trial_id,
            status=TrialStatus.INVALID,
            message=_DAMAGED_MARK + target).save(trial_json)
        warnings.warn(
            f"Trial {trial_id} of {project_dir} was damaged ({reason}); its "
            f"files were moved to {target} and the trial will run again. "
            "Every other trial is kept.", RuntimeWarning, stacklevel=3)
        damaged.append(trial_id)
    for name in os.listdir(project_dir):  # tuner0.json: Keras Tuner's, {}.
        path = os.path.join(project_dir, name)
        if name.startswith("tuner") and name.endswith(".json") and (
                _json_error(path) is not None):
            shutil.move(path, _aside(project_dir, name))
            _compat.save_json_atomic(path, {})
            warnings.warn(f"{path} was damaged and was rewritten (it holds "
                          "no state of the search).", RuntimeWarning,
                          stacklevel=3)
    return damaged


def _json_error(path):
    try:
        with open(path) as f:
            json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        return f"{os.path.basename(path)}: {type(e).__name__}: {e}"
    return None


def _checkpoint_error(folder, trial_json):
    """Why the checkpoint of a completed trial in `folder` does not open."""
    checkpoints = [n for n in os.listdir(folder) if n.endswith(".h5")
                   and ".tmp" not in n]
    if not checkpoints or not os.path.exists(trial_json):
        return None
    with open(trial_json) as f:
        if json.load(f).get("status") != TrialStatus.COMPLETED:
            return None
    import h5py

    for name in checkpoints:
        try:
            with h5py.File(os.path.join(folder, name), "r"):
                pass
        except OSError as e:
            return f"{name}: {e}"
    return None


def _aside(project_dir, name):
    root = os.path.join(project_dir, DAMAGED)
    os.makedirs(root, exist_ok=True)
    target = os.path.join(root, name)
    if os.path.exists(target):
        target += time.strftime("-%Y%m%d-%H%M%S")
    return target


def rerun_damaged(tuner):
    """Queue the slots that `repair` emptied to run again, with values the
    strategy draws afresh (the damaged ones cannot be read). Returns their
    ids."""
    oracle = tuner.oracle
    queue = _compat.retry_queue(oracle)
    order = _compat.end_order(oracle)
    rerun = []
    for trial_id, trial in sorted(oracle.trials.items()):
        if trial.status != TrialStatus.INVALID or not str(
                trial.message or "").startswith(_DAMAGED_MARK):
            continue
        _compat.forget_values(oracle, trial_id)
        forget = getattr(oracle, "forget_trial", None)
        if forget is not None:  # A strategy that keeps trials in its state.
            forget(trial_id)
        response = oracle.populate_space(trial_id)
        if response.get("status") != TrialStatus.RUNNING:
            continue
        hp = oracle.hyperparameters.copy()
        hp.values = response["values"]
        trial.hyperparameters = hp
        if trial_id in order:
            order.remove(trial_id)
        if trial_id not in queue:
            queue.append(trial_id)
        rerun.append(trial_id)
    return rerun


# -- the machine's failures, and Ctrl-C ---------------------------------------


def completed_trials(project_dir):
    """The ids of the completed trials on disk in `project_dir`."""
    done = []
    if not os.path.isdir(project_dir):
        return done
    for entry in sorted(os.listdir(project_dir)):
        path = os.path.join(project_dir, entry, "trial.json")
        if entry.startswith("trial_") and os.path.exists(path):
            try:
                with open(path) as f:
                    if json.load(f).get("status") == TrialStatus.COMPLETED:
                        done.append(entry[len("trial_"):])
            except (OSError, ValueError):
                pass
    return done


def _trial_size(project_dir, trial_ids):
    sizes = []
    for trial_id in trial_ids:
        folder = os.path.join(project_dir, f"trial_{trial_id}")
        sizes.append(sum(os.path.getsize(os.path.join(root, n))
                         for root, _, names in os.walk(folder)
                         for n in names))
    return sum(sizes) / len(sizes) if sizes else None


def _folder_error(project_dir, error, max_trials):
    done = completed_trials(project_dir)
    size = _trial_size(project_dir, done)
    needed = ("a trial's files take about "
              f"{size / 1e6:.2f} MB (mean of {len(done)})"
              if size else "no trial completed yet to measure its files")
    code = errno.errorcode.get(error.errno, "?")
    return ProjectFolderError(
        error.errno,
        f"The search stopped: the project folder {project_dir} cannot be "
        f"written ({code}: {os.strerror(error.errno)}); {needed}. The "
        f"{len(done)} completed of {max_trials} trials are kept. Free space "
        "(or make the folder writable), then run the same code again to "
        "resume.")


def _close_open_h5_files():
    # An h5py file left open by a failed write is closed at exit, by then on
    # a full disk, which can crash the process; close them now.
    try:
        import h5py
    except ImportError:  # pragma: no cover - Keras installs it
        return
    gc.collect()
    for fid in h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE):
        with contextlib.suppress(Exception):
            fid.close()


@contextlib.contextmanager
def session(project_dir, max_trials, *, fresh=False, verbose=1):
    """The rules of the project folder around one `fit`.

    Takes the lock (not in a Keras Tuner worker), empties the folder when
    `fresh` (`overwrite=True`; the lock stays), sets damaged trials aside,
    and turns a machine's failure into one `ProjectFolderError`, Ctrl-C
    into one line and `SystemExit(130)` (the `KeyboardInterrupt` itself at
    `verbose=2`, or in an interactive session).

    Args:
        project_dir: The project folder.
        max_trials: The search's `max_trials`, for the messages.
        fresh: Empty the folder first. Defaults to `False`.
        verbose: The search's verbosity. Defaults to `1`.
    """
    project_dir = os.fspath(project_dir)
    if parallel.in_worker() or "://" in project_dir:
        # A worker is part of its chief's search; a remote folder (gs://)
        # is Keras Tuner's own.
        yield
        return
    lock = Lock(project_dir).acquire() if HAS_FCNTL else None
    try:
        if fresh:
            for name in os.listdir(project_dir):
                if name != LOCK:  # The lock stays held.
                    path = os.path.join(project_dir, name)
                    if os.path.isdir(path):
                        shutil.rmtree(path)
                    else:
                        os.remove(path)
        repair(project_dir)
        try:
            with interrupts.catching():  # No Ctrl-C is lost on its way.
                yield
        except KeyboardInterrupt:
            done = len(completed_trials(project_dir))
            _logger.warning(
                "interrupted after %d of %d trials; run the same code again "
                "to resume", done, max_trials)
            if verbose >= 2 or hasattr(sys, "ps1"):
                raise
            raise SystemExit(130) from None
        except Exception as e:
            error = machine_error(e, project_dir)
            if error is None:
                raise
            _close_open_h5_files()
            failure = _folder_error(project_dir, error, max_trials)
            if verbose >= 2:
                raise failure from e
            raise failure from None
    finally:
        if lock is not None:
            lock.release()
