"""Reaching a good model sooner: successive halving, the warm start, the
user's initial architectures and the time budget, on real Keras models."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas import NASSearch
from keras_nas.scoring import proxies, ranking
from keras_nas.data.task import Task

from tests.conftest import SHAPES, digits, tabular, waves


def test_halving_stops_and_records_rungs(tmp_path):
    (x, y), _ = digits(300)
    search = NASSearch(max_trials=8, seed=1, directory=str(tmp_path),
                       strategy="random", warm_start=False,
                       halving=keras_nas.Halving(min_epochs=1,
                                                 reduction_factor=2))
    search.fit(x, y, epochs=2, verbose=0)
    records = search.results()
    stopped = [r for r in records if r.stopped]
    assert stopped, "with 8 trials and eta=2, some stop at the first rung"
    assert any(not r.stopped and r.epochs == 2 for r in records)
    for r in stopped:
        assert r.rung == 0 and r.epochs == 1 and r.status == "COMPLETED"
    table = json.load(open(tmp_path / "search" / "rungs.json"))
    assert sorted(table["1"], key=int) == [r.trial_id for r in records]
    # A stopped trial's weights are kept: its model loads.
    trial = search.tuner.oracle.get_trial(stopped[0].trial_id)
    assert search.tuner.load_model(trial).count_params() == stopped[0].params


def test_halving_is_off_for_hyperband_and_can_be_turned_off(tmp_path):
    x, y = tabular(80)
    search = NASSearch(max_trials=2, directory=str(tmp_path), halving=False,
                       warm_start=False)
    search.fit(x, y, epochs=2, verbose=0)
    assert all(r.rung is None for r in search.results())
    with pytest.raises(ValueError, match="hyperband"):
        NASSearch(strategy="hyperband", halving=keras_nas.Halving())


SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import keras, keras_nas
    from keras_nas.data.prepare import load_digits

    (x, y), _ = load_digits()
    log = sys.argv[2]

    class Log(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            with open(log, "a") as f:
                f.write(f"{epoch}\\n")
            if sys.argv[3] == "kill" and epoch == 2:
                os.kill(os.getpid(), signal.SIGKILL)  # After rung 1 (epoch 2).

    search = keras_nas.NASSearch(
        max_trials=1, seed=0, directory=sys.argv[1], project_name="p",
        halving=keras_nas.Halving(min_epochs=1, reduction_factor=2),
        warm_start=False, initial_architectures=[["dense-64"]])
    search.fit(x[:300], y[:300], epochs=4, verbose=0, callbacks=[Log()])
    print("DONE", search.results()[0].epochs)
""")


def test_a_search_killed_between_rungs_resumes_from_the_rung(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    log = tmp_path / "epochs.log"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    run = [sys.executable, str(script), str(tmp_path / "runs"), str(log)]
    killed = subprocess.run(run + ["kill"], env=env, capture_output=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert log.read_text().split() == ["0", "1", "2"]
    assert os.path.exists(tmp_path / "runs" / "p" / "trial_0" /
                          "rung.weights.h5")
    done = subprocess.run(run + ["go"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # Rungs at 1 and 2 epochs: the rerun starts at epoch 2, not 0.
    assert log.read_text().split() == ["0", "1", "2", "2", "3"]
    assert "DONE 4" in done.stdout


@pytest.mark.parametrize("kind", ["image", "sequence", "tabular"])
def test_proxies_score_every_kind_of_input(kind):
    shape = SHAPES[kind]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16,) + shape).astype("float32")
    space = keras_nas.SearchSpace().bind(shape, output_units=3)
    task = Task("multiclass", (0, 1, 2))
    ranked = ranking.rank(space, x, task, pool_size=4, seed=0,
                          batch_size=16)
    assert ranked.scored == 4
    for scores in ranked.scores:
        assert set(scores) == {"naswot", "jacob_cov"}
        assert all(isinstance(v, float) for v in scores.values())
    again = ranking.rank(space, x, task, pool_size=4, seed=0, batch_size=16)
    assert again.ops == ranked.ops  # Deterministic under a seed.


def test_naswot_prefers_a_network_that_tells_inputs_apart():
    x = np.random.default_rng(0).normal(size=(32, 20)).astype("float32")
    wide = keras.Sequential([keras.Input((20,)),
                             keras.layers.Dense(256, activation="relu"),
                             keras.layers.Dense(2)])
    narrow = keras.Sequential([keras.Input((20,)),
                               keras.layers.Dense(2, activation="relu"),
                               keras.layers.Dense(2)])
    assert proxies.naswot(wide, x) > proxies.naswot(narrow, x)


def test_time_budget_stops_cleanly(tmp_path):
    x, y = waves(240)
    # When each epoch of each trial began and ended (closures: Keras Tuner
    # copies the callbacks of each trial, and a copied function is the
    # same one).
    begins, ends = [], []
    record_end = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: begins.append(time.time()),
        on_epoch_end=lambda epoch, logs: ends.append(time.time()))
    begin = time.time()
    search = NASSearch(max_trials=50, seed=0, directory=str(tmp_path),
                       max_time_s=6, warm_start=False)
    search.fit(x, y, epochs=20, verbose=0, callbacks=[record_end])
    end = time.time()
    records = search.results()
    assert 1 <= len(records) < 50
    assert all(r.status == "COMPLETED" for r in records)
    assert len(begins) == len(ends) == sum(r.epochs for r in records)
    # The budget ends 6 s after `fit` has prepared the data, before the
    # first trial, and is checked before each trial and at each epoch's
    # end. So past it at most one epoch begins (the one whose end stops
    # its trial), no trial starts, and the search ends right after that
    # epoch (what is left is saving it), not after the trial.
    deadline = search.tuner.deadline
    assert begin + 6 <= deadline <= ends[0] + 6
    assert len([t for t in begins if t >= deadline]) <= 1, (begins, deadline)
    assert end - ends[-1] < 5, (end, ends[-1])
    # In all: the startup (to the first epoch's end), the budget, the
    # longest epoch (from one epoch's end to the next, a new trial's build
    # included), and the saving.
    longest = max(np.diff(ends), default=0.0)
    assert end - begin < (ends[0] - begin) + 6 + longest + 5
    # The model returned is the best trial's, and it scores the user's
    # labels as its own predictions do.
    chosen = next(r for r in records if r.ops == search.best_architecture())
    assert chosen.value == max(r.value for r in records)
    assert search.best_model().count_params() == chosen.params
    _, accuracy = search.evaluate(x, y)
    predicted = search.predict(x).argmax(axis=-1)
    assert accuracy == pytest.approx(float(np.mean(predicted == y)))
    with pytest.raises(ValueError, match="max_time_s=0"):
        NASSearch(max_time_s=0)
