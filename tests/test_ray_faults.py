"""The Ray engine when the cluster changes under a search, for real: Ray
in subprocesses, each in a network namespace of its own with loopback only
(`tests/ray_support.py`).

- A node that leaves mid-search (`ray.cluster_utils.Cluster`, its processes
  SIGKILLed) loses only its running trials: they run again on the node
  that stays, the trial it had finished stays as it was recorded, and the
  search ends with `max_trials` distinct completed trials.
"""

import os

import pytest

pytest.importorskip("ray", reason="the Ray engine needs keras-nas[ray]")

import keras_nas  # noqa: E402
from tests import ray_support  # noqa: E402

pytestmark = ray_support.MARKS


def test_a_node_that_leaves_loses_only_its_running_trials(tmp_path):
    lines = ray_support.run_script("node_loss.py", tmp_path)
    assert lines["STALLED"] >= 1  # Trials were running when it left.
    recorded_before = lines["REMOVED"]
    placed = lines["PLACED"]
    finished_there = [t for t in recorded_before if placed[t] == "leaving"]
    assert finished_there  # Recorded before it left, and not run again:
    assert lines["STARTS"]["leaving"] == 1 + lines["STALLED"]
    # Each stalled trial ran once more, on the head; nothing else twice.
    assert sum(lines["STARTS"].values()) == 4 + lines["STALLED"]
    assert sorted(placed, key=int) == ["0", "1", "2", "3"]
    assert [t for t in placed if placed[t] == "leaving"] == finished_there
    assert lines["STATUSES"] == dict.fromkeys(["0", "1", "2", "3"],
                                              "COMPLETED")
    assert lines["OPS"] == 4
    # The project folder holds every trial, as a local search's would.
    search = keras_nas.NASSearch.load(str(tmp_path), "p")
    records = search.results()
    assert sorted(r.trial_id for r in records) == ["0", "1", "2", "3"]
    assert all(r.status == "COMPLETED" for r in records)
    path = tmp_path / "best.keras"
    search.export(str(path))
    assert os.path.getsize(path) > 0
