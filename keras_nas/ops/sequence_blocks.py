"""Sequence and text blocks: recurrent and Transformer encoder blocks, and
the token and position embedding in front of a text model.

Part of the public `keras_nas.blocks` (which lists every block layer);
kept apart from the convolution and dense blocks because none of these
normalizes by batch. Registered under the package name `keras_nas`, as
every block is, so that a saved model loads in safe mode. Their shape,
parameter and multiply-add rules are in `ops/block_ops.py`.
"""

import keras
from keras import layers
from keras import ops as K

__all__ = ["RecurrentBlock", "TransformerBlock", "TokenEmbedding"]

# The name saved models know the blocks by (`keras_nas>RecurrentBlock`),
# as in `blocks`.
_PACKAGE = "keras_nas"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class RecurrentBlock(layers.Layer):
    """An LSTM or GRU over a sequence, optionally bidirectional.

    It always returns the whole sequence, `(steps, units)` or `(steps,
    2 * units)` when bidirectional: whatever follows (another recurrent or
    attention block, pooling over time, or the head's flatten / global
    pooling) then has a valid input, so no genotype needs a different
    `return_sequences` by position.

    Args:
        units: Units of the recurrent cell (per direction).
        cell: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        bidirectional: Whether to run both directions and concatenate them.
            Defaults to `False`.
    """

    def __init__(self, units, cell="lstm", bidirectional=False, **kwargs):
        super().__init__(**kwargs)
        if cell not in ("lstm", "gru"):
            raise ValueError(
                f"`cell` must be 'lstm' or 'gru'. Received: cell={cell!r}.")
        self.units = int(units)
        self.cell = cell
        self.bidirectional = bool(bidirectional)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        cls = layers.LSTM if self.cell == "lstm" else layers.GRU
        rnn = cls(self.units, return_sequences=True)
        self.rnn = layers.Bidirectional(rnn) if self.bidirectional else rnn
        self.rnn.build(input_shape)

    def call(self, x, training=None):
        return self.rnn(x, training=training)

    def compute_output_shape(self, input_shape):
        width = self.units * (2 if self.bidirectional else 1)
        return (input_shape[0], input_shape[1], width)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "cell": self.cell, "bidirectional": self.bidirectional}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TransformerBlock(layers.Layer):
    """A Transformer encoder block over a sequence (post-norm).

    Input channels other than `dim` are first projected to `dim` by a dense
    layer. Then multi-head self-attention (key size `dim // num_heads`), a
    residual and layer norm, a feed-forward of `2 * dim` ReLU units back to
    `dim`, a residual and layer norm.

    Args:
        num_heads: Attention heads; must divide `dim`.
        dim: Width of the block's output.
    """

    def __init__(self, num_heads, dim, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.dim = int(dim)
        if self.dim % self.num_heads:
            raise ValueError(
                "`num_heads` must divide `dim`. Received: "
                f"num_heads={num_heads}, dim={dim}.")

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        d = self.dim
        shape = tuple(input_shape[:-1]) + (d,)
        self.needs_projection = input_shape[-1] != d
        if self.needs_projection:
            self.projection = layers.Dense(d)
            self.projection.build(input_shape)
        self.attention = layers.MultiHeadAttention(
            self.num_heads, d // self.num_heads)
        self.attention.build(shape, shape)
        self.norm1 = layers.LayerNormalization()
        self.norm1.build(shape)
        self.ff1 = layers.Dense(2 * d, activation="relu")
        self.ff1.build(shape)
        self.ff2 = layers.Dense(d)
        self.ff2.build(tuple(input_shape[:-1]) + (2 * d,))
        self.norm2 = layers.LayerNormalization()
        self.norm2.build(shape)

    def call(self, x, training=None):
        if self.needs_projection:
            x = self.projection(x)
        x = self.norm1(x + self.attention(x, x, training=training))
        return self.norm2(x + self.ff2(self.ff1(x)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.dim)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads,
                "dim": self.dim}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TokenEmbedding(layers.Layer):
    """Token and position embedding: the front of a text model.

    Takes integer token ids of shape `(steps,)` (floats are cast, since the
    search's data arrive as float32) and returns `(steps, dim)`: a learned
    vector per token plus a learned vector per position, so that attention
    and pooling blocks can see order.

    Args:
        vocabulary_size: Number of token ids, `max(token) + 1`.
        dim: Width of the embedding.
        sequence_length: Steps per sample.
    """

    def __init__(self, vocabulary_size, dim, sequence_length, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.dim = int(dim)
        self.sequence_length = int(sequence_length)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self.tokens = layers.Embedding(self.vocabulary_size, self.dim)
        self.tokens.build(input_shape)
        self.positions = self.add_weight(
            shape=(self.sequence_length, self.dim), initializer="uniform",
            name="positions")

    def call(self, x):
        return self.tokens(K.cast(x, "int32")) + self.positions

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.dim)

    def get_config(self):
        return {**super().get_config(),
                "vocabulary_size": self.vocabulary_size, "dim": self.dim,
                "sequence_length": self.sequence_length}
