"""Search a small CNN for scikit-learn's 8x8 digits, then export it.

    python examples/digits.py          # about a minute on 2 CPU cores
    python examples/digits.py --fast   # a few seconds, for the tests
"""

import sys

import keras_nas

FAST = "--fast" in sys.argv

(x_train, y_train), (x_test, y_test) = keras_nas.load_digits()
if FAST:
    x_train, y_train = x_train[:300], y_train[:300]

search = keras_nas.NASSearch(
    space=keras_nas.SearchSpace(max_depth=5),  # conv/pool/dense for images
    strategy="evolution",
    max_trials=2 if FAST else 12,
    directory="nas_runs",
    project_name="digits",
    overwrite=True,
    seed=0,
)
search.fit(x_train, y_train, epochs=1 if FAST else 5, verbose=0 if FAST else 1)

loss, accuracy = search.evaluate(x_test, y_test)
print(f"best architecture: {search.best_architecture()}")
print(f"test accuracy: {accuracy:.4f}")
search.export("nas_runs/digits_best.keras")  # loads with keras.models.load_model
