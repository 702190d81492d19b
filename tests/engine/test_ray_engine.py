"""The Ray engine for real: Ray started in subprocesses, each in a network
namespace of its own with loopback only (`unshare -n`, `ip link set lo up`),
so Ray binds 127.0.0.1 and no test traffic leaves the machine.

- A search read from standard input (no program to run again), 2 workers:
  one worker is SIGKILLed mid-trial and its trial runs again; the driver is
  SIGKILLed after two trials and the same code run again resumes, no trial
  twice, none lost; the code after `fit` runs once; the project folder
  reads back with `NASSearch.load` and exports.
- Two nodes in one process (`ray.cluster_utils.Cluster`): the trials land
  on both, with half a GPU each (and its memory settings); the example's
  `NASSearcher` drives a `ray.tune.Tuner` run and restores.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("ray", reason="the Ray engine needs keras-nas[ray]")

import keras_nas  # noqa: E402
from tests import ray_support  # noqa: E402
from tests.ray_support import NETNS, SCRIPTS  # noqa: E402

pytestmark = ray_support.MARKS


def _stdin_search(project, **kwargs):
    """`python - < search.py <project>` in its own namespace and session."""
    script = open(os.path.join(SCRIPTS, "search.py"), "rb")
    return subprocess.Popen(
        NETNS + [sys.executable, "-", str(project)], stdin=script,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=ray_support.env(), start_new_session=True, **kwargs)


def _placements(project):
    return ray_support.placements(os.path.join(project, "p"))


def test_stdin_search_survives_a_killed_worker_and_a_killed_driver(tmp_path):
    project = tmp_path / "runs"
    first = _stdin_search(project)
    deadline = time.monotonic() + 240
    while len(_placements(project)) < 2 and first.poll() is None:
        assert time.monotonic() < deadline, "no two trials within 240 s"
        time.sleep(0.2)
    assert first.poll() is None, first.stdout.read().decode()[-3000:]
    os.killpg(first.pid, signal.SIGKILL)  # The driver and its embedded Ray.
    first.wait()
    first.stdout.close()
    before = _placements(project)
    assert (tmp_path / "worker_killed").exists()  # A worker died mid-trial.

    second = _stdin_search(project)
    out = second.communicate(timeout=300)[0].decode()
    assert second.returncode == 0, out[-3000:]
    assert out.count("AFTER FIT") == 1 and "AFTER FIT 4" in out

    after = _placements(project)
    assert sorted(after, key=int) == ["0", "1", "2", "3"]
    for trial_id, placement in before.items():  # Not run again.
        assert after[trial_id] == placement
    search = keras_nas.NASSearch.load(str(project), "p")
    records = search.results()
    assert sorted(r.trial_id for r in records) == ["0", "1", "2", "3"]
    assert all(r.status == "COMPLETED" for r in records)
    assert len({tuple(r.ops) for r in records}) == 4
    # Each trial's validation predictions came back from its worker.
    for r in records:
        saved = project / "p" / f"trial_{r.trial_id}" / "val_predictions.npy"
        assert saved.exists(), r.trial_id
    assert (project / "p" / "validation_labels.npy").exists()
    assert search.ensemble(size=3).count_params() > 0
    path = tmp_path / "best.keras"
    search.export(str(path))
    assert path.stat().st_size > 0


def test_two_nodes_and_the_tune_searcher(tmp_path):
    out = ray_support.run("cluster.py", tmp_path)
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines()
                 if line.split(" ", 1)[0] in (
                     "NODES", "SEARCH", "ENV", "SAME", "TUNE", "OURS", "RESTORED"))
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert lines["NODES"] == "2"  # One trial fits a node: both were used.
    assert lines["SEARCH"] == "['COMPLETED', 'COMPLETED']"
    # Half a GPU a trial: JAX may take 0.95 of that half, TensorFlow grows.
    assert lines["ENV"] == "[('0.475', 'true')]"
    assert lines["SAME"] == "True"  # The serial search's proposals.
    assert lines["TUNE"] == "[True, True, True]"
    assert lines["OURS"] == "['COMPLETED', 'COMPLETED', 'COMPLETED']"
    assert lines["RESTORED"] == "True"
