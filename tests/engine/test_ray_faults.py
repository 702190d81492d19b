"""The Ray engine when the cluster changes under a search, for real: Ray
in subprocesses, each in a network namespace of its own with loopback only
(`tests/ray_support.py`).

- A node that leaves mid-search (`ray.cluster_utils.Cluster`, its processes
  SIGKILLed) loses only its running trials: they run again on the node
  that stays, the trial it had finished stays as it was recorded, and the
  search ends with `max_trials` distinct completed trials.
- A Ctrl-C that Python drops in the driver (it lands in an object's
  `__del__`) stops the search all the same, with the serial search's
  exit status and message.
- `max_time_s` holds with 2 workers: no trial is proposed after it, and
  those in flight end at their first epoch end past it, as in a serial
  search; `trials_per_process=1` gives each trial a fresh worker process.
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


def test_max_time_s_holds_and_worker_processes_are_recycled(tmp_path):
    lines = ray_support.run_script("budget.py", tmp_path)
    deadline = lines["BEGAN"] + lines["MAX_TIME"]
    placed, trials = lines["BUDGET_PLACED"], lines["BUDGET_TRIALS"]
    # The budget stopped the search: no trial proposed after it ...
    assert 1 <= len(trials) < 50
    assert all(p["submitted"] <= deadline + 0.5 for p in placed.values())
    # ... and each one in flight ended at its first epoch end past it, as
    # in a serial search (epochs last a second: the script's `SlowEpochs`),
    # recorded with what it reached (`time_up`), unless it had ended at an
    # epoch end just before the budget did: its last epoch, or a rung that
    # halving stopped it at. (`SlowEpochs` sleeps after our callbacks have
    # decided, so such a trial finishes up to a second past the budget.)
    for trial_id, p in placed.items():
        if p["finished"] > deadline + 0.5:
            trial = trials[trial_id]
            assert (trial["time_up"] or trial["epochs"] == 3
                    or trial["stopped"]), (trial_id, lines)
            # Two epochs, and the trial's recording after them (its
            # checkpoint, predictions and report: over 3 s on 2 loaded cores).
            assert p["finished"] - max(p["started"], deadline) < 2 * 1.0 + 4
    late = max(0.0, max(p["started"] for p in placed.values()) - deadline)
    assert lines["ENDED"] - deadline < late + 2 * 1.0 + 5
    # The results agree with the oracle and the folder.
    records = lines["BUDGET_RECORDS"]
    assert sorted(records) == sorted(trials) == sorted(placed)
    assert all(r[0] == "COMPLETED" for r in records.values())
    assert all(t["status"] == "COMPLETED" for t in trials.values())
    again = keras_nas.NASSearch.load(str(tmp_path), "budget").results()
    assert sorted(r.trial_id for r in again) == sorted(records)
    if len(placed) >= 3:  # By default a worker process serves many trials.
        assert len({p["pid"] for p in placed.values()}) < len(placed)
    # `trials_per_process=1`: a fresh worker process for every trial, so
    # each of the two slots saw more than one.
    pids = lines["RECYCLED_PIDS"]
    assert sorted(pids) == ["0", "1", "2"]
    assert len(set(pids.values())) == 3
    assert lines["RECYCLED_STATUSES"] == ["COMPLETED"] * 3
    # `pack_size=3`: the three trials were one task (one process, one
    # start), each recorded whole.
    placed = lines["PACKED_PLACED"]
    assert sorted(placed) == ["0", "1", "2"]
    assert len({(p["pid"], p["started"]) for p in placed.values()}) == 1
    assert all(status == "COMPLETED" and epochs == 2 for status, epochs
               in lines["PACKED_RECORDS"].values())
    for files in lines["PACKED_FILES"].values():
        assert "checkpoint.weights.h5" in files
        assert "val_predictions.npy" in files


def test_a_ctrl_c_the_driver_drops_still_stops_the_search(tmp_path):
    # The driver waits on its trials in `ray.wait`, not in a trial: a
    # Ctrl-C Python dropped there must stop the search too.
    out = ray_support.run("dropped_ctrl_c.py", tmp_path)
    assert "DROPPED" in out.stdout, (out.stdout + out.stderr)[-3000:]
    assert "Exception ignored" in out.stderr  # Python did drop it.
    assert out.returncode == 130, (out.stdout + out.stderr)[-3000:]
    assert "AFTER FIT" not in out.stdout
    lines = [ln for ln in out.stderr.splitlines() if "interrupted after" in ln]
    assert len(lines) == 1 and lines[0].endswith(
        "of 12 trials; run the same code again to resume")
    recorded = ray_support.placements(str(tmp_path / "p"))
    assert 1 <= len(recorded) < 12
