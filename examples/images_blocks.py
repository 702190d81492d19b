"""Images with blocks: digits, upsampled to 16x16 and coloured, searched over
residual, inverted-residual (MBConv) and conv-BN-ReLU blocks.

`SearchSpace("image-blocks")` is the MnasNet / ResNet style vocabulary; the
best model is exported and reloaded with plain `keras.models.load_model`.

    python examples/images_blocks.py [--fast]
"""

import sys

import keras
import numpy as np

import keras_nas

FAST = "--fast" in sys.argv

(x, y), (x_test, y_test) = keras_nas.load_digits()


def colour(images, seed):
    rng = np.random.default_rng(seed)
    big = np.kron(images[..., 0], np.ones((2, 2)))[..., None]  # 16x16
    fg = rng.uniform(0, 1, (len(images), 1, 1, 3))
    bg = rng.uniform(0, 1, (len(images), 1, 1, 3))
    return (big * fg + (1 - big) * bg).astype("float32")


n = 300 if FAST else len(x)
x, y, x_test = colour(x[:n], 0), y[:n], colour(x_test, 1)

search = keras_nas.NASSearch(
    space=keras_nas.SearchSpace("image-blocks", max_depth=2 if FAST else 5),
    max_trials=1 if FAST else 12,
    directory="nas_runs", project_name="images_blocks", overwrite=True, seed=0,
)
search.fit(x, y, epochs=1 if FAST else 8, verbose=0 if FAST else 1)
print(f"best architecture: {search.best_architecture()}")
search.export("nas_runs/images_blocks.keras")
model = keras.models.load_model("nas_runs/images_blocks.keras")  # safe mode
accuracy = np.mean(model.predict(x_test, verbose=0).argmax(-1) == y_test)
print(f"test accuracy: {accuracy:.4f}")
