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


_register_builtins()
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
