"""Raw text: arrays or lists of strings, checked and read by a
`keras.layers.TextVectorization` adapted on the training split.

The rules (documented in docs/data.md):

- the vocabulary is the `max_tokens` most frequent tokens of the training
  texts (all of them when there are fewer), after the layer's default
  standardization (lowercase, punctuation stripped) and split on
  whitespace; index 0 pads and index 1 is out of vocabulary;
- the sequence length is the 95th percentile of the training texts'
  lengths in tokens, rounded up, between 1 and `MAX_SEQUENCE_LENGTH`;
  longer texts are cut, shorter ones padded.

The layer works on strings with the TensorFlow backend only; under another
backend a search on strings stops with a `ValueError` before any work
(vectorize in a `tf.data` pipeline and search on the token ids instead).
"""

import math

import keras
import numpy as np

__all__ = ["MAX_SEQUENCE_LENGTH", "MAX_TOKENS", "check_backend",
           "check_texts", "is_text", "vectorizer"]

#: Most tokens in the vocabulary of a text search, by default.
MAX_TOKENS = 20000
#: Longest token sequence a text search reads, by default.
MAX_SEQUENCE_LENGTH = 512


def is_text(x):
    """Whether `x` is an array or list of strings (or an empty string
    array), of shape `(samples,)` or `(samples, 1)`; one that mixes strings
    with other values counts too, for `check_texts` to refuse."""
    if isinstance(x, (list, tuple)):
        return any(isinstance(v, (str, bytes)) for v in x[:100])
    if not isinstance(x, np.ndarray):
        return False
    if x.dtype.kind in "US":
        return True
    return x.dtype == object and x.ndim <= 2 and any(
        isinstance(v, (str, bytes)) for v in x.reshape(-1)[:100])


def check_texts(x, arg="x"):
    """`x` as a 1-D object array of `str`, or a `ValueError` naming `arg`."""
    x = np.asarray(x, dtype=object)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(
            f"`{arg}` of strings must be of shape (samples,), one text a "
            f"sample. Received: shape {x.shape}.")
    if len(x) == 0:
        raise ValueError(
            f"`{arg}` is an empty array of strings; a search needs at least "
            "a few texts.")
    bad = [i for i, v in enumerate(x) if not isinstance(v, (str, bytes))]
    if bad:
        raise ValueError(
            f"`{arg}` mixes strings with other values: {len(bad)} of "
            f"{len(x)} samples are not strings (e.g. {x[bad[0]]!r} at index "
            f"{bad[0]}). Accepted: a string per sample; write missing texts "
            "as \"\".")
    return np.array([v.decode() if isinstance(v, bytes) else v for v in x],
                    dtype=object)


def check_backend(what):
    """A `ValueError` unless Keras runs on TensorFlow, which string
    tensors inside a model need."""
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(
            f"{what}: string tensors need the TensorFlow backend; they "
            f"cannot run inside a {backend} model. Received: "
            f"KERAS_BACKEND={backend}. "
            "Set KERAS_BACKEND=tensorflow, or turn strings into numbers "
            "first (a `keras.layers.TextVectorization` or `StringLookup` in "
            "a tf.data pipeline) and search on those.")


def vectorizer(texts, max_tokens=None, sequence_length=None):
    """A `TextVectorization` adapted on the training `texts`.

    Args:
        texts: The training texts, a 1-D object array of `str`.
        max_tokens: Most tokens in the vocabulary (padding and the
            out-of-vocabulary token included). Defaults to `None`:
            `MAX_TOKENS`.
        sequence_length: Tokens a text is cut or padded to. Defaults to
            `None`: the 95th percentile of the training texts' lengths, at
            most `MAX_SEQUENCE_LENGTH`.

    Returns:
        The adapted layer (`output_mode="int"`).
    """
    max_tokens = MAX_TOKENS if max_tokens is None else int(max_tokens)
    counting = keras.layers.TextVectorization(max_tokens=max_tokens)
    counting.adapt(texts, batch_size=1024)
    if len(counting.get_vocabulary()) <= 2:
        raise ValueError(
            "`x` holds no word: every training text is empty after "
            "lowercasing and stripping punctuation. Received: "
            f"{len(texts)} texts, e.g. {texts[0]!r}.")
    if sequence_length is None:
        lengths = [int(np.count_nonzero(row)) for row in _batches(
            counting, texts)]
        sequence_length = min(MAX_SEQUENCE_LENGTH, max(1, math.ceil(
            float(np.percentile(lengths, 95)))))
    return keras.layers.TextVectorization(
        max_tokens=max_tokens, output_sequence_length=int(sequence_length),
        vocabulary=counting.get_vocabulary(include_special_tokens=False),
        name="text_vectorization")


def _batches(layer, texts, size=1024):
    for i in range(0, len(texts), size):
        yield from np.asarray(layer(texts[i:i + size].reshape(-1, 1)))
