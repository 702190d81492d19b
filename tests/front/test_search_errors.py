"""Every bad input is refused before any training, naming the problem."""

import glob
import os

import keras_tuner
import numpy as np
import pytest

import keras_nas
from keras_nas import NASSearch

X = np.random.default_rng(0).normal(size=(40, 6)).astype("float32")
Y = np.arange(40) % 2


def nan_x():
    x = X.copy()
    x[3, 2] = np.nan
    return x


def inf_y():
    y = np.linspace(0, 1, 40)
    y[5] = np.inf
    return y


@pytest.mark.parametrize(
    "fit_kwargs, match",
    [
        (dict(x=X, y=Y[:30]), r"same number of samples.*40 in x and 30 in y"),
        (dict(x=X[:0], y=Y[:0]), r"`x` is empty"),
        (dict(x=nan_x(), y=Y), r"`x` holds 1 NaN or infinite value"),
        (dict(x=X, y=inf_y()), r"`y` holds 1 NaN or infinite value"),
        (dict(x=X, y=np.zeros(40, int)), r"single class"),
        (dict(x=X, y=np.ones((40, 3), int) * 2), r"not one-hot"),
        (dict(x=X, y=np.zeros((40, 2, 2))), r"shape \(samples,\) or \(samples, targets\)"),
        (dict(x=X, y=Y, validation_split=0.0), r"validation_split=0.0"),
        (dict(x=X, y=Y, validation_split=1.0), r"validation_split=1.0"),
        (dict(x=X, y=Y, validation_split=-0.2), r"validation_split=-0.2"),
        (dict(x=X, y=None), r"`y` is required"),
        (dict(x=X, y=Y, epochs=0), r"`epochs` must be an integer of at least 1"),
        (dict(x=X, y=Y, validation_data=(X[:, :3], Y)), r"shape of `x`"),
        (dict(x=X, y=Y, validation_data=(X, np.full(40, 7))), r"label 7, which the search never saw"),
        (dict(x=X, y=Y, validation_split=0.2, validation_data=(X, Y)), r"not both"),
        (dict(x=X[:, :, None, None, None], y=Y), r"must be of shape \(samples, features\)"),
    ],
)
def test_bad_data_is_refused_before_training(tmp_path, fit_kwargs, match):
    search = NASSearch(directory=str(tmp_path), max_trials=2)
    with pytest.raises(ValueError, match=match):
        search.fit(verbose=0, **fit_kwargs)
    assert glob.glob(os.path.join(str(tmp_path), "**", "trial_*"), recursive=True) == []


def test_objective_the_models_never_produce(tmp_path):
    search = NASSearch(directory=str(tmp_path), objective="val_auc", max_trials=2)
    with pytest.raises(ValueError, match=r"'val_auc' is never produced.*val_accuracy"):
        search.fit(X, Y, verbose=0)
    search = NASSearch(directory=str(tmp_path), objective="val_widget", max_trials=2)
    with pytest.raises(ValueError, match=r"maximize or minimize.*keras_tuner.Objective"):
        search.fit(X, Y, verbose=0)


def test_input_shape_that_no_op_sequence_can_handle(tmp_path):
    space = keras_nas.SearchSpace(["conv3x3-16", "maxpool"])
    search = NASSearch(space=space, directory=str(tmp_path), max_trials=2)
    with pytest.raises(ValueError, match=r"No op sequence.*input shape \(6,\) \(tabular\)"):
        search.fit(X, Y, verbose=0)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(strategy="genetic"), ValueError, r"Unknown `strategy`: 'genetic'.*evolution"),
        (dict(max_trials=0), ValueError, r"`max_trials` must be an integer of at least 1. Received: max_trials=0"),
        (dict(max_trials=2.5), ValueError, r"max_trials=2.5"),
        (dict(space=["dense-16"]), TypeError, r"`space` must be a `keras_nas.SearchSpace`"),
        (dict(objective=3), TypeError, r"`objective` must be a metric name"),
        (dict(task="ranking"), ValueError, r"task='ranking'"),
        (dict(max_time_s=0), ValueError, r"`max_time_s` must be a positive number of seconds or None. Received: max_time_s=0"),
        (dict(training={"patience": 1}), TypeError, r"`training` must be a `keras_nas.Training`"),
        (dict(engine=keras_nas.KerasTunerEngine), ValueError, r"`engine` must be one of"),
    ],
)
def test_bad_arguments_at_construction(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        NASSearch(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(head="pool"), r"`head` must be one of"),
        (dict(max_consecutive_failed_trials=0), r"max_consecutive_failed_trials"),
        (dict(steps_per_execution=0), r"`steps_per_execution` must be a positive integer or None. Received: steps_per_execution=0"),
        (dict(steps_per_execution=True), r"steps_per_execution=True"),
    ],
)
def test_bad_training_options_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_nas.Training(**kwargs)


def test_explicit_objective_object(tmp_path):
    search = NASSearch(directory=str(tmp_path), max_trials=1,
                       objective=keras_tuner.Objective("val_loss", "min"))
    search.fit(X, Y, epochs=1, verbose=0)
    assert search.tuner.oracle.objective.name == "val_loss"


@pytest.mark.parametrize("method, args", [
    ("results", ()), ("objectives", ()), ("summary", ()),
    ("pareto_front", ()), ("best_architecture", ()), ("best_model", ()),
    ("importance", ()), ("evaluate", (np.zeros((2, 4)), [0, 1])),
    ("predict", (np.zeros((2, 4)),)), ("retrain", ()),
    ("export", ("model.keras",)), ("plot_history", ()),
    ("plot_tradeoff", ()), ("plot_importance", ()),
])
def test_every_reading_method_says_no_search_yet(method, args):
    # Not an AttributeError on None: the clear error summary() gives.
    search = NASSearch()
    with pytest.raises(RuntimeError, match=r"No search yet: call `fit\(x, "
                       r"y\)` first, or `NASSearch.load"):
        getattr(search, method)(*args)
