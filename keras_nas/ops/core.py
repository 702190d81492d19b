"""Ops and their registry: `Op`, `make_op`, `register`, `get`, `names`,
and the shape rules the built-in ops share."""

import dataclasses
import inspect
import math
from typing import Callable, Optional

import keras

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
        idempotent: Whether a second one right after it adds nothing a
            search should try (a batch normalization of what is normalized
            already, a dropout after a dropout): no valid sequence holds it
            twice in a row, so no strategy spends a trial on such a
            repeat. Defaults to `False`.
    """

    name: str
    factory: Callable
    ranks: Optional[frozenset] = None
    output_shape: Callable = lambda shape: shape
    params: Optional[Callable] = None
    flops: Optional[Callable] = None
    needs_flat: bool = False
    doc: str = ""
    idempotent: bool = False

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
_BUILTIN_NAMES = frozenset()  # Set by the package once the built-ins are in.


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
    idempotent=False,
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
        idempotent=bool(idempotent),
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
        **kwargs: `ranks`, `output_shape`, `params`, `flops`, `needs_flat`,
            `doc` and `idempotent`, as in `Op`. Left out, the op accepts any
            rank and keeps the shape.

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
