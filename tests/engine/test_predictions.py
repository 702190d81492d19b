"""Each trial's validation predictions, saved with it (engine/predictions.py):
the rows a model predicts, the labels once per search, a pass of a tf.data
validation set in order, and no change to what a trial reports."""

import logging
import os
import types

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas.engine import predictions
from tests.conftest import tabular


def fake_tuner(tmp_path):
    def trial_dir(trial_id):
        path = tmp_path / f"trial_{trial_id}"
        path.mkdir(exist_ok=True)
        return str(path)

    return types.SimpleNamespace(project_dir=str(tmp_path),
                                 get_trial_dir=trial_dir)


def test_predictions_are_the_models_rows_and_labels_are_kept_once(
        tmp_path, caplog):
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(2, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(300, 3)).astype("float32")
    y = np.arange(300) % 2
    np.testing.assert_allclose(predictions.predict(model, x),
                               model.predict(x, verbose=0), atol=1e-6)
    tuner = fake_tuner(tmp_path)
    path = predictions.save(tuner, "0", model, (x, y))
    assert path == str(tmp_path / "trial_0" / predictions.PREDICTIONS)
    saved = np.load(path)
    assert saved.shape == (300, 2) and saved.dtype == "float32"
    np.testing.assert_array_equal(
        np.load(tmp_path / predictions.LABELS), y)
    assert predictions.save(tuner, "1", model, (x, y)) is not None
    # Other labels (a reshuffled dataset): nothing saved, a warning.
    with caplog.at_level(logging.WARNING, logger="keras_nas"):
        assert predictions.save(tuner, "2", model, (x, y[::-1])) is None
    assert not os.path.exists(tmp_path / "trial_2" / predictions.PREDICTIONS)
    assert "differ from those saved" in caplog.text
    np.testing.assert_array_equal(np.load(tmp_path / predictions.LABELS), y)
    assert predictions.save(tuner, "3", model, None) is None


def test_a_tf_data_validation_set_is_read_once_in_order(tmp_path):
    tf = pytest.importorskip("tensorflow")
    x, y = tabular(160)
    train = tf.data.Dataset.from_tensor_slices((x[:120], y[:120])).batch(16)
    val = tf.data.Dataset.from_tensor_slices((x[120:], y[120:])).batch(16)
    search = keras_nas.NASSearch(max_trials=1, seed=0, warm_start=False,
                                 directory=str(tmp_path))
    search.fit(train, validation_data=val, epochs=1, verbose=0)
    saved = np.load(os.path.join(search.project_dir, "trial_0",
                                 predictions.PREDICTIONS))
    assert saved.shape == (40, 1)  # Binary: one sigmoid.
    np.testing.assert_allclose(
        saved, search.best_model().predict(x[120:], verbose=0), atol=1e-5)
    labels = np.load(os.path.join(search.project_dir, predictions.LABELS))
    np.testing.assert_array_equal(labels, y[120:])


def test_saving_predictions_changes_no_trials_metrics(tmp_path, monkeypatch):
    x, y = tabular(150)

    def metrics(name):
        search = keras_nas.NASSearch(
            max_trials=2, seed=0, warm_start=False, directory=str(tmp_path),
            project_name=name)
        search.fit(x, y, epochs=2, verbose=0)
        return [(r.ops, r.value, r.epochs) for r in search.results()]

    with_predictions = metrics("with")
    monkeypatch.setattr(predictions, "save", lambda *args: None)
    assert metrics("without") == with_predictions
    assert not os.path.exists(tmp_path / "without" / predictions.LABELS)
