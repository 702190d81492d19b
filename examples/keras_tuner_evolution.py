"""EvolutionOracle in a plain Keras Tuner tuner, with your own hypermodel.

Keras Tuner has no evolutionary search; this is regularized evolution as a
`keras_tuner.Oracle`. On a plain HyperParameters space, a mutation draws one
active value anew.

    python examples/keras_tuner_evolution.py [--fast]
"""

import sys

import keras
import keras_tuner

import keras_nas
from keras_nas.strategies import EvolutionOracle

FAST = "--fast" in sys.argv


def build(hp):
    model = keras.Sequential([keras.Input((8, 8, 1))])
    for i in range(hp.Int("conv_layers", 1, 3)):
        model.add(keras.layers.Conv2D(hp.Choice(f"filters_{i}", [16, 32, 64]),
                                      3, padding="same", activation="relu"))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(hp.Choice("units", [32, 64, 128]),
                                 activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(
            hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


tuner = keras_tuner.Tuner(
    oracle=EvolutionOracle(
        objective="val_accuracy", max_trials=3 if FAST else 20,
        population_size=2 if FAST else 8, sample_size=2, seed=0),
    hypermodel=build,
    directory="nas_runs", project_name="kt_evolution", overwrite=True,
)
(x_train, y_train), (x_test, y_test) = keras_nas.load_digits()
tuner.search(x_train, y_train, validation_split=0.2,
             epochs=1 if FAST else 5, verbose=0 if FAST else 1)
best = tuner.get_best_hyperparameters(1)[0]
print(f"best hyperparameters: {best.values}")
print(f"test accuracy: {tuner.get_best_models(1)[0].evaluate(x_test, y_test, verbose=0)[1]:.4f}")
