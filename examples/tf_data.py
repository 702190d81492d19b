"""A tf.data pipeline as input (TensorFlow backend).

Pass a dataset of (x, y) batches as `x`, and another as `validation_data`.
The input shape and the classes are read from the datasets.

    python examples/tf_data.py [--fast]
"""

import sys

import tensorflow as tf

import keras_nas

FAST = "--fast" in sys.argv

(x_train, y_train), (x_test, y_test) = keras_nas.load_digits()
n_val = len(x_train) // 5


def pipeline(x, y, shuffle=False):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=0)
    return ds.batch(32).prefetch(tf.data.AUTOTUNE)


train = pipeline(x_train[n_val:], y_train[n_val:], shuffle=True)
val = pipeline(x_train[:n_val], y_train[:n_val])
if FAST:
    train = train.take(8)

search = keras_nas.NASSearch(
    space=keras_nas.SearchSpace(max_depth=4),
    max_trials=2 if FAST else 8,
    directory="nas_runs", project_name="tf_data", overwrite=True, seed=0)
search.fit(train, validation_data=val, epochs=1 if FAST else 5,
           verbose=0 if FAST else 1)
loss, accuracy = search.evaluate(pipeline(x_test, y_test))
print(f"best architecture: {search.best_architecture()}")
print(f"test accuracy: {accuracy:.4f}")
