"""The TensorFlow-only features: tf.data input and tf.distribute in a trial."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="tf.data input needs TensorFlow")

from keras_nas import NASSearch, Training

from tests.conftest import tabular


def datasets(n=160):
    x, y = tabular(n)
    labels = np.where(y == 1, 7, 3)  # Classes need not be 0..k-1.
    train = tf.data.Dataset.from_tensor_slices((x[:120], labels[:120])).batch(16)
    val = tf.data.Dataset.from_tensor_slices((x[120:], labels[120:])).batch(16)
    return train, val


def test_tf_data_input(tmp_path):
    train, val = datasets()
    search = NASSearch(max_trials=1, seed=0, directory=str(tmp_path))
    search.fit(train, validation_data=val, epochs=2, verbose=0)
    assert search.task_.classes == (3, 7)
    assert search.space_.input_shape == (30,)
    loss, acc = search.evaluate(val)
    assert search.results()[0].status == "COMPLETED"
    # evaluate() encodes the dataset's labels (3 and 7) as the model's
    # classes: its accuracy is the fraction predicted right.
    xv, yv = np.concatenate([a for a, _ in val]), np.concatenate(
        [b for _, b in val])
    assert search.task_.kind == "binary"  # One sigmoid unit for class 7.
    predicted = np.array(search.task_.classes)[
        (search.predict(xv)[:, 0] > 0.5).astype(int)]
    assert acc == pytest.approx(float(np.mean(predicted == yv)), abs=1e-6)


def test_tf_data_needs_dataset_validation(tmp_path):
    train, _ = datasets()
    search = NASSearch(max_trials=1, directory=str(tmp_path))
    with pytest.raises(ValueError, match="`validation_data` must be a tf.data.Dataset"):
        search.fit(train, verbose=0)
    with pytest.raises(ValueError, match="cannot split a tf.data.Dataset"):
        search.fit(train, validation_split=0.2, verbose=0)
    unbatched = tf.data.Dataset.from_tensor_slices((np.zeros((4, 3)), np.zeros(4)))
    with pytest.raises(ValueError, match=r"Batch the dataset"):
        search.fit(unbatched, validation_data=unbatched, verbose=0)


def test_distribution_strategy_inside_a_trial(tmp_path):
    x, y = tabular(100)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    search = NASSearch(max_trials=1, seed=0, directory=str(tmp_path),
                       training=Training(distribution_strategy=strategy))
    search.fit(x, y, epochs=1, verbose=0)
    assert search.results()[0].status == "COMPLETED"
    assert search.best_model().count_params() == search.results()[0].params
