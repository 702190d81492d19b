"""The data stage's checks and split, on arrays: what `fit` does with x and
y before any model is built."""

import numpy as np
import pytest

from keras_nas.data import prepare as data


def test_split_is_seeded_shuffled_and_disjoint():
    x = np.arange(20).reshape(20, 1)
    y = np.arange(20)
    (xt, yt), (xv, yv) = data.split(x, y, 0.25, seed=3)
    again = data.split(x, y, 0.25, seed=3)
    assert len(xv) == 5 and len(xt) == 15
    assert set(yt) | set(yv) == set(range(20)) and not set(yt) & set(yv)
    assert np.array_equal(again[1][1], yv)
    assert not np.array_equal(yv, np.arange(5))  # Shuffled.
    assert not np.array_equal(data.split(x, y, 0.25, seed=4)[1][1], yv)


@pytest.mark.parametrize("bad", [0, 1, 1.5, True, "0.2"])
def test_validation_split_must_be_a_fraction(bad):
    with pytest.raises(ValueError, match=r"`validation_split` must be a "
                       rf"fraction strictly between 0 and 1. Received: "
                       rf"validation_split={bad!r}"):
        data.check_split(bad)


def test_lengths_must_agree():
    with pytest.raises(ValueError, match=r"Received: 3 in x and 2 in y"):
        data.check_lengths(np.zeros((3, 2)), [0, 1])


def test_prepare_arrays_encodes_the_labels_and_holds_out_validation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype("float32")
    y = np.where(rng.random(40) > 0.5, "cat", "dog")
    prepared = data.prepare(x, y, validation_split=0.25, seed=0)
    assert prepared.input_shape == (6,)
    assert prepared.task.classes == ("cat", "dog")
    assert prepared.task.kind == "binary"
    xt, yt = prepared.x, prepared.y
    assert len(xt) == 30 and set(np.unique(yt)) <= {0, 1}
    x_all, y_all = prepared.all_data()
    assert len(x_all) == 40 and len(y_all) == 40


def test_load_digits_is_images_with_a_held_out_test_set():
    (x, y), (xt, yt) = data.load_digits()
    assert x.shape[1:] == (8, 8, 1) and xt.shape[1:] == (8, 8, 1)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(y)) == set(range(10))
    assert abs(len(xt) / (len(x) + len(xt)) - 0.2) < 0.01
