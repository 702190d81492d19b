"""Add your own op to the vocabulary and search over it.

A custom op is a factory returning a Keras layer. Left at that, it is taken
to keep the shape and to fit anywhere; its parameter count is measured by
building the one layer. Give `ranks=` and `output_shape=` when it changes the
shape. A layer class of your own needs `custom_objects` to load an exported
model; built-in layers, as here, do not.

    python examples/custom_op.py [--fast]
"""

import sys

import keras

import keras_nas

FAST = "--fast" in sys.argv

# Registered for every space, by name.
keras_nas.ops.register(
    "layernorm", lambda: keras.layers.LayerNormalization(), overwrite=True,
    doc="layer normalization over the last axis")

# A shape-changing op: a 1x1 projection to 8 channels, images only.
keras_nas.ops.register(
    "proj1x1-8", lambda: keras.layers.Conv2D(8, 1, activation="relu"),
    ranks=[3], output_shape=lambda s: s[:-1] + (8,), overwrite=True)

# Or passed to one space only, as a mapping from name to factory.
space = keras_nas.SearchSpace(
    {
        "conv3x3-32": None,          # a built-in op, by name
        "maxpool": None,
        "layernorm": None,
        "proj1x1-8": None,
        "swish": lambda: keras.layers.Activation("swish"),
    },
    max_depth=4,
)

(x_train, y_train), (x_test, y_test) = keras_nas.load_digits()
search = keras_nas.NASSearch(
    space=space, max_trials=2 if FAST else 8, directory="nas_runs",
    project_name="custom_op", overwrite=True, seed=0)
search.fit(x_train[:400] if FAST else x_train, y_train[:400] if FAST else y_train,
           epochs=1 if FAST else 5, verbose=0 if FAST else 1)
print(f"best architecture: {search.best_architecture()}")
print(f"test accuracy: {search.evaluate(x_test, y_test)[1]:.4f}")
