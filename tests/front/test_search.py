import json
import os
import re
import subprocess
import sys

import keras
import keras_tuner
import numpy as np
import pytest

import keras_nas
from keras_nas import NASSearch

from tests.conftest import digits, tabular, waves


def make(tmp_path, **kwargs):
    kwargs.setdefault("max_trials", 3)
    kwargs.setdefault("seed", 1)
    return NASSearch(directory=str(tmp_path), project_name="p", **kwargs)


def test_digits_images_end_to_end(tmp_path):
    (x, y), (xt, yt) = digits()
    search = make(tmp_path, space=keras_nas.SearchSpace(max_depth=4))
    search.fit(x, y, epochs=3, verbose=0)
    model = search.best_model()
    assert isinstance(model, keras.Sequential)
    loss, acc = search.evaluate(xt, yt)
    assert acc > 0.5  # Chance is 0.1.
    assert search.predict(xt).shape == (len(xt), 10)
    records = search.results()
    assert [r.trial_id for r in records] == ["0", "1", "2"]
    best = search.best_architecture()
    assert best in [r.ops for r in records]
    for r in records:
        assert r.status == "COMPLETED" and r.value is not None
        assert r.params == keras_nas.plan(r.ops, (8, 8, 1), 10).params
        assert 1 <= r.epochs <= 3 and r.seconds > 0
    assert model.count_params() == max(
        records, key=lambda r: r.value).params


def test_export_loads_in_a_fresh_process_without_custom_objects(tmp_path):
    (x, y), (xt, yt) = digits(200)
    search = make(tmp_path, max_trials=2)
    search.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "best.keras"
    json_path = search.export(path)
    info = json.loads(open(json_path).read())
    assert info["ops"] == search.best_architecture()
    assert info["params"] == search.best_model().count_params()
    np.save(tmp_path / "xt.npy", xt[:5])
    expected = search.predict(xt[:5])
    code = (
        "import keras, numpy as np, sys;"
        f"m = keras.models.load_model({str(path)!r});"
        f"p = m.predict(np.load({str(tmp_path / 'xt.npy')!r}), verbose=0);"
        "np.save(sys.argv[1], p)"
    )
    out = tmp_path / "pred.npy"
    subprocess.run([sys.executable, "-c", code, str(out)], check=True,
                   timeout=120)
    np.testing.assert_allclose(np.load(out), expected, atol=1e-5)


def test_sequence_task(tmp_path):
    x, y = waves()
    search = make(tmp_path, space=keras_nas.SearchSpace(
        ["conv5-16", "maxpool", "gap", "dense-32"], max_depth=3))
    search.fit(x, y, epochs=3, verbose=0)
    assert search.results()[0].ops[0] in ["conv5-16", "maxpool", "gap", "dense-32"]
    _, acc = search.evaluate(*waves(90, seed=1))
    assert acc > 0.45  # Chance is 1/3.


def test_tabular_binary_task_with_sigmoid_head(tmp_path):
    x, y = tabular()
    search = make(tmp_path)
    search.fit(x, y, epochs=3, verbose=0)
    assert search.task_.kind == "binary"
    assert search.best_model().layers[-1].activation.__name__ == "sigmoid"
    _, acc = search.evaluate(x, y)
    assert acc > 0.85


def test_regression_defaults_to_val_loss(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype("float32")
    y = (x @ rng.normal(size=6)).astype("float32")
    search = make(tmp_path, max_trials=2)
    search.fit(x, y, epochs=2, verbose=0)
    assert search.tuner.oracle.objective.name == "val_loss"
    assert search.tuner.oracle.objective.direction == "min"
    assert search.best_model().layers[-1].activation.__name__ == "linear"


def test_string_labels_and_f1_objective(tmp_path):
    x, y = waves(150)
    labels = np.array(["low", "mid", "high"])[y]
    search = make(
        tmp_path, max_trials=2, objective="val_f1_score",
        training=keras_nas.Training(
            metrics=[keras.metrics.F1Score(average="macro")]),
        space=keras_nas.SearchSpace(["conv3-16", "gap", "dense-16"], max_depth=2),
    )
    search.fit(x, labels, epochs=2, verbose=0)
    assert search.task_.classes == ("high", "low", "mid")
    assert search.tuner.oracle.objective.direction == "max"
    result = search.evaluate(x[:30], labels[:30], return_dict=True)
    assert "f1_score" in result


def test_resume_keeps_completed_trials_and_does_not_retrain(tmp_path):
    x, y = tabular(150)
    first = make(tmp_path, max_trials=2)
    first.fit(x, y, epochs=1, verbose=0)
    ckpt = [os.path.join(tmp_path, "p", f"trial_{i}", "checkpoint.weights.h5")
            for i in "01"]
    stamps = [os.stat(p).st_mtime_ns for p in ckpt]
    before = [(r.ops, r.value) for r in first.results()]

    again = make(tmp_path, max_trials=4)
    trained = []
    again.fit(x, y, epochs=1, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(
                  on_train_begin=lambda logs: trained.append(1))])
    records = again.results()
    assert len(records) == 4
    assert [(r.ops, r.value) for r in records[:2]] == before
    assert [os.stat(p).st_mtime_ns for p in ckpt] == stamps
    assert len(trained) == 2  # Only the two new trials trained.


class NaNLayer(keras.layers.Layer):
    def call(self, x):
        return x * float("nan")


def test_nan_and_raising_trials_fail_and_the_search_goes_on(tmp_path):
    def broken():
        raise RuntimeError("factory is broken")

    x, y = tabular(120)
    space = keras_nas.SearchSpace(
        {"nan": NaNLayer, "broken": lambda shape: broken(), "dense-16": None},
        max_depth=1)
    search = make(tmp_path, space=space, strategy="random", max_trials=3,
                  training=keras_nas.Training(
                      max_consecutive_failed_trials=5))
    search.fit(x, y, epochs=1, verbose=0)
    by_op = {r.ops[0]: r for r in search.results()}
    assert set(by_op) == {"nan", "broken", "dense-16"}
    assert by_op["nan"].status == "FAILED"
    assert "loss became nan" in by_op["nan"].reason
    assert by_op["broken"].status == "FAILED"
    assert "factory is broken" in by_op["broken"].reason
    assert by_op["dense-16"].status == "COMPLETED"
    assert search.best_architecture() == ["dense-16"]


def test_too_many_consecutive_failures_stop_with_a_clear_error(tmp_path):
    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise ValueError("user callback exploded")

    x, y = tabular(100)
    search = make(tmp_path, max_trials=5, training=keras_nas.Training(
        max_consecutive_failed_trials=2))
    with pytest.raises(RuntimeError, match=r"2 trials in a row failed.*user callback exploded"):
        search.fit(x, y, epochs=1, verbose=0, callbacks=[Boom()])
    statuses = [r.status for r in search.results()]
    assert statuses[:2] == ["FAILED", "FAILED"]


@pytest.mark.parametrize("strategy", ["random", "bayesian", "hyperband"])
def test_keras_tuner_strategies(tmp_path, strategy):
    x, y = tabular(120)
    search = make(tmp_path, strategy=strategy, max_trials=2)
    search.fit(x, y, epochs=2, verbose=0)
    assert len(search.results()) == 2
    model = search.best_model()
    assert isinstance(model, keras.Sequential)
    best = max((r for r in search.results() if r.status == "COMPLETED"),
               key=lambda r: r.value)
    assert model.count_params() == best.params
    assert model.predict(x[:3], verbose=0).shape[0] == 3


def test_any_keras_tuner_oracle_instance(tmp_path):
    (x, y), _ = digits(150)
    oracle = keras_tuner.oracles.RandomSearchOracle(max_trials=3, seed=0)
    search = make(tmp_path, strategy=oracle,
                  space=keras_nas.SearchSpace(["maxpool", "dense-16"],
                                              min_depth=3, max_depth=4),
                  training=keras_nas.Training(
                      max_consecutive_failed_trials=5),
                  warm_start=False, initial_architectures=[])
    search.fit(x, y, epochs=1, verbose=0)
    records = search.results()
    assert len(records) == 3
    # A plain oracle knows no shapes: invalid ones fail without training.
    failed = [r for r in records if r.status == "FAILED"]
    assert failed, "the oracle's own draws hold an invalid stack"
    for r in failed:
        assert r.reason.startswith("invalid architecture")
        assert r.epochs is None


def test_progress_lines(tmp_path, capsys):
    x, y = tabular(100)
    make(tmp_path, max_trials=2).fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("[")]
    # Trials done of the budget, elapsed, and (until the last) time left.
    assert re.match(r"\[1/2 0:\d\d ~0:\d\d left\] trial 0: ", lines[0])
    assert re.match(r"\[2/2 0:\d\d\] trial 1: ", lines[1])
    assert "params | val_accuracy" in out and "| best " in out
    assert "\x1b" not in out and "\r" not in out  # Reads in a log file.
    make(tmp_path, max_trials=2, overwrite=True).fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_retrain_on_all_training_data(tmp_path):
    x, y = tabular(150)
    search = make(tmp_path, max_trials=2)
    search.fit(x, y, epochs=2, verbose=0)
    searched = search.best_model()
    model = search.retrain()
    assert model is search.best_model() and model is not searched
    assert model.count_params() == searched.count_params()
    _, acc = search.evaluate(x, y)
    assert acc > 0.8


def test_load_reopens_a_saved_search(tmp_path):
    x, y = tabular(120)
    first = make(tmp_path, max_trials=2)
    first.fit(x, y, epochs=1, verbose=0)
    reopened = NASSearch.load(str(tmp_path), "p")
    assert [(r.trial_id, r.ops, r.value) for r in reopened.results()] == [
        (r.trial_id, r.ops, r.value) for r in first.results()]
    # The same trained model: the best trial's, with its weights.
    assert reopened.best_architecture() == first.best_architecture()
    np.testing.assert_allclose(reopened.predict(x), first.predict(x),
                               rtol=1e-6)


def test_max_params_caps_every_candidate(tmp_path):
    x, y = tabular(100)
    search = make(tmp_path, max_trials=4,
                  space=keras_nas.SearchSpace(max_params=1500))
    search.fit(x, y, epochs=1, verbose=0)
    assert all(r.params <= 1500 for r in search.results())


def test_runs_under_the_jax_backend(tmp_path):
    pytest.importorskip("jax")
    code = f"""
import sys
import numpy as np
import keras, keras_nas
assert keras.backend.backend() == "jax"
rng = np.random.default_rng(0)
x = rng.normal(size=(80, 6)).astype("float32")
y = (x[:, 0] > 0).astype("int64")
# No seed: keras.utils.set_random_seed itself imports TensorFlow when it is
# installed. Without it, nothing on the core path may.
s = keras_nas.NASSearch(max_trials=2, directory={str(tmp_path)!r})
s.fit(x, y, epochs=1, verbose=0)
assert len(s.results()) == 2, s.results()
assert s.results()[0].status == "COMPLETED", s.results()[0]
print("tf imported:", "tensorflow" in sys.modules)
"""
    env = dict(os.environ, KERAS_BACKEND="jax")
    out = subprocess.run([sys.executable, "-c", code], env=env, timeout=300,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "tf imported: False" in out.stdout


class BatchEnds(keras.callbacks.Callback):
    """Counts `on_train_batch_end` calls per trial, across the deep copies
    the search makes of it."""

    counts = []

    def on_train_begin(self, logs=None):
        BatchEnds.counts.append(0)

    def on_train_batch_end(self, batch, logs=None):
        BatchEnds.counts[-1] += 1


@pytest.mark.skipif(keras.backend.backend() == "torch",
                    reason="Keras runs one batch per call on PyTorch")
@pytest.mark.parametrize("steps, calls", [(None, 1), (1, 8), (3, 3)])
def test_steps_per_execution_runs_that_many_batches_per_call(
        tmp_path, steps, calls):
    x, y = tabular(100)  # 80 to train after the split: 8 batches of 10.
    BatchEnds.counts = []
    search = make(tmp_path, max_trials=1, halving=False, warm_start=False,
                  training=keras_nas.Training(steps_per_execution=steps))
    search.fit(x, y, epochs=1, batch_size=10, callbacks=[BatchEnds()],
               verbose=0)
    assert BatchEnds.counts == [calls]
    expected = steps or keras_nas.engine.tuner.DEFAULT_STEPS_PER_EXECUTION
    assert search.best_model().steps_per_execution == expected


class FreezeCount(keras.callbacks.Callback):
    """Notes how many objects garbage collection leaves out, per trial."""

    seen = []

    def on_train_begin(self, logs=None):
        import gc

        FreezeCount.seen.append(gc.get_freeze_count())


def test_the_heap_before_the_search_is_frozen_during_it_only(tmp_path):
    import gc

    x, y = tabular(100)
    FreezeCount.seen = []
    search = make(tmp_path, max_trials=2, warm_start=False)
    search.fit(x, y, epochs=1, callbacks=[FreezeCount()], verbose=0)
    # Each trial's collections skipped what existed before the search...
    assert len(FreezeCount.seen) == 2
    assert all(count > 1000 for count in FreezeCount.seen)
    # ... and afterwards it is collected as usual again.
    assert gc.get_freeze_count() == 0


def test_a_heap_the_user_froze_stays_frozen(tmp_path):
    import gc

    x, y = tabular(100)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        search = make(tmp_path, max_trials=1, warm_start=False)
        search.fit(x, y, epochs=1, verbose=0)
        # Not unfrozen (frozen objects can still be freed by reference
        # counting, so the count may drop a little).
        assert gc.get_freeze_count() > 0.9 * frozen
    finally:
        gc.unfreeze()


def test_of_trials_tied_on_a_saturated_accuracy_the_lower_val_loss_wins(
        tmp_path):
    # Two far-apart clusters: every candidate reaches val_accuracy 1.0, so
    # the returned model is decided by the tie-breaker, the val_loss.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 900)
    x = (rng.normal(size=(900, 4)) + 4.0 * (2 * y[:, None] - 1)).astype(
        "float32")
    x, y, x_val, y_val = x[:800], y[:800], x[800:], y[800:]
    search = NASSearch(
        max_trials=4, seed=0, directory=str(tmp_path), project_name="p",
        space=keras_nas.SearchSpace(["dense-16", "dense-32"], max_depth=2),
        initial_architectures=[], warm_start=False, halving=False)
    search.fit(x, y, epochs=3, validation_data=(x_val, y_val), verbose=0)
    trials = [t for t in search.tuner.oracle.trials.values()
              if t.status == "COMPLETED"]
    tied = [t for t in trials if t.score == 1.0]
    assert len(tied) >= 2
    loss = {t.trial_id: t.metrics.get_last_value("val_loss") for t in tied}
    winner = min(tied, key=lambda t: loss[t.trial_id])
    assert winner.trial_id != tied[0].trial_id  # Not merely the first.
    assert search.best_architecture() == search.space_.decode(
        winner.hyperparameters)
    # The returned model is that trial's best epoch: its val_loss.
    got = search.best_model().evaluate(x_val, y_val, verbose=0,
                                       return_dict=True)
    assert abs(got["loss"] - loss[winner.trial_id]) < 1e-4
    # Keras Tuner's own ranking agrees.
    best = search.tuner.get_best_models(1)[0]
    assert best.count_params() == search.best_model().count_params()


def test_a_quiet_search_prints_nothing_and_names_its_strategy(
        tmp_path, capfd, caplog):
    # Seven trials of fresh models: TensorFlow warns that its train step
    # retraces from about the sixth on, unless the search holds that back.
    x, y = tabular(120)
    space = keras_nas.SearchSpace(["dense-16", "dense-32", "dropout"],
                                  max_depth=2)
    search = make(tmp_path, space=space, max_trials=7)
    capfd.readouterr()
    with caplog.at_level("WARNING"):
        search.fit(x, y, epochs=1, verbose=0)
        search.best_model()  # Its optimizer's variables load, none skipped.
        search.best_model(trial_id="0")
    out, err = capfd.readouterr()
    assert out == ""
    assert "retracing" not in err
    assert "Skipping variable loading" not in err
    said = [r.getMessage() for r in caplog.records]
    assert not any("retracing" in m or "Skipping variable" in m
                   for m in said), said
    # The report says the strategy as it was asked for, and what it became.
    search.summary()
    first = capfd.readouterr().out.splitlines()[0]
    assert "  strategy: auto (local search, ridge predictor)  " in first
    again = NASSearch.load(str(tmp_path), "p")
    again.summary()
    assert "strategy: auto (local search, ridge predictor)" in (
        capfd.readouterr().out)


def test_the_report_names_a_strategy_with_its_options(tmp_path, capsys):
    x, y = tabular(60)
    search = make(tmp_path, max_trials=1, space=keras_nas.SearchSpace(
        ["dense-16"], max_depth=1), strategy=keras_nas.Strategy(
            "evolution", population_size=4))
    search.fit(x, y, epochs=1, verbose=0)
    capsys.readouterr()
    search.summary()
    assert "  strategy: evolution (population_size=4)  " in (
        capsys.readouterr().out.splitlines()[0])
