"""A 1-D sequence task: tell three noisy waves apart by their frequency.

Sequences of shape (steps, features) get the 1-D ops: conv3-32, maxpool, ...

    python examples/sequence.py [--fast]
"""

import sys

import numpy as np

import keras_nas

FAST = "--fast" in sys.argv


def waves(n, steps=50, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    t = np.linspace(0, 1, steps)
    freq = np.array([2.0, 5.0, 9.0])[y]
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    x = np.sin(2 * np.pi * freq[:, None] * t + phase)[..., None]
    x = x + 0.3 * rng.normal(size=(n, steps, 3))
    return x.astype("float32"), y


x_train, y_train = waves(200 if FAST else 1200)
x_test, y_test = waves(300, seed=1)

search = keras_nas.NASSearch(
    space=keras_nas.SearchSpace(
        ["conv3-16", "conv5-32", "sepconv3-32", "maxpool", "gap", "dense-64",
         "dropout", "batchnorm"], max_depth=5),
    max_trials=2 if FAST else 10,
    directory="nas_runs", project_name="sequence", overwrite=True, seed=0,
)
search.fit(x_train, y_train, epochs=1 if FAST else 8, verbose=0 if FAST else 1)
print(f"best architecture: {search.best_architecture()}")
print(f"test accuracy: {search.evaluate(x_test, y_test)[1]:.4f}")
