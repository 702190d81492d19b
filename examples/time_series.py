"""A time series with recurrent and attention blocks: two noisy pulses far
apart in 40 steps; the class is whether their signs differ.

`SearchSpace("sequence-blocks")` holds LSTM, GRU (bidirectional too),
Transformer encoder and conv-BN-ReLU blocks, pooling over time and dense
layers. Recurrent blocks return the whole sequence, so every proposed stack
is valid; an LSTM after global pooling is never proposed.

    python examples/time_series.py [--fast]
"""

import sys

import numpy as np

import keras_nas

FAST = "--fast" in sys.argv


def pulses(n, steps=40, seed=0):
    rng = np.random.default_rng(seed)
    x = 0.5 * rng.normal(size=(n, steps, 2))
    signs = rng.choice([-1.0, 1.0], (n, 2))
    a, b = rng.integers(0, 10, n), rng.integers(28, 37, n)
    for i in range(n):
        x[i, a[i]:a[i] + 3, 0] += 2 * signs[i, 0]
        x[i, b[i]:b[i] + 3, 1] += 2 * signs[i, 1]
    return x.astype("float32"), (signs[:, 0] != signs[:, 1]).astype("int32")


x_train, y_train = pulses(120 if FAST else 2000)
x_test, y_test = pulses(200, seed=1)

search = keras_nas.NASSearch(
    space=keras_nas.SearchSpace("sequence-blocks", max_depth=2 if FAST else 4),
    max_trials=1 if FAST else 10,
    directory="nas_runs", project_name="time_series", overwrite=True, seed=0,
)
search.fit(x_train, y_train, epochs=1 if FAST else 10, verbose=0 if FAST else 1)
print(f"best architecture: {search.best_architecture()}")
print(f"test accuracy: {search.evaluate(x_test, y_test)[1]:.4f}")
