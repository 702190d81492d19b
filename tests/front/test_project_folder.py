"""The project folder's rules (`front/project_folder.py`) met with real
processes and a real small file system: one search at a time, a dead
holder's lock taken over, a damaged file set aside, a full disk, Ctrl-C.
Each failure test checks that every completed trial is still there."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import keras_nas
from keras_nas.front import project_folder
from keras_nas.front import project_lock
from keras_nas.front.project_folder import DamagedProjectError
from keras_nas.front.project_lock import Lock, ProjectLockedError

from tests.conftest import python_with_ctrl_c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: A search small enough to run in a subprocess in a few seconds a trial.
SCRIPT = textwrap.dedent("""
    import os, sys, time
    import keras
    import numpy as np
    import keras_nas
    directory, max_trials, ops = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 16)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    search = keras_nas.NASSearch(
        max_trials=max_trials, seed=0, directory=directory, project_name="p",
        space=keras_nas.SearchSpace(ops.split(","), max_depth=2),
        initial_architectures=[], warm_start=False, halving=False,
        engine=keras_nas.KerasTunerEngine(
            pack_size=int(os.environ.get("PACK_SIZE", "1"))))
    # EPOCH_SLEEP keeps a search busy while a second process starts.
    pause = float(os.environ.get("EPOCH_SLEEP", 0))
    # DROPPED_CTRL_C=N: at the N-th epoch's end, Ctrl-C arrives while an
    # object is being freed, where Python drops the KeyboardInterrupt.
    dropped_at, ends = int(os.environ.get("DROPPED_CTRL_C", 0)), []

    class Freed:
        def __del__(self):
            import signal
            signal.raise_signal(signal.SIGINT)

    def epoch_end(*_):
        time.sleep(pause)
        ends.append(1)
        if len(ends) == dropped_at:
            Freed()  # Freed at once: Ctrl-C lands in its __del__.
    search.fit(x, y, epochs=int(sys.argv[4]) if len(sys.argv) > 4 else 2,
               verbose=1, callbacks=[keras.callbacks.LambdaCallback(
                   on_epoch_end=epoch_end)])
    print("DONE", len(search.results()), flush=True)
""")


def script(tmp_path):
    path = tmp_path / "search.py"
    path.write_text(SCRIPT)
    return str(path)


def has_traceback(err):
    """Whether `err` holds a traceback other than the reports of a
    KeyboardInterrupt the interpreter dropped ("Exception ignored in")."""
    for part in err.split("Exception ignored")[1:]:
        err = err.replace(part.split("KeyboardInterrupt", 1)[0], "")
    return "Traceback (most recent call last)" in err


def env(**extra):
    return dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
                **extra)


def trials(project):
    """{trial id: (status, values)} of the trial files in `project`."""
    found = {}
    for name in sorted(os.listdir(project)):
        path = os.path.join(project, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(path):
            with open(path) as f:
                state = json.load(f)
            found[state["trial_id"]] = (
                state["status"], state["hyperparameters"]["values"])
    return found


def completed(project):
    return {t: v for t, (s, v) in trials(project).items() if s == "COMPLETED"}


def small_search(directory, max_trials=3):
    return keras_nas.NASSearch(
        max_trials=max_trials, seed=0, directory=str(directory),
        project_name="p", initial_architectures=[], warm_start=False,
        halving=False, space=keras_nas.SearchSpace(
            ["dense-16", "dense-32", "dense-64"], max_depth=2))


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 16)).astype("float32")
    return x, (x[:, 0] > 0).astype(int)


# -- the lock ------------------------------------------------------------------


def test_a_held_lock_refuses_a_second_holder_and_names_the_first(tmp_path):
    first = Lock(tmp_path / "p").acquire()
    try:
        with pytest.raises(ProjectLockedError, match=(
                rf"in use by another search: process {os.getpid()} on .*"
                r"another `project_name`.*KerasTunerEngine\(workers=")):
            Lock(tmp_path / "p").acquire()
    finally:
        first.release()
    Lock(tmp_path / "p").acquire().release()  # Free again, no warning.


@pytest.mark.skipif(not project_lock.HAS_FCNTL, reason="fcntl locks")
def test_a_search_refused_before_the_holder_names_itself_waits_for_it(
        tmp_path):
    """A holder writes its name just after taking the lock: a search
    refused in between names it all the same, not nobody."""
    import fcntl
    import threading

    project = tmp_path / "p"
    project.mkdir()
    held = open(project / project_lock.LOCK, "a+")
    fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def name_itself():
        time.sleep(0.3)
        held.write(json.dumps({"host": "h1", "pid": 4242,
                               "started": "now", "command": "x"}))
        held.flush()

    writer = threading.Thread(target=name_itself)
    writer.start()
    try:
        with pytest.raises(ProjectLockedError, match="process 4242 on h1"):
            Lock(project).acquire()
    finally:
        writer.join()
        held.close()


def test_the_lock_of_a_killed_process_is_taken_over_with_a_warning(tmp_path):
    project = tmp_path / "p"
    # A holder that takes the lock the way `Lock` does, then dies by kill -9.
    holder = textwrap.dedent(f"""
        import fcntl, json, os, signal
        f = open({str(project / project_lock.LOCK)!r}, "a+")
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        f.write(json.dumps({{"host": "h", "pid": os.getpid(),
                            "started": "then", "command": "dead.py"}}))
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    project.mkdir()
    rc = subprocess.run([sys.executable, "-c", holder]).returncode
    assert rc == -signal.SIGKILL
    with pytest.warns(RuntimeWarning, match=r"Took over the lock.*no longer "
                      r"running.*'dead.py'"):
        lock = Lock(project).acquire()
    holder = json.loads((project / project_lock.LOCK).read_text())
    assert holder["pid"] == os.getpid()
    lock.release()


@pytest.mark.slow
def test_a_ctrl_c_that_python_drops_still_stops_the_search(tmp_path):
    # Python drops a KeyboardInterrupt raised inside `__del__` or a weak
    # reference's callback ("Exception ignored in"), and such callbacks run
    # often while Keras frees models: the search must stop all the same.
    run = subprocess.run(
        python_with_ctrl_c(script(tmp_path), tmp_path, 4, "dense-16,dense-32"),
        env=env(DROPPED_CTRL_C="3"),
        capture_output=True, text=True, timeout=300)
    assert "Exception ignored" in run.stderr  # Python did drop it.
    assert run.returncode == 130, run.stderr[-3000:]
    assert "DONE" not in run.stdout and not has_traceback(run.stderr)
    lines = [ln for ln in run.stderr.splitlines() if "interrupted after" in ln]
    assert len(lines) == 1 and lines[0].endswith(
        "of 4 trials; run the same code again to resume")
    # It stopped at the end of that epoch: trial 0 kept, trial 1 not done.
    assert sorted(completed(str(tmp_path / "p"))) == ["0"]


@pytest.mark.slow
def test_a_second_process_is_refused_then_ctrl_c_and_resume(tmp_path):
    path, project = script(tmp_path), str(tmp_path / "p")
    # The same script twice at once, as from two terminals.
    runs = [subprocess.Popen(
        python_with_ctrl_c(path, tmp_path, 6, "dense-16,dense-32", 6),
        env=env(EPOCH_SLEEP="1.5"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        deadline = time.time() + 180
        while not (os.path.exists(project) and completed(project)
                   and any(r.poll() is not None for r in runs)):
            assert time.time() < deadline
            time.sleep(0.2)
        refused = [r for r in runs if r.poll() is not None]
        assert len(refused) == 1, [r.communicate() for r in refused]
        out, err = refused[0].communicate()
        first = [r for r in runs if r is not refused[0]][0]
        assert refused[0].returncode == 1
        assert "in use by another search" in err
        assert f"process {first.pid} on" in err
        assert "DONE" not in out and "trial 0" not in out
        # Ctrl-C: one line, exit 130, no traceback.
        done_before = completed(project)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
    finally:
        for r in runs:
            if r.poll() is None:
                r.kill()
            r.communicate()
    assert first.returncode == 130, err
    # No traceback of the search's own (Python prints one for a Ctrl-C it
    # dropped in a garbage collector's callback, such as JAX's).
    assert not has_traceback(err) and "DONE" not in out
    lines = [ln for ln in err.splitlines() if "interrupted after" in ln]
    assert len(lines) == 1 and lines[0].endswith(
        "of 6 trials; run the same code again to resume")
    kept = completed(project)
    assert done_before.items() <= kept.items() and len(kept) < 6
    # The same code again finishes the search; nothing was trained twice.
    x, y = data()
    search = keras_nas.NASSearch(
        max_trials=6, seed=0, directory=str(tmp_path), project_name="p",
        space=keras_nas.SearchSpace(["dense-16", "dense-32"], max_depth=2),
        initial_architectures=[], warm_start=False, halving=False)
    search.fit(x, y, epochs=6, verbose=0)
    after = completed(project)
    assert len(after) == 6 and kept.items() <= after.items()
    assert sorted(trials(project)) == [str(i) for i in range(6)]


# -- damage ---------------------------------------------------------------


@pytest.mark.slow
def test_a_truncated_trial_file_is_set_aside_and_its_trial_run_again(
        tmp_path):
    x, y = data()
    small_search(tmp_path).fit(x, y, epochs=1, verbose=0)
    project = str(tmp_path / "p")
    before = completed(project)
    assert len(before) == 3
    damaged = os.path.join(project, "trial_1", "trial.json")
    text = open(damaged).read()
    with open(damaged, "w") as f:
        f.write(text[: len(text) // 2])  # A copy cut short.
    with pytest.warns(RuntimeWarning, match=r"Trial 1 of .* was damaged "
                      r"\(trial.json: JSONDecodeError.*damaged/trial_1"):
        search = small_search(tmp_path).fit(x, y, epochs=1, verbose=0)
    after = completed(project)
    assert sorted(after) == ["0", "1", "2"]
    assert after["0"] == before["0"] and after["2"] == before["2"]
    assert os.path.exists(os.path.join(project, "damaged", "trial_1",
                                       "trial.json"))
    assert [r.status for r in search.results()] == ["COMPLETED"] * 3

    # Damage in the search's own state: the file and the choices, named.
    with open(os.path.join(project, "oracle.json"), "w") as f:
        f.write('{"ongoing_trials": {')
    with pytest.raises(DamagedProjectError, match=(
            r"oracle.json cannot be read.*Restore the file.*overwrite=True")):
        small_search(tmp_path).fit(x, y, epochs=1, verbose=0)
    assert completed(project) == after


# -- a full disk ---------------------------------------------------------------


def _can_mount_tmpfs(tmp_path):
    target = tmp_path / "probe"
    target.mkdir()
    if shutil.which("unshare") is None:
        return False
    rc = subprocess.run(
        ["unshare", "-m", "sh", "-c",
         f"mount -t tmpfs -o size=1m tmpfs {target}"],
        capture_output=True).returncode
    return rc == 0


@pytest.mark.slow
@pytest.mark.parametrize("pack_size", ["1", "4"])
def test_a_disk_that_fills_stops_the_search_then_it_resumes(tmp_path,
                                                            pack_size):
    if not _can_mount_tmpfs(tmp_path):
        pytest.skip("needs `unshare -m` and a tmpfs mount (root, or a user "
                    "namespace that allows mounts)")
    path, fs = script(tmp_path), tmp_path / "fs"
    fs.mkdir()
    # A 400 KB tmpfs, in a mount namespace of its own, fills mid-search.
    shell = textwrap.dedent(f"""
        mount -t tmpfs -o size=400k tmpfs {fs}
        {sys.executable} {path} {fs} 4 dense-64,dense-128 1 \
            > {tmp_path}/out1 2> {tmp_path}/err1
        echo $? > {tmp_path}/rc1
        cp -r {fs}/p {tmp_path}/p
    """)
    subprocess.run(["unshare", "-m", "sh", "-c", shell],
                   env=env(PACK_SIZE=pack_size), timeout=300, check=True)
    rc1 = int((tmp_path / "rc1").read_text())
    err1 = (tmp_path / "err1").read_text()
    out1 = (tmp_path / "out1").read_text()
    assert rc1 == 1, err1  # An exception, not a crash (139).
    assert err1.count("ProjectFolderError") == 1
    assert "cannot be written (ENOSPC: No space left on device)" in err1
    assert "completed of 4 trials are kept" in err1
    assert "FAILED" not in out1 + err1
    project = str(tmp_path / "p")
    full = completed(project)
    # In a pack, the disk may fill before the pack's first trial is
    # recorded: then none is, and the whole pack trains again.
    assert (0 if pack_size == "4" else 1) <= len(full) < 4, out1
    leftovers = [n for _, _, names in os.walk(project) for n in names
                 if ".tmp" in n]
    assert leftovers == []
    # With space (the folder on a larger disk), the same search resumes.
    x, y = data()
    keras_nas.NASSearch(
        max_trials=4, seed=0, directory=str(tmp_path), project_name="p",
        space=keras_nas.SearchSpace(["dense-64", "dense-128"], max_depth=2),
        initial_architectures=[], warm_start=False, halving=False).fit(
            x, y, epochs=1, verbose=0)
    resumed = completed(project)
    assert len(resumed) == 4 and full.items() <= resumed.items()
