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
"""

import dataclasses
import inspect
import math
import re
from typing import Callable, Optional

import keras

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
RANK_KINDS = {1: "tabular", 2: "sequence", 3: "image"}


class InvalidArchitectureError(ValueError):
    """An op sequence that cannot make a valid model for its input shape."""


@dataclasses.dataclass(frozen=True)
class Op:
    """One named op of the vocabulary.

    Args:
        name: The readable name used in genotypes, e.g. `"conv3x3-32"`.
        factory: Called with the input shape of one sample (a tuple without
            the batch dimension); returns a fresh `keras.layers.Layer`.
        ranks: The input ranks the op accepts, or `None` for any rank.
        output_shape: Maps an input shape to the output shape. Raises
            `InvalidArchitectureError` with the reason when the op cannot run
            on that input.
        params: Maps an input shape to the number of weights the layer adds
            (trainable and not), or `None` to count them by building the one
            layer in isolation.
        flops: Maps an input shape to the multiply-adds of one sample, or
            `None` for zero.
        needs_flat: Whether the op needs flat input; the builder inserts a
            `Flatten` before it when the input is still spatial.
        doc: One line that says what the op is.
    """

    name: str
    factory: Callable
    ranks: Optional[frozenset] = None
    output_shape: Callable = lambda shape: shape
    params: Optional[Callable] = None
    flops: Optional[Callable] = None
    needs_flat: bool = False
    doc: str = ""

    def accepts(self, shape):
        return self.ranks is None or len(shape) in self.ranks

    def make_layer(self, shape):
        layer = self.factory(tuple(shape))
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                f"The factory of op {self.name!r} must return a "
                f"`keras.layers.Layer`. Received: {layer!r} "
                f"(of type {type(layer).__name__})."
            )
        return layer

    def count_params(self, shape):
        if self.params is not None:
            return int(self.params(shape))
        # A custom op without a params rule: build the one layer alone.
        layer = self.make_layer(shape)
        layer.build((None,) + tuple(shape))
        return int(layer.count_params())

    def count_flops(self, shape):
        return int(self.flops(shape)) if self.flops is not None else 0


_REGISTRY = {}


def _wrap_factory(name, factory):
    """Accept factories of zero arguments or of the input shape."""
    if not callable(factory):
        raise TypeError(
            f"The factory of op {name!r} must be callable. Received: "
            f"{factory!r} (of type {type(factory).__name__})."
        )
    if isinstance(factory, type) and issubclass(factory, keras.layers.Layer):
        return lambda shape: factory()
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return lambda shape: factory()
    required = [
        p
        for p in params
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if required:
        return factory
    return lambda shape: factory()


def make_op(
    name,
    factory,
    ranks=None,
    output_shape=None,
    params=None,
    flops=None,
    needs_flat=False,
    doc="",
):
    """Make an `Op` from a user factory, checking it as far as we can now.

    A factory of zero arguments is called once here, so that one that does not
    return a `keras.layers.Layer` is caught before any search starts.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"An op name must be a non-empty string. Received: name={name!r}."
        )
    wrapped = _wrap_factory(name, factory)
    if ranks is not None:
        ranks = frozenset(int(r) for r in ranks)
        bad = sorted(r for r in ranks if r not in RANK_KINDS)
        if bad:
            raise ValueError(
                f"Op {name!r}: `ranks` must hold input ranks among "
                f"{sorted(RANK_KINDS)}. Received: ranks={sorted(ranks)}."
            )
    op = Op(
        name=name,
        factory=wrapped,
        ranks=ranks,
        output_shape=output_shape or (lambda shape: shape),
        params=params,
        flops=flops,
        needs_flat=needs_flat,
        doc=doc or "custom op",
    )
    if wrapped is not factory:
        # Zero-argument factory: the shape does not matter, so check it now.
        op.make_layer(())
    return op


def register(name, factory, *, overwrite=False, **kwargs):
    """Register a custom op under `name`, for every search space to use.

    Args:
        name: The op's name in genotypes.
        factory: A callable returning a new `keras.layers.Layer`, taking
            either no argument or the input shape of one sample.
        overwrite: Whether to replace an op of the same name. Defaults to
            `False`.
        **kwargs: `ranks`, `output_shape`, `params`, `flops`, `needs_flat`
            and `doc`, as in `Op`. Left out, the op accepts any rank and keeps
            the shape.

    Returns:
        The registered `Op`.

    >>> import keras, keras_nas
    >>> op = keras_nas.ops.register(
    ...     "gelu", lambda: keras.layers.Activation("gelu"), overwrite=True)
    >>> op.name
    'gelu'
    """
    if name in _REGISTRY and not overwrite:
        raise ValueError(
            f"An op named {name!r} is already registered. Pass "
            "`overwrite=True` to replace it, or choose another name."
        )
    op = make_op(name, factory, **kwargs)
    _REGISTRY[name] = op
    return op


def unregister(name):
    """Remove a registered op; built-in ones cannot be removed."""
    if name in _BUILTIN_NAMES:
        raise ValueError(f"Op {name!r} is built in and cannot be removed.")
    _REGISTRY.pop(name, None)


def get(name):
    """Returns the registered `Op` called `name`."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown op name: {name!r}. Registered ops: {names()}. Add your "
            "own with `keras_nas.ops.register(name, factory)`."
        ) from None


def names(rank=None):
    """Names of the registered ops, all of them or those accepting `rank`."""
    return [
        n
        for n, op in _REGISTRY.items()
        if rank is None or op.ranks is None or rank in op.ranks
    ]


# ---------------------------------------------------------------------------
# Shape rules of the built-in ops.


def _fmt(shape):
    return "x".join(str(d) for d in shape) if shape else "()"


def _spatial(shape):
    return shape[:-1]


def _conv_params(k, f):
    def params(shape):
        kernel = k ** len(_spatial(shape))
        return kernel * shape[-1] * f + f

    def flops(shape):
        kernel = k ** len(_spatial(shape))
        return math.prod(_spatial(shape)) * kernel * shape[-1] * f

    return params, flops


def _sepconv_params(k, f):
    def params(shape):
        kernel = k ** len(_spatial(shape))
        c = shape[-1]
        return kernel * c + c * f + f

    def flops(shape):
        kernel = k ** len(_spatial(shape))
        c = shape[-1]
        return math.prod(_spatial(shape)) * c * (kernel + f)

    return params, flops


def _conv_layer(cls_2d, cls_1d, f, k):
    def factory(shape):
        cls = cls_2d if len(shape) == 3 else cls_1d
        return cls(f, k, padding="same", activation="relu")

    return factory


def _pool_output(name):
    def output_shape(shape):
        spatial = _spatial(shape)
        if min(spatial) < 2:
            raise InvalidArchitectureError(
                f"{name} halves the spatial size, so it needs at least 2 in "
                f"each spatial dimension, but its input is {_fmt(shape)}"
            )
        return tuple(d // 2 for d in spatial) + (shape[-1],)

    return output_shape


def _pool_layer(cls_2d, cls_1d):
    def factory(shape):
        return cls_2d(2) if len(shape) == 3 else cls_1d(2)

    return factory


def _add(op):
    _REGISTRY[op.name] = op


def _register_builtins():
    layers = keras.layers
    for rank, kernels, pattern, conv2d, conv1d in (
        (3, (1, 3, 5), "conv{k}x{k}-{f}", layers.Conv2D, layers.Conv1D),
        (2, (1, 3, 5, 7), "conv{k}-{f}", layers.Conv2D, layers.Conv1D),
    ):
        for k in kernels:
            for f in (16, 32, 64, 128):
                params, flops = _conv_params(k, f)
                _add(
                    Op(
                        name=pattern.format(k=k, f=f),
                        factory=_conv_layer(conv2d, conv1d, f, k),
                        ranks=frozenset({rank}),
                        output_shape=lambda s, f=f: s[:-1] + (f,),
                        params=params,
                        flops=flops,
                        doc=f"{RANK_KINDS[rank]} convolution, kernel {k}, "
                        f"{f} filters, same padding, relu",
                    )
                )
        for k in (3, 5):
            for f in (16, 32, 64, 128):
                params, flops = _sepconv_params(k, f)
                name = pattern.format(k=k, f=f)
                _add(
                    Op(
                        name="sep" + name,
                        factory=_conv_layer(
                            layers.SeparableConv2D,
                            layers.SeparableConv1D,
                            f,
                            k,
                        ),
                        ranks=frozenset({rank}),
                        output_shape=lambda s, f=f: s[:-1] + (f,),
                        params=params,
                        flops=flops,
                        doc=f"{RANK_KINDS[rank]} depthwise-separable "
                        f"convolution, kernel {k}, {f} filters, relu",
                    )
                )
    spatial = frozenset({2, 3})
    for name, cls_2d, cls_1d in (
        ("maxpool", layers.MaxPooling2D, layers.MaxPooling1D),
        ("avgpool", layers.AveragePooling2D, layers.AveragePooling1D),
    ):
        _add(
            Op(
                name=name,
                factory=_pool_layer(cls_2d, cls_1d),
                ranks=spatial,
                output_shape=_pool_output(name),
                params=lambda s: 0,
                flops=lambda s: math.prod(s),
                doc=f"{name[:3]} pooling, window 2, stride 2",
            )
        )
    _add(
        Op(
            name="gap",
            factory=lambda s: (
                layers.GlobalAveragePooling2D()
                if len(s) == 3
                else layers.GlobalAveragePooling1D()
            ),
            ranks=spatial,
            output_shape=lambda s: (s[-1],),
            params=lambda s: 0,
            flops=lambda s: math.prod(s),
            doc="global average pooling, spatial to flat",
        )
    )
    for units in (16, 32, 64, 128, 256, 512):
        _add(
            Op(
                name=f"dense-{units}",
                factory=lambda s, u=units: layers.Dense(u, activation="relu"),
                ranks=None,
                output_shape=lambda s, u=units: (u,),
                params=lambda s, u=units: s[-1] * u + u,
                flops=lambda s, u=units: s[-1] * u,
                needs_flat=True,
                doc=f"fully connected, {units} units, relu",
            )
        )
    for name, rate in (("dropout", 0.25), ("dropout-0.5", 0.5)):
        _add(
            Op(
                name=name,
                factory=lambda s, r=rate: layers.Dropout(r),
                params=lambda s: 0,
                doc=f"dropout, rate {rate}",
            )
        )
    _add(
        Op(
            name="batchnorm",
            factory=lambda s: layers.BatchNormalization(),
            # gamma, beta, moving mean and moving variance per channel.
            params=lambda s: 4 * s[-1],
            flops=lambda s: math.prod(s),
            doc="batch normalization over the last axis",
        )
    )


# ---------------------------------------------------------------------------
# Block ops (layers in `blocks.py`). Flops count multiply-adds of the
# convolutions, dense and recurrent kernels and attention products, plus one
# per output element for each batch or layer normalization.


def _strided_output(name, strides, filters):
    def output_shape(shape):
        spatial = _spatial(shape)
        if strides > 1 and min(spatial) < 2:
            raise InvalidArchitectureError(
                f"{name} halves the spatial size, so it needs at least 2 in "
                f"each spatial dimension, but its input is {_fmt(shape)}"
            )
        return tuple(-(-d // strides) for d in spatial) + (filters,)

    return output_shape


def _convbnrelu_rules(k, f, s):
    def params(shape):
        return k ** len(_spatial(shape)) * shape[-1] * f + 4 * f

    def flops(shape):
        out = math.prod(-(-d // s) for d in _spatial(shape))
        return out * (k ** len(_spatial(shape)) * shape[-1] * f + f)

    return params, flops


def _resblock_rules(f, s):
    def projects(shape):
        return s != 1 or shape[-1] != f

    def params(shape):
        kernel, c = 3 ** len(_spatial(shape)), shape[-1]
        short = c * f + 4 * f if projects(shape) else 0
        return kernel * c * f + kernel * f * f + 8 * f + short

    def flops(shape):
        kernel, c = 3 ** len(_spatial(shape)), shape[-1]
        out = math.prod(-(-d // s) for d in _spatial(shape))
        short = c * f + f if projects(shape) else 0
        return out * (kernel * c * f + kernel * f * f + 2 * f + short)

    return params, flops


def _mbconv_rules(k, e, f, s, se):
    def params(shape):
        c = shape[-1]
        h = c * e
        n = (c * h + 4 * h) if e != 1 else 0
        n += k * k * h + 4 * h
        if se:
            r = max(1, c // 4)
            n += h * r + r + r * h + h
        return n + h * f + 4 * f

    def flops(shape):
        c = shape[-1]
        h = c * e
        p_in = math.prod(_spatial(shape))
        p_out = math.prod(-(-d // s) for d in _spatial(shape))
        n = p_in * (c * h + h) if e != 1 else 0
        n += p_out * (k * k * h + h)
        if se:
            r = max(1, c // 4)
            n += 2 * h * r + p_out * h
        return n + p_out * (h * f + f)

    return params, flops


def _recurrent_rules(cell, u, directions):
    # Keras' GRU resets after the matmul by default: two biases per gate.
    gates, biases = (4, 1) if cell == "lstm" else (3, 2)

    def params(shape):
        return directions * gates * (shape[-1] * u + u * u + biases * u)

    def flops(shape):
        steps, c = shape
        return directions * steps * gates * (c * u + u * u)

    return params, flops


def _transformer_rules(d):
    def params(shape):
        c = shape[-1]
        projection = c * d + d if c != d else 0
        # q, k, v and output kernels and biases; two layer norms; feed-forward.
        return projection + 4 * d * d + 4 * d + 4 * d + 4 * d * d + 3 * d

    def flops(shape):
        steps, c = shape
        projection = steps * c * d if c != d else 0
        return (projection + steps * 8 * d * d + 2 * steps * steps * d
                + 2 * steps * d)

    return params, flops


def _register_blocks():
    from keras_nas import blocks

    for rank, fmt in ((3, "{k}x{k}"), (2, "{k}")):
        for k in (3, 5):
            for f in (16, 32, 64, 128):
                for s in (1, 2):
                    name = f"convbnrelu{fmt.format(k=k)}-{f}" + (
                        "-s2" if s == 2 else "")
                    params, flops = _convbnrelu_rules(k, f, s)
                    _add(Op(
                        name=name,
                        factory=lambda shape, f=f, k=k, s=s: blocks.ConvBNReLU(
                            f, k, s),
                        ranks=frozenset({rank}),
                        output_shape=_strided_output(name, s, f),
                        params=params, flops=flops,
                        doc=f"{RANK_KINDS[rank]} conv {k}, {f} filters, "
                        f"stride {s}, batch norm, relu",
                    ))
    for f in (16, 32, 64, 128):
        for s in (1, 2):
            name = f"resblock-{f}" + ("-s2" if s == 2 else "")
            params, flops = _resblock_rules(f, s)
            _add(Op(
                name=name,
                factory=lambda shape, f=f, s=s: blocks.ResidualBlock(f, s),
                ranks=frozenset({3}),
                output_shape=_strided_output(name, s, f),
                params=params, flops=flops,
                doc=f"residual basic block, {f} filters, stride {s}",
            ))
        for k in (3, 5):
            for e in (1, 3, 6):
                for se in (False, True):
                    for s in (1, 2):
                        name = (f"mbconv{k}x{k}-e{e}" + ("-se" if se else "")
                                + f"-{f}" + ("-s2" if s == 2 else ""))
                        params, flops = _mbconv_rules(k, e, f, s, se)
                        _add(Op(
                            name=name,
                            factory=lambda shape, f=f, k=k, e=e, s=s, se=se: (
                                blocks.InvertedResidual(f, k, e, s, se)),
                            ranks=frozenset({3}),
                            output_shape=_strided_output(name, s, f),
                            params=params, flops=flops,
                            doc=f"inverted residual, kernel {k}, expansion "
                            f"{e}, {f} filters, stride {s}"
                            + (", squeeze-excite" if se else ""),
                        ))
    for cell in ("lstm", "gru"):
        for bidirectional in (False, True):
            directions = 2 if bidirectional else 1
            for u in (16, 32, 64, 128):
                params, flops = _recurrent_rules(cell, u, directions)
                _add(Op(
                    name=("bi" if bidirectional else "") + f"{cell}-{u}",
                    factory=lambda shape, u=u, c=cell, b=bidirectional: (
                        blocks.RecurrentBlock(u, c, b)),
                    ranks=frozenset({2}),
                    output_shape=lambda shape, w=u * directions: (
                        shape[0], w),
                    params=params, flops=flops,
                    doc=("bidirectional " if bidirectional else "")
                    + f"{cell.upper()}, {u} units, returns the sequence",
                ))
    for h in (2, 4):
        for d in (32, 64, 128):
            params, flops = _transformer_rules(d)
            _add(Op(
                name=f"transformer-h{h}-{d}",
                factory=lambda shape, h=h, d=d: blocks.TransformerBlock(h, d),
                ranks=frozenset({2}),
                output_shape=lambda shape, d=d: (shape[0], d),
                params=params, flops=flops,
                doc=f"Transformer encoder block, {h} heads, width {d}",
            ))
    _add(Op(
        name="gmp",
        factory=lambda s: (
            keras.layers.GlobalMaxPooling2D()
            if len(s) == 3
            else keras.layers.GlobalMaxPooling1D()
        ),
        ranks=frozenset({2, 3}),
        output_shape=lambda s: (s[-1],),
        params=lambda s: 0,
        flops=lambda s: math.prod(s),
        doc="global max pooling, spatial (or over time) to flat",
    ))
    for u in (32, 64, 128, 256, 512):
        _add(Op(
            name=f"densebnrelu-{u}",
            factory=lambda shape, u=u: blocks.DenseBNReLU(u),
            output_shape=lambda s, u=u: (u,),
            params=lambda s, u=u: s[-1] * u + 4 * u,
            flops=lambda s, u=u: s[-1] * u + u,
            needs_flat=True,
            doc=f"dense {u} units without bias, batch norm, relu",
        ))
        _add(Op(
            name=f"resmlp-{u}",
            factory=lambda shape, u=u: blocks.ResidualMLP(u),
            output_shape=lambda s, u=u: (u,),
            params=lambda s, u=u: (s[-1] * u + u * u + 8 * u
                                   + (s[-1] * u if s[-1] != u else 0)),
            flops=lambda s, u=u: (s[-1] * u + u * u + 2 * u
                                  + (s[-1] * u if s[-1] != u else 0)),
            needs_flat=True,
            doc=f"residual MLP block, {u} units",
        ))


def embedding_op(vocabulary_size, dim, sequence_length):
    """The front op of a text space: token and position embedding.

    Not part of any vocabulary: a text `SearchSpace` prepends it to every
    genotype.
    """
    from keras_nas import blocks

    v, d, t = int(vocabulary_size), int(dim), int(sequence_length)
    return Op(
        name=f"embedding-{v}-{d}",
        factory=lambda shape: blocks.TokenEmbedding(v, d, t),
        ranks=frozenset({1}),
        output_shape=lambda shape: (shape[0], d),
        params=lambda shape: v * d + shape[0] * d,
        flops=lambda shape: shape[0] * d,
        doc=f"token ({v} ids) and position embedding, width {d}",
    )


_register_builtins()
_register_blocks()
_BUILTIN_NAMES = frozenset(_REGISTRY)

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
    # Text is a sequence of embedded tokens: the same ops, after the front.
    "text-layers": (_DEFAULT_OPS[2], (1, 8)),
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
