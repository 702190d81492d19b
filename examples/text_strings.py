"""Raw text: sentences in, sentences out.

`fit` takes the strings as they are: a `keras.layers.TextVectorization`,
adapted on the training split only, turns them into token ids for the
search (vocabulary: the 20,000 most frequent tokens; length: the 95th
percentile of the training texts' lengths), and the returned and exported
models carry it, so they take strings too (TensorFlow backend).

    python examples/text_strings.py [--fast]
"""

import sys

import keras
import numpy as np

import keras_nas

FAST = "--fast" in sys.argv

POSITIVE = ["good", "great", "lovely", "moving", "clever", "fun"]
NEGATIVE = ["bad", "dull", "awful", "boring", "silly", "weak"]
OTHER = ["the", "movie", "film", "plot", "a", "was", "actors", "and",
         "story", "ending", "music", "very", "quite", "it"]


def reviews(n, seed=0):
    # A review: filler words and two telling ones.
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = []
    for label in y:
        words = list(rng.choice(OTHER, rng.integers(4, 12)))
        words += list(rng.choice(POSITIVE if label else NEGATIVE, 2))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ".")
    return np.array(texts), y


x_train, y_train = reviews(400 if FAST else 2000)
x_test, y_test = reviews(300, seed=1)

search = keras_nas.NASSearch(
    max_trials=1 if FAST else 10, directory="nas_runs",
    project_name="text_strings", overwrite=True, seed=0)
search.fit(x_train, y_train, epochs=4 if FAST else 8,
           verbose=0 if FAST else 1)
print(f"best architecture: {search.best_architecture()}")
print(f"test accuracy: {search.evaluate(x_test, y_test)[1]:.4f}")
print("P(positive | 'A lovely, clever film.') = "
      f"{search.predict(['A lovely, clever film.'])[0, 0]:.3f}")

# The exported model takes strings (an object array, or tf.constant).
search.export("reviews.keras")
model = keras.models.load_model("reviews.keras")
print(model.predict(np.array(["Dull and silly."], dtype=object), verbose=0))
