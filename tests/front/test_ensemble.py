"""`search.ensemble(size)` (front/ensemble.py): one `keras.Model` of the
trials' best models, chosen on their saved validation predictions, that
exports and reloads as the single best model does, after
`NASSearch.load` too, and from `keras-nas export --ensemble`."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import keras_nas
from keras_nas import cli
from keras_nas.engine import predictions
from tests.conftest import digits

ARCHITECTURES = [["conv3x3-16", "maxpool", "dense-32"],
                 ["convbnrelu3x3-16", "maxpool", "dense-32"],
                 ["dense-32"]]


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    (x, y), _ = digits(n=300)
    s = keras_nas.NASSearch(
        space=keras_nas.SearchSpace(
            ops=sorted({op for ops in ARCHITECTURES for op in ops}),
            max_depth=3),
        max_trials=3, initial_architectures=ARCHITECTURES, seed=0,
        warm_start=False, halving=False,
        directory=str(tmp_path_factory.mktemp("runs")), project_name="e")
    return s.fit(x, y, epochs=2, validation_split=0.25, verbose=0)


@pytest.fixture(scope="module")
def planted(search, tmp_path_factory):
    """A copy of the search, reopened, whose trials 0 and 1 have planted
    complementary predictions (each sure of its half of the validation
    samples, wrong on the other): the greedy selection takes both."""
    folder = tmp_path_factory.mktemp("planted")
    shutil.copytree(search.project_dir, folder / "e")
    y = np.load(folder / "e" / predictions.LABELS)
    n = len(y)
    for trial_id, sure in (("0", np.arange(n) < n // 2),
                           ("1", np.arange(n) >= n // 2)):
        p = np.full((n, 10), 0.01, "float32")
        p[np.arange(n), y] = np.where(sure, 0.91, 0.42)
        p[np.arange(n), (y + 1) % 10] = np.where(sure, 0.01, 0.50)
        np.save(folder / "e" / f"trial_{trial_id}" / predictions.PREDICTIONS,
                p)
    return keras_nas.NASSearch.load(str(folder), "e")


def record(s):
    with open(os.path.join(s.project_dir, "ensemble.json")) as f:
        return json.load(f)


def test_each_trial_saved_its_best_epochs_validation_predictions(search):
    x_val, y_val = search.results_.data.validation
    labels = np.load(os.path.join(search.project_dir, predictions.LABELS))
    np.testing.assert_array_equal(labels, y_val)
    for r in search.results():
        assert r.status == "COMPLETED"
        saved = np.load(os.path.join(search.project_dir,
                                     f"trial_{r.trial_id}",
                                     predictions.PREDICTIONS))
        assert saved.shape == (len(x_val), 10) and saved.dtype == "float32"
        np.testing.assert_allclose(
            saved, search.best_model(r.trial_id).predict(x_val, verbose=0),
            atol=1e-5)


def test_an_ensemble_of_one_member_predicts_as_that_member(search):
    model = search.ensemble(size=1)
    info = record(search)
    assert info["picks"] == info["members"] and info["weights"] == [1.0]
    member = search.best_model(info["members"][0])
    _, (x, y) = digits()
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               member.predict(x, verbose=0))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                               member.evaluate(x, y, verbose=0), rtol=1e-5)


def test_the_record_and_the_summary_state_members_and_cost(search, capsys):
    model = search.ensemble(size=4)
    info = record(search)
    assert sum(info["weights"]) == pytest.approx(1.0)
    assert len(info["picks"]) <= 4 and info["skipped"] == 0
    assert info["candidates"] == 3 and info["budget"] == {}
    cost = info["cost"]["ensemble"]
    assert cost["params"] == model.count_params()
    assert info["single_best"] == search.results_.best_trial().trial_id
    loss = info["validation"]["ensemble"]["loss"]
    assert loss <= info["validation"]["per_pick"][0]
    search.summary()
    out = capsys.readouterr().out
    assert f"Ensemble (ensemble.json): {len(info['members'])} model(s)" in out
    assert f"{cost['params']:,} params (single best" in out


def test_budgets_and_bad_sizes_are_refused_before_any_work(search):
    best = search.results_.best_trial().trial_id
    params = {r.trial_id: r.params for r in search.results()}[best]
    with pytest.raises(ValueError) as e:
        search.ensemble(budget={"params": 10})
    message = str(e.value)
    assert "budget={'params': 10}" in message
    assert f"trial {best} costs params={params}" in message
    for size in (0, "2", True):
        with pytest.raises(ValueError, match="`size` must be an integer"):
            search.ensemble(size=size)
    with pytest.raises(ValueError, match="keys are among"):
        search.ensemble(budget={"weights": 10})


def test_no_saved_predictions_is_refused(search, tmp_path):
    shutil.copytree(search.project_dir, tmp_path / "e")
    for name in os.listdir(tmp_path / "e"):
        path = tmp_path / "e" / name / predictions.PREDICTIONS
        if path.exists():
            path.unlink()
    again = keras_nas.NASSearch.load(str(tmp_path), "e")
    with pytest.raises(RuntimeError, match="No completed trial of this "
                       "search has saved validation predictions"):
        again.ensemble()


def test_after_load_the_ensemble_is_the_same(search, planted):
    search.ensemble(size=3)
    first = record(search)
    again = keras_nas.NASSearch.load(search.directory, search.project_name)
    again.ensemble(size=3)
    assert record(again) == first
    planted.ensemble(size=5)
    assert sorted(record(planted)["members"]) == ["0", "1"]
    assert record(planted)["weights"] == [0.5, 0.5]


def test_results_give_each_members_weight_in_the_last_ensemble(planted,
                                                               capsys):
    planted.ensemble(size=5)
    weights = {r.trial_id: r.ensemble_weight for r in planted.results()}
    assert weights == {"0": 0.5, "1": 0.5, "2": None}
    reopened = keras_nas.NASSearch.load(os.path.dirname(planted.project_dir),
                                        "e")
    assert reopened.results() == planted.results()
    capsys.readouterr()
    planted.summary()
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines)
                  if line.lstrip().startswith("trial"))
    assert "ensemble" in lines[header].split()
    rows = {line[1:5].strip(): line for line in lines[header + 2:header + 5]}
    assert "x0.50" in rows["0"] and "x0.50" in rows["1"]
    assert "x0." not in rows["2"]


def test_keras_file_round_trip_in_a_fresh_process(planted, tmp_path):
    info = json.loads(open(planted.export(tmp_path / "e.keras",
                                          ensemble=2)).read())
    assert info["kind"] == "ensemble" and info["checks"]["passed"]
    assert sorted(m["trial_id"] for m in info["members"]) == ["0", "1"]
    _, (x, _) = digits()
    np.save(tmp_path / "x.npy", x)
    code = ("import sys, keras, keras_nas, numpy as np; "
            "m = keras.models.load_model(sys.argv[1]); "
            "np.save(sys.argv[3], m.predict(np.load(sys.argv[2]), verbose=0))")
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "e.keras"),
         str(tmp_path / "x.npy"), str(tmp_path / "p.npy")],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True,
        text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    expected = planted.ensemble(size=2).predict(x, verbose=0)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["e.onnx", "e.tflite", "e_served"])
def test_a_two_member_ensemble_passes_the_parity_check(planted, tmp_path,
                                                       name):
    x, y = digits()[1]
    info = json.loads(open(planted.export(
        tmp_path / name, ensemble=2, validation_data=(x, y))).read())
    assert info["checks"]["passed"] and info["checks"]["inputs"] == "validation"
    assert info["checks"]["class_agreement"] >= 0.999
    assert [m["weight"] for m in info["members"]] == [0.5, 0.5]
    assert sorted(os.listdir(tmp_path)) == sorted(
        [name, name.rsplit(".", 1)[0] + ".json"])


def test_keras_nas_export_ensemble_and_report(planted, tmp_path, capsys):
    out = tmp_path / "out.keras"
    assert cli.main(["export", planted.project_dir, str(out),
                     "--ensemble", "2"]) == 0
    info = json.loads((tmp_path / "out.json").read_text())
    assert sorted(m["trial_id"] for m in info["members"]) == ["0", "1"]
    capsys.readouterr()
    assert cli.main(["report", planted.project_dir]) == 0
    printed = capsys.readouterr().out
    assert "Ensemble (ensemble.json): 2 model(s) in 2 pick(s)" in printed
    assert "params (single best" in printed
    assert cli.main(["export", planted.project_dir, str(out),
                     "--ensemble", "0"]) == 2
    assert "--ensemble must be at least 1" in capsys.readouterr().err


def test_an_evolution_for_the_ensemble_draws_parents_from_saved_predictions(
        tmp_path):
    from keras_nas.strategies import strategy_of

    (x, y), _ = digits(n=200)
    s = keras_nas.NASSearch(
        space=keras_nas.SearchSpace(["conv3x3-16", "maxpool", "dense-16"],
                                    max_depth=3),
        strategy=keras_nas.Strategy("evolution", population_size=2,
                                    ensemble_size=3),
        # 10: packed training proposes up to 8 at once before any ends.
        max_trials=10, seed=0, warm_start=False, halving=False,
        directory=str(tmp_path), project_name="nes")
    s.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    oracle = strategy_of(s.results_.tuner.oracle)
    assert oracle.ensemble_size == 3 and oracle.ensemble
    assert set(oracle.ensemble) <= {r.trial_id for r in s.results()}
    again = keras_nas.NASSearch.load(str(tmp_path), "nes")
    reopened = strategy_of(again.results_.tuner.oracle)
    assert reopened.ensemble == oracle.ensemble
    assert reopened.ensemble_selector(oracle.population, 3)
