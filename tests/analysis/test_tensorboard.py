"""TensorBoard output, read back by tensorboard itself and by its server."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas import NASSearch

from tests.conftest import tabular


@pytest.fixture(scope="module")
def logged_search(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tb")
    log_dir = tmp / "logs"
    x, y = tabular(120)
    search = NASSearch(
        space=keras_nas.SearchSpace(["dense-16", "dense-32", "dropout"], max_depth=3),
        max_trials=3, seed=2, directory=str(tmp), project_name="p")
    search.fit(x, y, epochs=2, verbose=0,
               callbacks=[keras.callbacks.TensorBoard(log_dir=str(log_dir))])
    return search, str(log_dir)


def _accumulator(path):
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(
        path, size_guidance={event_accumulator.TENSORS: 0,
                             event_accumulator.SCALARS: 0})
    acc.Reload()
    return acc


def test_event_files_hold_runs_hparams_text_and_best_so_far(logged_search):
    search, log_dir = logged_search
    records = search.results()
    for r in records:
        run = os.path.join(log_dir, f"trial_{r.trial_id}")
        train = _accumulator(os.path.join(run, "train"))
        assert "epoch_loss" in train.Tags()["tensors"] + train.Tags()["scalars"]
        session = _accumulator(run)
        tags = session.Tags()["tensors"]
        assert "_hparams_/session_start_info" in tags
        # `tf.summary.text` of TF 2 tags it by its name, as given.
        assert "architecture" in tags
        text = session.Tensors("architecture")[0].tensor_proto.string_val[
            0].decode()
        assert text == " > ".join(r.ops)
    # One event file for the search run: TensorBoard reads a run's files in
    # the order of their names, not of their making, so steps written
    # through a file per trial could come back out of order.
    assert len(os.listdir(os.path.join(log_dir, "search"))) == 1
    search_run = _accumulator(os.path.join(log_dir, "search"))
    tags = search_run.Tags()["tensors"]
    best = search_run.Tensors("search/best_val_accuracy")
    values = [float(np.frombuffer(e.tensor_proto.tensor_content, np.float32)[0])
              if e.tensor_proto.tensor_content else e.tensor_proto.float_val[0]
              for e in best]
    assert [e.step for e in best] == [1, 2, 3]
    assert values == sorted(values)  # Best so far never gets worse.
    assert values[-1] == pytest.approx(max(r.value for r in records), abs=1e-6)
    assert "search/val_accuracy" in tags
    # Why the best won, as far as the trials so far tell: 3 are too few.
    why = search_run.Tensors(
        [t for t in tags if t.startswith("search/importance")][0])
    assert [e.step for e in why] == [1, 2, 3]
    assert "Too few completed trials" in (
        why[-1].tensor_proto.string_val[0].decode())


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", "X-XSRF-Protected": "1"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_a_real_tensorboard_server_lists_trials_and_hparams(logged_search):
    search, log_dir = logged_search
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", log_dir,
         "--host", "127.0.0.1", "--port", str(port), "--reload_interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        runs = []
        while time.time() < deadline:
            try:
                runs = _get(f"{base}/data/runs")
                if "search" in runs and len([r for r in runs if r.startswith("trial_")]) >= 6:
                    break
            except OSError:
                pass
            time.sleep(1)
        for r in search.results():
            assert f"trial_{r.trial_id}/train" in runs
            assert f"trial_{r.trial_id}/validation" in runs
        experiment = _get(f"{base}/data/plugin/hparams/experiment",
                          {"experimentName": ""})
        names = {h["name"] for h in experiment["hparamInfos"]}
        assert {"depth", "op_0", "op_2", "params", "flops", "status",
                "rung"} <= names
        metrics = {m["name"]["tag"] for m in experiment["metricInfos"]}
        assert "objective" in metrics and "epoch_accuracy" in metrics
        groups = _get(f"{base}/data/plugin/hparams/session_groups", {
            "experimentName": "", "allowedStatuses": [
                "STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                "STATUS_RUNNING"],
            "colParams": [{"hparam": "params"}, {"metric": {"tag": "objective"}}],
            "startIndex": 0, "sliceSize": 100})
        sessions = {g["name"]: g for g in groups["sessionGroups"]}
        assert len(sessions) == len(search.results())
        by_name = {f"trial_{r.trial_id}": r for r in search.results()}
        for name, group in sessions.items():
            assert group["hparams"]["params"] == by_name[name].params
            assert group["hparams"]["op_0"] == by_name[name].ops[0]
    finally:
        server.terminate()
        server.wait(20)


def test_a_passed_tensorboard_callback_is_used_per_trial(tmp_path):
    x, y = tabular(100)
    log_dir = tmp_path / "tb"
    search = NASSearch(max_trials=2, seed=3, directory=str(tmp_path))
    search.fit(x, y, epochs=1, verbose=0,
               callbacks=[keras.callbacks.TensorBoard(log_dir=str(log_dir))])
    runs = sorted(d for d in os.listdir(log_dir) if os.path.isdir(log_dir / d))
    assert runs == ["search", "trial_0", "trial_1"]
    assert os.listdir(log_dir / "trial_0" / "validation")
