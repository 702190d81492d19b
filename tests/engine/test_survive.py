"""Crash-safe resume, out-of-memory trials, flat memory, parallel workers:
with real subprocesses, real kills and real Keras models."""

import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import pytest

from keras_nas import NASSearch, Training, _compat

from tests.conftest import python_with_ctrl_c, tabular

SCRIPT = textwrap.dedent("""
    import os, sys, time
    import keras, numpy as np
    import keras_nas
    from sklearn.datasets import load_breast_cancer

    marks = sys.argv[1]
    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")[:150]
    y = y[:150]

    class Marker(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            n = len(os.listdir(marks))
            open(os.path.join(marks, f"{n:03d}_{os.getpid()}"), "w").close()

        def on_epoch_end(self, epoch, logs=None):
            time.sleep(0.4)  # Slow enough to be killed mid-trial.

    # CHIEF_DROPS_CTRL_C=N: once N trials have begun, Ctrl-C reaches the
    # chief (not a worker) while it frees an object, where Python drops
    # the KeyboardInterrupt; a timer's handler is the chief's own code.
    dropped_after = int(os.environ.get("CHIEF_DROPS_CTRL_C", 0))
    if dropped_after and "KERAS_NAS_LOCAL_WORKER" not in os.environ:
        import signal

        class Freed:
            def __del__(self):
                signal.raise_signal(signal.SIGINT)

        def tick(*_):
            if len(os.listdir(marks)) >= dropped_after:
                signal.setitimer(signal.ITIMER_REAL, 0)
                Freed()  # Freed at once: Ctrl-C lands in its __del__.

        signal.signal(signal.SIGALRM, tick)
        signal.setitimer(signal.ITIMER_REAL, 0.2, 0.2)

    search = keras_nas.NASSearch(
        max_trials=int(sys.argv[3]), seed=1, directory=sys.argv[2],
        project_name="p", engine=keras_nas.KerasTunerEngine(
            workers=int(sys.argv[4]), timeout_s=240,
            pack_size=int(os.environ.get("PACK_SIZE", "1"))))
    search.fit(x, y, epochs=3, verbose=0, callbacks=[Marker()])
    print("DONE", len(search.results()))
""")


def _wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _start(tmp_path, max_trials, workers, **extra_env):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    marks = tmp_path / "marks"
    marks.mkdir(exist_ok=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra_env)
    proc = subprocess.Popen(
        python_with_ctrl_c(script, marks, tmp_path / "runs", max_trials,
                           workers),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, marks


def _all_json_parses(project):
    for path in glob.glob(os.path.join(project, "**", "*.json"), recursive=True):
        with open(path) as f:
            json.load(f)


def _kill_after_marks(tmp_path, count, what, pause, **extra_env):
    """Start the search, kill -9 it once `count` trainings have begun (and
    `pause` seconds more), and check that what it left parses and holds no
    temporary file. Returns the project folder."""
    proc, marks = _start(tmp_path, max_trials=4, workers=0, **extra_env)
    try:
        _wait_for(lambda: len(os.listdir(marks)) >= count, 180, what)
        time.sleep(pause)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    project = str(tmp_path / "runs" / "p")
    _all_json_parses(project)
    assert not glob.glob(os.path.join(project, "**", "*.tmp*"), recursive=True)
    return project


def test_killed_mid_trial_resumes_without_retraining_or_duplicates(tmp_path):
    # Mid-trial: trial 1 is training.
    project = _kill_after_marks(tmp_path, 2, "the second trial", 0.3)
    ckpt0 = os.path.join(project, "trial_0", "checkpoint.weights.h5")
    stamp = os.stat(ckpt0).st_mtime_ns
    assert not os.path.exists(os.path.join(project, "trial_1", "checkpoint.weights.h5"))

    proc, marks = _start(tmp_path, max_trials=4, workers=0)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "DONE 4" in out
    search = NASSearch.load(str(tmp_path / "runs"), "p")
    records = search.results()
    assert [r.trial_id for r in records] == ["0", "1", "2", "3"]
    assert all(r.status == "COMPLETED" for r in records)
    # Trainings: trial 0, the killed trial 1, then trials 1, 2, 3 once each.
    assert len(os.listdir(marks)) == 5
    assert os.stat(ckpt0).st_mtime_ns == stamp  # Trial 0 was not retrained.
    _all_json_parses(project)


def test_killed_mid_pack_resumes_running_the_pack_again_once(tmp_path):
    # The four candidates of the pack begin together.
    project = _kill_after_marks(tmp_path, 4, "the pack", 0.5, PACK_SIZE="4")
    proc, marks = _start(tmp_path, max_trials=4, workers=0, PACK_SIZE="4")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "DONE 4" in out
    records = NASSearch.load(str(tmp_path / "runs"), "p").results()
    assert [r.trial_id for r in records] == ["0", "1", "2", "3"]
    assert all(r.status == "COMPLETED" for r in records)
    assert len(os.listdir(marks)) == 8  # The pack in flight, run again once.
    _all_json_parses(project)


def test_state_files_are_replaced_whole(tmp_path):
    path = tmp_path / "oracle.json"
    _compat.save_json_atomic(str(path), {"a": 1})
    inode = os.stat(path).st_ino
    with open(path) as reader:  # A reader holding the old file...
        _compat.save_json_atomic(str(path), {"a": 2, "b": [1] * 1000})
        assert json.load(reader) == {"a": 1}  # ...still reads it whole.
    assert os.stat(path).st_ino != inode
    assert json.loads(path.read_text())["a"] == 2
    assert os.listdir(tmp_path) == ["oracle.json"]
    from keras_tuner.src import utils as kt_utils

    assert kt_utils.save_json is _compat.save_json_atomic


class OOMBelow(keras.callbacks.Callback):
    """Raises TensorFlow's out-of-memory error for batches too large, i.e.
    when an epoch has fewer than `min_steps` steps."""

    def __init__(self, min_steps):
        super().__init__()
        self.min_steps = min_steps

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        if self.params["steps"] < self.min_steps:
            raise tf.errors.ResourceExhaustedError(
                None, None, "OOM when allocating tensor with shape[32,4096]")


def test_out_of_memory_retries_once_at_half_the_batch(tmp_path, capsys,
                                                      caplog):
    x, y = tabular(100)  # 80 for training: 3 steps of 32, 5 of 16.
    search = NASSearch(max_trials=1, seed=0, directory=str(tmp_path))
    with caplog.at_level("WARNING", logger="keras_nas.engine.tuner"):
        search.fit(x, y, epochs=1, batch_size=32, verbose=1,
                   callbacks=[OOMBelow(4)])
    assert search.results()[0].status == "COMPLETED"
    # A library diagnostic: through logging, not print.
    assert "retrying once with batch size 16" in caplog.text
    assert "retrying" not in capsys.readouterr().out

    search = NASSearch(max_trials=2, seed=0, directory=str(tmp_path),
                       project_name="q", training=Training(
                           max_consecutive_failed_trials=3))
    # Every trial runs out of memory: the search ends, and says so.
    with pytest.raises(RuntimeError, match="without a completed trial"):
        search.fit(x, y, epochs=1, batch_size=32, verbose=0,
                   callbacks=[OOMBelow(100)])
    for r in search.results():
        assert r.status == "FAILED"
        assert r.reason == "out of memory at batch size 16: ResourceExhaustedError"
    assert capsys.readouterr().out == ""  # verbose=0: the retry is silent.


RECYCLE_SCRIPT = textwrap.dedent("""
    import os, sys
    import keras, numpy as np
    import keras_nas
    from sklearn.datasets import load_breast_cancer

    marks = sys.argv[1]
    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")[:150]

    class Mark(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            n = len(os.listdir(marks))
            open(os.path.join(marks, f"{n:03d}_{os.getpid()}"), "w").close()

    search = keras_nas.NASSearch(
        space=keras_nas.SearchSpace(["dropout", "dense-16"], max_depth=2),
        strategy="random", max_trials=4, seed=0, directory=sys.argv[2],
        engine=keras_nas.KerasTunerEngine(
            workers=1, trials_per_process=2, timeout_s=300),
        warm_start=False)
    search.fit(x, y[:150], epochs=1, verbose=0, callbacks=[Mark()])
    print("DONE", len(search.results()))
""")


def test_a_worker_process_is_replaced_after_trials_per_process(tmp_path):
    # Its memory goes with it: TensorFlow keeps ~5.5 MB of every traced
    # model until the process ends (measured in benchmarks/memory.py).
    script = tmp_path / "recycle.py"
    script.write_text(RECYCLE_SCRIPT)
    marks = tmp_path / "marks"
    marks.mkdir()
    out = subprocess.run(
        [sys.executable, str(script), str(marks), str(tmp_path / "runs")],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True,
        text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "DONE 4" in out.stdout
    pids = [m.split("_")[1] for m in sorted(os.listdir(marks))]
    assert len(pids) == 4
    # Two trials in each of two worker processes, one after the other.
    assert pids[0] == pids[1] != pids[2] == pids[3], pids
    assert str(os.getpid()) not in pids


@pytest.mark.parametrize("pack_size", ["1", "3"])
def test_chief_and_two_workers_survive_a_killed_worker(tmp_path, pack_size):
    # Packed, each worker takes three trials at once; the killed one's go
    # back to the queue together.
    proc, marks = _start(tmp_path, max_trials=6, workers=2,
                         PACK_SIZE=pack_size)
    try:
        _wait_for(lambda: len(os.listdir(marks)) >= 2, 240, "two trials")
        first = sorted(os.listdir(marks))[0]
        victim = int(first.split("_")[1])
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)  # A worker, mid-trial.
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "DONE 6" in out
    project = tmp_path / "runs" / "p"
    search = NASSearch.load(str(tmp_path / "runs"), "p")
    records = search.results()
    assert [r.trial_id for r in records] == [str(i) for i in range(6)]
    assert all(r.status == "COMPLETED" for r in records)
    assert sorted(p.name for p in project.glob("trial_*")) == [
        f"trial_{i}" for i in range(6)]
    pids = {m.split("_")[1] for m in os.listdir(marks)}
    assert len(pids) >= 2  # Trained by more than one worker process.
    # Successive halving decided every trial against one shared rung table.
    with open(project / "rungs.json") as f:
        assert sorted(json.load(f)["1"], key=int) == [str(i) for i in range(6)]
    assert all(r.rung is not None for r in records)
    logs = sorted(p.name for p in (project / "workers").glob("worker_*.log"))
    assert logs[:2] == ["worker_0.log", "worker_1.log"]


def test_a_ctrl_c_the_chief_drops_still_stops_chief_and_workers(tmp_path):
    # The chief of Keras Tuner's parallel mode waits in a loop of its own,
    # not in a trial: a Ctrl-C Python dropped there must stop it too.
    proc, marks = _start(tmp_path, max_trials=6, workers=2,
                         CHIEF_DROPS_CTRL_C="2")
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Exception ignored" in err  # Python did drop it.
    assert proc.returncode == 130, err[-3000:]
    assert "DONE" not in out
    lines = [ln for ln in err.splitlines() if "interrupted after" in ln]
    assert len(lines) == 1 and lines[0].endswith(
        "of 6 trials; run the same code again to resume")
    # The workers went with it, before the search's six trials.
    assert len(os.listdir(marks)) < 6
    for mark in os.listdir(marks):
        pid = int(mark.split("_")[1])
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    _all_json_parses(str(tmp_path / "runs" / "p"))
