"""The keras-nas command, run as a user runs it: in a subprocess, for the
first search and every error and help line. The other searches, reports
and exports call the same `cli.main` in this process (`run_here`), which
spares each one a TensorFlow import of its own."""

import json
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from keras_nas import cli


def run(*args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "keras_nas.cli", *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=300)


@pytest.fixture
def run_here(capsys, monkeypatch):
    """`run`, but `cli.main` called in this process: its exit status and
    what it printed, as `run`'s result has them."""

    def run_in(*args, cwd):
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = cli.main([str(a) for a in args])
        out = capsys.readouterr()
        return types.SimpleNamespace(returncode=code, stdout=out.out,
                                     stderr=out.err)
    return run_in


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cli")
    out = run("search", "--max-trials", "2", "--epochs", "1", "--seed", "1",
              "--directory", "runs", "--project", "digits", cwd=cwd)
    return cwd, out


def test_search_with_no_data_runs_on_digits(searched):
    cwd, out = searched
    assert out.returncode == 0, out.stderr[-2000:]
    assert "scikit-learn digits" in out.stdout
    assert "[1/2 " in out.stdout and "[2/2 " in out.stdout
    assert "Test: " in out.stdout and "accuracy" in out.stdout
    best = cwd / "runs" / "digits" / "best.keras"
    assert f"Best model: {os.path.join('runs', 'digits', 'best.keras')}" in out.stdout
    assert best.exists()
    assert json.loads((cwd / "runs" / "digits" / "best.json").read_text())["ops"]


def test_report_prints_the_table_and_saves_plots(searched, run_here):
    cwd, _ = searched
    out = run_here("report", "runs/digits", cwd=cwd)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "COMPLETED" in out.stdout and "val_accuracy" in out.stdout
    for name in ("history.png", "tradeoff.png"):
        data = (cwd / "runs" / "digits" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_export(searched, run_here):
    cwd, _ = searched
    out = run_here("export", "runs/digits", "model.keras", cwd=cwd)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (cwd / "model.keras").exists() and (cwd / "model.json").exists()


def test_search_on_an_npz_and_a_csv(tmp_path, run_here):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 5)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    np.savez(tmp_path / "d.npz", x_train=x[:90], y_train=y[:90],
             x_test=x[90:], y_test=y[90:])
    out = run_here("search", "--data", "d.npz", "--max-trials", "1",
                   "--epochs", "1", "--directory", "r", "--verbose", "0",
                   cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Test: " in out.stdout
    rows = ["a,b,c,d,e,kind"] + [
        ",".join(f"{v:.3f}" for v in row) + ("," + ("yes" if t else "no"))
        for row, t in zip(x, y)]
    (tmp_path / "d.csv").write_text("\n".join(rows))
    out = run_here("search", "--data", "d.csv", "--label", "kind",
                   "--max-trials", "1", "--epochs", "1", "--directory", "r2",
                   "--verbose", "0", "--max-time-s", "600", "--no-warm-start",
                   cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Test: " not in out.stdout  # No test data in a CSV.
    # The flags reached the search's config, as saved in its folder.
    saved = json.loads((tmp_path / "r2" / "search" / "keras_nas.json")
                       .read_text())["config"]
    assert saved["max_time_s"] == 600.0 and saved["warm_start"] is False
    assert saved["engine"]["workers"] == 0
    out = run_here("search", "--data", "d.npz", "--max-trials", "2",
                   "--epochs", "1", "--directory", "r3", "--verbose", "0",
                   "--objective", "val_accuracy", "params", "--max-flops",
                   "5000", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    out = run_here("report", "r3/search", cwd=tmp_path)
    assert "objectives: val_accuracy (max), params (min)" in out.stdout
    assert "Pareto front (val_accuracy against params):" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["search", "--max-trials", "0"], "--max-trials must be at least 1"),
    (["search", "--steps-per-execution", "0"],
     "--steps-per-execution must be at least 1"),
    (["search", "--strategy", "genetic"], "invalid choice: 'genetic'"),
    (["search", "--data", "missing.npz"], "no such file: missing.npz"),
    (["search", "--epochs", "two"], "invalid int value: 'two'"),
    (["report", "nowhere"], "no such search folder: nowhere"),
    (["export", ".", "out.h5"], "must end with .keras, .onnx or .tflite"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["search", "--objective", "val_accuracy", "params", "--strategy",
      "bayesian"], "optimizes one objective"),
    (["search", "--max-latency-ms", "-2"],
     "--max-latency-ms must be a positive"),
    (["search", "--max-time-s", "0"],
     "--max-time-s must be a positive number of seconds, got 0"),
    (["search", "--time-budget", "5"], "unrecognized arguments: --time-budget"),
    (["search", "--workers", "-1"], "--workers must be 0 or more, got -1"),
    ([], "required: COMMAND"),
])
def test_bad_arguments_one_line_exit_2(tmp_path, args, message):
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines()
             if ln.startswith("keras-nas") or "Traceback" in ln]
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_bad_data_file_is_one_line_exit_2(tmp_path):
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    out = run("search", "--data", "bad.npz", cwd=tmp_path)
    assert out.returncode == 2
    assert "lacks x_train, y_train" in out.stderr
    assert "Traceback" not in out.stderr


def test_every_command_has_help(tmp_path):
    for args in (["--help"], ["search", "--help"], ["report", "--help"],
                 ["export", "--help"]):
        out = run(*args, cwd=tmp_path)
        assert out.returncode == 0 and "usage: keras-nas" in out.stdout


def test_export_by_format_and_bad_quantize(searched, tmp_path, run_here):
    cwd, _ = searched
    out = run_here("export", "runs/digits", "model.onnx", cwd=cwd)
    assert out.returncode == 0, out.stderr[-2000:]
    info = json.loads((cwd / "model.json").read_text())
    assert info["format"] == "onnx" and info["checks"]["passed"]
    data = tmp_path / "d.npz"
    from keras_nas.data.prepare import load_digits

    (x, y), (xt, yt) = load_digits()
    np.savez(data, x_train=x[:50], y_train=y[:50], x_test=xt, y_test=yt)
    out = run_here("export", "runs/digits", "q.tflite", "--quantize", "int8",
                   "--data", str(data), cwd=cwd)
    assert out.returncode == 0, out.stderr[-2000:]
    checks = json.loads((cwd / "q.json").read_text())["checks"]
    assert checks["inputs"] == "validation" and checks["samples"] == len(xt)


def _npz(path, test_labels=None, test_shape=None):
    """Tabular train/test data; the test part may hold another label or
    another sample shape."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    x_test = x[:10] if test_shape is None else rng.normal(
        size=(10,) + test_shape).astype("float32")
    y_test = y[:10] if test_labels is None else test_labels
    np.savez(path, x_train=x, y_train=y, x_test=x_test, y_test=y_test)


@pytest.mark.parametrize("kwargs, message", [
    ({"test_labels": np.array([0, 1, 7] * 3 + [0])},
     "`y` holds the label 7, which the search never saw. Accepted: the "
     "training classes [0, 1]."),
    ({"test_shape": (4,)},
     "`x_test` must have the samples' shape of `x_train`, (5,). Received: "
     "(4,)."),
])
def test_bad_input_is_found_before_anything_trains(tmp_path, run_here,
                                                   kwargs, message):
    _npz(tmp_path / "d.npz", **kwargs)
    out = run_here("search", "--data", "d.npz", "--max-trials", "1",
                   "--epochs", "1", "--directory", "r", "--verbose", "0",
                   cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == f"keras-nas: error: {message}"
    assert not (tmp_path / "r").exists()  # Found before any trial.


def test_export_arguments_are_checked_before_the_search_is_read(tmp_path):
    out = run("export", "nowhere", "q.tflite", "--quantize", "int8",
              cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "keras-nas: error: --quantize int8 needs --data, to measure what "
        "quantizing costs")


def test_a_failure_in_training_is_a_failure_with_its_traceback(tmp_path):
    # A real trial trains, then the search breaks (a trial hook raises a
    # `ValueError`): that is no bad input, so not one line and status 2,
    # but the traceback and status 1.
    _npz(tmp_path / "d.npz")
    script = textwrap.dedent("""
        import sys
        from keras_nas import cli
        from keras_nas.analysis import progress

        def broken(self, tuner, trial):
            raise ValueError("the hook broke after trial " + trial.trial_id)

        progress.Progress.__call__ = broken
        sys.exit(cli.main(sys.argv[1:]))
    """)
    out = subprocess.run(
        [sys.executable, "-c", script, "search", "--data", "d.npz",
         "--max-trials", "1", "--epochs", "1", "--directory", "r",
         "--verbose", "0", "--no-warm-start"], cwd=tmp_path,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True,
        text=True, timeout=300)
    assert out.returncode == 1, out.stderr[-2000:]
    assert "Traceback (most recent call last)" in out.stderr
    assert out.stderr.rstrip().endswith(
        "ValueError: the hook broke after trial 0")
    assert "keras-nas: error" not in out.stderr
    assert (tmp_path / "r" / "search" / "trial_0").is_dir()
