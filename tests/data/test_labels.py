"""Labels as Keras users write them: one-hot rows, multi-label rows, class
and sample weights, and data too small for a search (`data/labels.py`)."""

import json

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas.data.labels import check_class_weight, infer_task
from keras_nas.data.prepare import prepare
from keras_nas.data.task import Task

from tests.conftest import digits, tabular


def small(tmp_path, name, **kwargs):
    kwargs.setdefault("space", keras_nas.SearchSpace(
        ["dense-16", "dense-32"], max_depth=1))
    kwargs.setdefault("max_trials", 2)
    return keras_nas.NASSearch(
        seed=0, directory=str(tmp_path), project_name=name,
        initial_architectures=[], warm_start=False, **kwargs)


def test_one_hot_rows_are_the_classes_of_the_integer_labels():
    y = np.arange(50) % 5
    rows = keras.utils.to_categorical(y)  # float32, as Keras gives them.
    task, integers = infer_task(rows), infer_task(y)
    assert (task.kind, task.labels, task.output_units, task.activation) == (
        "multiclass", "one-hot", 5, "softmax")
    assert task.encode(rows).tolist() == integers.encode(y).tolist()
    # Two one-hot columns keep a softmax, so predictions match the labels.
    pair = infer_task(keras.utils.to_categorical(y % 2))
    assert (pair.kind, pair.output_units) == ("multiclass", 2)
    assert pair.encode(keras.utils.to_categorical([1, 0])).tolist() == [1, 0]
    # Float columns that are not 0/1 are still a regression.
    assert infer_task(np.linspace(0, 1, 100).reshape(50, 2)).kind == (
        "regression")


def test_rows_of_zeros_and_ones_that_do_not_sum_to_one_are_multi_label():
    y = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 1], [1, 1, 1]], "float32")
    task = infer_task(y)
    assert (task.kind, task.loss, task.activation, task.output_units) == (
        "multilabel", "binary_crossentropy", "sigmoid", 3)
    metric = task.metrics()[0]
    assert isinstance(metric, keras.metrics.BinaryAccuracy)
    assert task.objective().name == "val_accuracy"
    assert Task.from_config(task.get_config()) == task
    with pytest.raises(ValueError, match=r"rows of 0/1 of shape \(samples, 3\)"):
        task.encode(np.ones((2, 4)))


def test_class_weight_keys_are_the_labels_classes():
    task = infer_task(np.array(["cat", "dog", "eel"] * 4))
    assert check_class_weight({"dog": 3, "cat": 1.0}, task) == {1: 3.0, 0: 1.0}
    with pytest.raises(ValueError, match=r"names 'dgo', which is not a class.*'cat', 'dog', 'eel'"):
        check_class_weight({"dgo": 2.0}, task)
    with pytest.raises(ValueError, match=r"finite numbers of at least 0.*'cat': -1"):
        check_class_weight({"cat": -1}, task)
    with pytest.raises(ValueError, match=r"needs a classification task.*'regression'"):
        check_class_weight({0: 1.0}, Task("regression"))


def test_class_and_sample_weights_together_fold_into_sample_weights():
    # Keras' `fit` takes one or the other; a class weight multiplies the
    # weight of each sample of its class.
    x, y = np.zeros((20, 3), "float32"), np.array(["a", "b"] * 10)
    w = np.arange(20, dtype="float32")
    data = prepare(x, y, class_weight={"b": 3.0}, sample_weight=w)
    assert data.class_weight is None and "class_weight" not in (
        data.fit_arguments(8))
    x_all, y_all = data.all_data()
    weights = data.all_weights()["sample_weight"]
    # Each sample keeps its own weight, times 3 for class "b" (index 1).
    assert sorted(weights / np.where(y_all == 1, 3.0, 1.0)) == (
        pytest.approx(sorted(w)))
    assert sorted(weights) != pytest.approx(sorted(w))


@pytest.mark.parametrize("fit_kwargs, match", [
    (dict(x=np.zeros((8, 3)), y=np.arange(8) % 2), r"at least 10 samples.*Received: 8"),
    (dict(x=np.zeros((30, 3)), y=np.arange(30) % 10), r"6 samples for 10 classes"),
    (dict(x=np.zeros((30, 3)), y=np.arange(30) % 2, sample_weight=np.ones(29)),
     r"`sample_weight` must hold one weight.*\(30,\). Received: shape \(29,\)"),
    (dict(x=np.zeros((30, 3)), y=np.arange(30) % 2, class_weight={2: 1.0}),
     r"`class_weight` names 2, which is not a class"),
])
def test_bad_weights_and_too_little_data_are_refused_before_training(
        tmp_path, fit_kwargs, match):
    search = small(tmp_path, "bad")
    with pytest.raises(ValueError, match=match):
        search.fit(verbose=0, **fit_kwargs)
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_one_hot_search_is_the_integer_search(tmp_path, capsys):
    (x, y), (xt, yt) = digits(200)
    by_index = small(tmp_path, "int", max_trials=1).fit(
        x, y, epochs=1, verbose=0)
    by_rows = small(tmp_path, "rows", max_trials=1).fit(
        x, keras.utils.to_categorical(y), epochs=1, verbose=0)
    assert by_rows.tuner.oracle.objective.name == "val_accuracy"
    assert [(r.ops, round(r.value, 4)) for r in by_rows.results()] == [
        (r.ops, round(r.value, 4)) for r in by_index.results()]
    assert by_rows.predict(xt[:4]).shape == (4, 10)
    loss, accuracy = by_rows.evaluate(xt, keras.utils.to_categorical(yt))
    assert accuracy == pytest.approx(by_index.evaluate(xt, yt)[1])
    by_rows.summary()
    assert "Task: multiclass (10 classes, from one-hot rows)" in capsys.readouterr().out
    info = json.load(open(by_rows.export(str(tmp_path / "m.keras"))))
    assert info["task"]["kind"] == "multiclass" and info["task"]["labels"] == "one-hot"


@pytest.mark.slow
def test_multi_label_search_end_to_end(tmp_path):
    x, y = tabular(240)
    # Three labels of the breast cancer features: the class, and two more.
    labels = np.stack([y, (x[:, 0] > 0), (x[:, 1] > 0.5)], axis=1).astype(
        "float32")
    search = small(tmp_path, "multi", max_trials=1).fit(
        x, labels, epochs=3, verbose=0)
    assert search.task_.kind == "multilabel"
    model = search.best_model()
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert model.loss == "binary_crossentropy"
    p = search.predict(x[:5])
    assert p.shape == (5, 3) and ((p >= 0) & (p <= 1)).all()
    assert all(r.value is not None and r.value > 0.6 for r in search.results())


@pytest.mark.slow
def test_class_weight_changes_the_trained_model(tmp_path):
    x, y = tabular(200)
    plain = small(tmp_path, "plain", max_trials=1).fit(
        x, y, epochs=2, verbose=0)
    heavy = small(tmp_path, "heavy", max_trials=1).fit(
        x, y, epochs=2, verbose=0, class_weight={0: 1.0, 1: 50.0})
    p_plain, p_heavy = (s.predict(x)[:, 0] for s in (plain, heavy))
    # Class 1 weighs more: nearly every sample is pushed towards it.
    assert (p_heavy > p_plain).mean() > 0.75
    assert p_heavy.mean() > p_plain.mean()
    before = heavy.predict(x)
    heavy.retrain(epochs=1)
    assert not np.allclose(heavy.predict(x), before)
