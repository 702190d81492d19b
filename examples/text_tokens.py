"""Text from integer tokens: which of two topics a "document" is about.

Each sample is 30 token ids. `SearchSpace("text-blocks")` (kind `"text"`)
puts a token and position embedding in front of every candidate; the
vocabulary size is inferred from the training tokens (max id + 1) when the
search starts, or given as `vocabulary_size=`.

    python examples/text_tokens.py [--fast]
"""

import sys

import numpy as np

import keras_nas

FAST = "--fast" in sys.argv


def documents(n, steps=30, vocabulary=200, seed=0):
    # Two topics, each with 10 telling words among many shared ones.
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.integers(20, vocabulary, (n, steps))
    telling = rng.random((n, steps)) < 0.15
    words = rng.integers(0, 10, (n, steps)) + 10 * y[:, None]
    x = np.where(telling, words, x)
    return x.astype("float32"), y


x_train, y_train = documents(150 if FAST else 2000)
x_test, y_test = documents(300, seed=1)

search = keras_nas.NASSearch(
    space=keras_nas.SearchSpace("text-blocks", max_depth=2 if FAST else 4,
                                embedding_dim=16 if FAST else 32),
    max_trials=1 if FAST else 10,
    directory="nas_runs", project_name="text_tokens", overwrite=True, seed=0,
)
search.fit(x_train, y_train, epochs=1 if FAST else 8, verbose=0 if FAST else 1)
print(f"best architecture: {search.best_architecture()}")
print(f"test accuracy: {search.evaluate(x_test, y_test)[1]:.4f}")
