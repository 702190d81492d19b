"""The built-in single-layer ops: convolutions, pooling, dense, dropout,
batch normalization, each with its shape, parameter and multiply-add rule."""

import math

import keras

from keras_nas.ops.blocks import BN_MOMENTUM

from keras_nas.ops.core import (
    RANK_KINDS,
    Op,
    _add,
    _conv_layer,
    _conv_params,
    _pool_layer,
    _pool_output,
    _sepconv_params)


def register_layers():
    """Put the single-layer ops in the registry (once, at import)."""
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
                idempotent=True,
            )
        )
    _add(
        Op(
            name="batchnorm",
            factory=lambda s: layers.BatchNormalization(
                momentum=BN_MOMENTUM),
            # gamma, beta, moving mean and moving variance per channel.
            params=lambda s: 4 * s[-1],
            flops=lambda s: math.prod(s),
            doc="batch normalization over the last axis",
            # A second one normalizes what is normalized already.
            idempotent=True,
        )
    )
