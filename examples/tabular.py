"""A tabular task: scikit-learn's breast cancer set (30 features, 2 classes).

Tabular input (features,) gets the dense family; the head is one sigmoid unit
because there are two classes. `SearchSpace(max_params=...)` caps the model size.

    python examples/tabular.py [--fast]
"""

import sys

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import keras_nas

FAST = "--fast" in sys.argv

x, y = load_breast_cancer(return_X_y=True)
x = ((x - x.mean(0)) / x.std(0)).astype("float32")
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, random_state=0, stratify=y)

search = keras_nas.NASSearch(
    space=keras_nas.SearchSpace(max_params=20_000),
    max_trials=2 if FAST else 15,
    directory="nas_runs", project_name="tabular", overwrite=True, seed=0,
)
search.fit(x_train, y_train, epochs=2 if FAST else 20, verbose=0 if FAST else 1)
search.summary()
print(f"test accuracy: {search.evaluate(x_test, y_test)[1]:.4f}")
