"""The op vocabulary: named layer factories, each with a shape rule.

An op is the unit of a genotype. Every op knows, without building a layer,
which input ranks it accepts, what it does to the shape, and how many
parameters and multiply-adds it adds. That is what lets the search reject an
invalid candidate and estimate its size before a single layer exists.

Input ranks (batch dimension excluded):

- 3: images `(height, width, channels)`: the 2-D forms (`conv3x3-32`).
- 2: sequences `(steps, features)`: the 1-D forms (`conv3-32`).
- 1: tabular `(features,)`: the dense family.

Built-in op names:

| name | layer | ranks |
| --- | --- | --- |
| `conv{k}x{k}-{f}`, k in 1, 3, 5; f in 16, 32, 64, 128 | `Conv2D(f, k, padding="same", activation="relu")` | 3 |
| `conv{k}-{f}`, k in 1, 3, 5, 7; f in 16, 32, 64, 128 | `Conv1D(f, k, padding="same", activation="relu")` | 2 |
| `sepconv3x3-{f}`, `sepconv5x5-{f}` | `SeparableConv2D`, same padding, relu | 3 |
| `sepconv3-{f}`, `sepconv5-{f}` | `SeparableConv1D`, same padding, relu | 2 |
| `maxpool`, `avgpool` | 2x2 (or 2) pooling, stride 2 | 3, 2 |
| `gap` | global average pooling, to flat | 3, 2 |
| `dense-{u}`, u in 16, 32, 64, 128, 256, 512 | `Dense(u, activation="relu")`, after an automatic `Flatten` | any |
| `dropout`, `dropout-0.5` | `Dropout(0.25)`, `Dropout(0.5)` | any |
| `batchnorm` | `BatchNormalization()` | any |
| `gmp` | global max pooling, to flat | 3, 2 |
| `convbnrelu{k}x{k}-{f}[-s2]`, k in 3, 5 | `blocks.ConvBNReLU(f, k, strides)` | 3 |
| `convbnrelu{k}-{f}[-s2]`, k in 3, 5 | the same, 1-D | 2 |
| `resblock-{f}[-s2]` | `blocks.ResidualBlock(f, strides)`: identity or projection shortcut | 3 |
| `mbconv{k}x{k}-e{e}[-se]-{f}[-s2]`, k in 3, 5; e in 1, 3, 6 | `blocks.InvertedResidual` (MBConv), optional squeeze-excite | 3 |
| `lstm-{u}`, `bilstm-{u}`, `gru-{u}`, `bigru-{u}`, u in 16, 32, 64, 128 | `blocks.RecurrentBlock`, returns the sequence | 2 |
| `transformer-h{h}-{d}`, h in 2, 4; d in 32, 64, 128 | `blocks.TransformerBlock(h, d)` | 2 |
| `densebnrelu-{u}`, `resmlp-{u}`, u in 32 .. 512 | `blocks.DenseBNReLU`, `blocks.ResidualMLP`, after a `Flatten` | any |

Block filters are 16, 32, 64 or 128; `-s2` halves the spatial size. Named
vocabularies (`VOCABULARIES`, `vocabulary(name)`) group them per data kind:
`image-blocks`, `sequence-blocks`, `text-blocks`, `tabular-blocks`, and the
single-layer `*-layers` ones that `default_ops` gives. Text spaces prepend
`embedding_op(...)`, which no vocabulary lists.

Users add ops with `register(name, factory, ...)`. A custom op that does not
say otherwise accepts any rank and keeps the shape.

The package: `core` holds the `Op`, the registry and the shape rules the
built-ins share; `layers` the single-layer ops; `block_ops` the block ops;
this module registers both and names the vocabularies.
"""

import re

from keras_nas.ops import core
from keras_nas.ops.block_ops import embedding_op, register_blocks
from keras_nas.ops.core import (RANK_KINDS, InvalidArchitectureError, Op,
                                _REGISTRY, get, make_op, names, register,
                                unregister)
from keras_nas.ops.layers import register_layers

__all__ = [
    "Op",
    "InvalidArchitectureError",
    "RANK_KINDS",
    "register",
    "unregister",
    "get",
    "names",
    "default_ops",
    "is_builtin",
    "layer_name",
    "make_op",
    "VOCABULARIES",
    "vocabulary",
    "vocabulary_depth",
    "embedding_op",
]

#: The input kinds, by rank of one sample.

register_layers()
register_blocks()
_BUILTIN_NAMES = frozenset(_REGISTRY)
core._BUILTIN_NAMES = _BUILTIN_NAMES  # `unregister` refuses these.

_DEFAULT_OPS = {
    3: [
        "conv3x3-16",
        "conv3x3-32",
        "conv3x3-64",
        "conv5x5-16",
        "conv5x5-32",
        "sepconv3x3-32",
        "maxpool",
        "avgpool",
        "dense-64",
        "dense-128",
        "dropout",
        "batchnorm",
    ],
    2: [
        "conv3-16",
        "conv3-32",
        "conv3-64",
        "conv5-16",
        "conv5-32",
        "sepconv3-32",
        "maxpool",
        "avgpool",
        "dense-64",
        "dense-128",
        "dropout",
        "batchnorm",
    ],
    1: [
        "dense-16",
        "dense-32",
        "dense-64",
        "dense-128",
        "dense-256",
        "dropout",
        "batchnorm",
    ],
}


_SEQUENCE_BLOCKS = [
    "convbnrelu3-32",
    "convbnrelu5-64",
    "convbnrelu3-64-s2",
    "lstm-32",
    "bilstm-32",
    "gru-64",
    "transformer-h2-32",
    "transformer-h4-64",
    "maxpool",
    "gap",
    "dense-64",
    "dropout",
]

#: Named vocabularies: name -> (op names, (min_depth, max_depth)). The
#: `*-layers` ones are the single-layer defaults; the `*-blocks` ones are made
#: of the block layers of `keras_nas.blocks`.
VOCABULARIES = {
    "image-layers": (_DEFAULT_OPS[3], (1, 8)),
    "image-blocks": (
        [
            "convbnrelu3x3-16",
            "convbnrelu3x3-32",
            "resblock-32",
            "resblock-64-s2",
            "mbconv3x3-e1-16",
            "mbconv3x3-e6-32",
            "mbconv5x5-e3-32",
            "mbconv3x3-e6-32-s2",
            "mbconv5x5-e6-se-64-s2",
            "mbconv3x3-e3-se-64",
            "dropout",
        ],
        (1, 6),
    ),
    "sequence-layers": (_DEFAULT_OPS[2], (1, 8)),
    "sequence-blocks": (_SEQUENCE_BLOCKS, (1, 4)),
    # Text is a sequence of embedded tokens: the same ops, after the front,
    # plus global pooling. Without it every dense op flattens the sequence,
    # so a word is learned anew at each position; on a generated sentiment
    # task such candidates stayed at 0.57-0.73 validation accuracy after 20
    # epochs, the same convolutions with `gmp` reached 0.82-0.87
    # (benchmarks/results/data_forms.md).
    "text-layers": (_DEFAULT_OPS[2] + ["gmp", "gap"], (1, 8)),
    "text-blocks": (_SEQUENCE_BLOCKS, (1, 4)),
    "tabular-layers": (_DEFAULT_OPS[1], (1, 8)),
    "tabular-blocks": (
        [
            "densebnrelu-64",
            "densebnrelu-128",
            "densebnrelu-256",
            "resmlp-64",
            "resmlp-128",
            "resmlp-256",
            "dropout",
            "dropout-0.5",
        ],
        (1, 4),
    ),
}


def vocabulary(name):
    """The op names of a named vocabulary, e.g. `"image-blocks"`.

    Names are `"{kind}-{layers|blocks}"` for the kinds `image`, `sequence`,
    `text` and `tabular`; `"{kind}-layers"` is the single-layer vocabulary
    that `default_ops` gives.

    >>> vocabulary("tabular-blocks")[:2]
    ['densebnrelu-64', 'densebnrelu-128']
    """
    return list(_vocabulary_entry(name)[0])


def vocabulary_depth(name):
    """The `(min_depth, max_depth)` that suits a named vocabulary."""
    return tuple(_vocabulary_entry(name)[1])


def _vocabulary_entry(name):
    if name not in VOCABULARIES:
        raise ValueError(
            f"Unknown vocabulary: {name!r}. Accepted: {sorted(VOCABULARIES)}."
        )
    return VOCABULARIES[name]


def default_ops(rank):
    """The default vocabulary for inputs of one sample's `rank`."""
    if rank not in _DEFAULT_OPS:
        raise ValueError(
            f"Unsupported input rank: {rank}. Accepted: 1 (tabular, "
            "(features,)), 2 (sequence, (steps, features)) or 3 (image, "
            "(height, width, channels))."
        )
    return list(_DEFAULT_OPS[rank])


def layer_name(index, op_name):
    """A Keras layer name for the op at `index`, e.g. `op2_conv3x3-32`."""
    return f"op{index}_" + re.sub(r"[^0-9A-Za-z_.-]", "_", op_name)


def is_builtin(name):
    """Whether `name` is one of the ops keras_nas ships (not a registered
    or space-local custom op)."""
    return name in _BUILTIN_NAMES
