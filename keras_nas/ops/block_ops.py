"""The built-in block ops (layers in `keras_nas.blocks`): conv-BN-ReLU,
residual and inverted-residual blocks, recurrent and Transformer blocks,
dense-BN-ReLU and residual MLP blocks, and the text front's embedding, each
with its exact shape, parameter and multiply-add rule."""

import math

import keras

from keras_nas.ops.core import (
    RANK_KINDS,
    InvalidArchitectureError,
    Op,
    _add,
    _fmt,
    _spatial)


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


def register_blocks():
    """Put the block ops in the registry (once, at import)."""
    from keras_nas.ops import blocks, sequence_blocks

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
                        sequence_blocks.RecurrentBlock(u, c, b)),
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
                factory=lambda shape, h=h, d=d: (
                    sequence_blocks.TransformerBlock(h, d)),
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
    from keras_nas.ops import sequence_blocks

    v, d, t = int(vocabulary_size), int(dim), int(sequence_length)
    return Op(
        name=f"embedding-{v}-{d}",
        factory=lambda shape: sequence_blocks.TokenEmbedding(v, d, t),
        ranks=frozenset({1}),
        output_shape=lambda shape: (shape[0], d),
        params=lambda shape: v * d + shape[0] * d,
        flops=lambda shape: shape[0] * d,
        doc=f"token ({v} ids) and position embedding, width {d}",
    )
