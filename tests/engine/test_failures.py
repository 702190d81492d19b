"""The failure policy, end to end: architectures that fail are part of
searching; a broken setup stops the search. And what a search prints at
each verbosity, read through a pipe as a log file would."""

import os
import subprocess
import sys
import textwrap

import keras
import pytest

import keras_nas
from keras_nas import NASSearch

from tests.conftest import tabular


class Diverge(keras.layers.Layer):
    """An op whose loss is NaN from the first batch."""

    def call(self, x):
        return x * float("nan")


def test_five_diverging_architectures_of_six_do_not_stop_the_search(
        tmp_path):
    x, y = tabular(120)
    names = [f"nan{i}" for i in range(5)]
    space = keras_nas.SearchSpace(
        {**{n: Diverge for n in names}, "dense-16": None}, max_depth=1)
    search = NASSearch(space=space, strategy="random", max_trials=6, seed=0,
                       directory=str(tmp_path), warm_start=False,
                       initial_architectures=[[n] for n in names],
                       training=keras_nas.Training(
                           max_consecutive_failed_trials=3))
    search.fit(x, y, epochs=1, verbose=0)
    records = search.results()
    assert [r.status for r in records] == ["FAILED"] * 5 + ["COMPLETED"]
    assert all("loss became nan" in r.reason for r in records[:5])
    assert search.best_architecture() == ["dense-16"]


def test_a_search_where_nothing_works_still_stops(tmp_path):
    x, y = tabular(80)
    space = keras_nas.SearchSpace({"nan": Diverge, "nan2": Diverge},
                                  max_depth=3)
    search = NASSearch(space=space, strategy="random", max_trials=10,
                       directory=str(tmp_path), warm_start=False,
                       training=keras_nas.Training(
                           max_consecutive_failed_trials=2),
                       engine=keras_nas.KerasTunerEngine(pack_size=1))
    with pytest.raises(RuntimeError, match="first 6 trials all failed"):
        search.fit(x, y, epochs=1, verbose=0)
    assert len(search.results()) == 6
    # In packs of 4 the policy stops the search once the pack that crossed
    # the line is recorded: 8 trials.
    packed = NASSearch(space=space, strategy="random", max_trials=10,
                       directory=str(tmp_path), project_name="packed",
                       warm_start=False, training=keras_nas.Training(
                           max_consecutive_failed_trials=2),
                       engine=keras_nas.KerasTunerEngine(pack_size=4))
    with pytest.raises(RuntimeError, match="first 6 trials all failed"):
        packed.fit(x, y, epochs=1, verbose=0)
    assert len(packed.results()) == 8
    # A space exhausted before that: the search ends, and says why.
    tiny = NASSearch(space=keras_nas.SearchSpace({"nan": Diverge},
                                                 max_depth=2),
                     strategy="random", max_trials=10, warm_start=False,
                     directory=str(tmp_path), project_name="tiny")
    with pytest.raises(RuntimeError, match="without a completed trial: all "
                       "2 failed. Last reason: loss became nan"):
        tiny.fit(x, y, epochs=1, verbose=0)


def test_a_broken_setup_stops_even_after_completed_trials(tmp_path):
    class BreaksLater(keras.callbacks.Callback):
        trials = [0]  # Shared by the copies each trial gets.

        def on_train_begin(self, logs=None):
            BreaksLater.trials[0] += 1
            if BreaksLater.trials[0] > 1:
                raise OSError("the disk the callback writes to is full")

    x, y = tabular(80)
    search = NASSearch(max_trials=6, directory=str(tmp_path),
                       warm_start=False, training=keras_nas.Training(
                           max_consecutive_failed_trials=2),
                       engine=keras_nas.KerasTunerEngine(pack_size=1))
    with pytest.raises(RuntimeError, match=r"2 trials in a row.*disk"):
        search.fit(x, y, epochs=1, verbose=0, callbacks=[BreaksLater()])
    assert [r.status for r in search.results()] == [
        "COMPLETED", "FAILED", "FAILED"]
    # In a pack, each candidate's callbacks fail only its own trial: the
    # first candidate completes beside the others, and the policy stops
    # the search once the pack is recorded.
    BreaksLater.trials[0] = 0
    packed = NASSearch(max_trials=6, directory=str(tmp_path),
                       project_name="packed", warm_start=False,
                       training=keras_nas.Training(
                           max_consecutive_failed_trials=2),
                       engine=keras_nas.KerasTunerEngine(pack_size=4))
    with pytest.raises(RuntimeError, match=r"trials in a row.*disk"):
        packed.fit(x, y, epochs=1, verbose=0, callbacks=[BreaksLater()])
    records = packed.results()
    assert [r.status for r in records] == ["COMPLETED"] + ["FAILED"] * 3
    assert all("disk the callback writes to is full" in r.reason
               for r in records[1:])


SCRIPT = textwrap.dedent("""
    import sys
    import keras_nas
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")[:120]
    for verbose in (0, 1, 2):  # One process: one start of TensorFlow.
        sys.stdout.write(f"=== verbose={verbose}\\n")
        sys.stdout.flush()
        search = keras_nas.NASSearch(
            max_trials=2, seed=0, directory=sys.argv[1],
            project_name=f"v{verbose}", overwrite=True)
        search.fit(x, y[:120], epochs=2, verbose=verbose)
        sys.stdout.flush()
""")


def test_output_in_a_pipe_at_each_verbosity(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "runs")],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True,
        text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    # Plain in a log file.
    assert "\x1b" not in out.stdout and "\r" not in out.stdout
    parts = out.stdout.split("=== verbose=")
    assert parts[0] == ""
    assert [p[:2] for p in parts[1:]] == ["0\n", "1\n", "2\n"]
    texts = {int(p[0]): p[2:] for p in parts[1:]}
    assert texts[0] == ""
    for verbose in (1, 2):
        text = texts[verbose]
        lines = [ln for ln in text.splitlines() if ln.startswith("[")]
        assert len(lines) == 2 and lines[0].startswith("[1/2 "), text
        # The two conventional models fill both trials: no warm start.
        assert "warm start: skipped" in text
        epoch_lines = [ln for ln in text.splitlines() if "Epoch " in ln]
        # Keras' own output per epoch only at verbose=2.
        assert (len(epoch_lines) > 0) == (verbose == 2), text
