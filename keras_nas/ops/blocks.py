"""Block layers: the units that real image, sequence, text and table models
are made of.

The single-layer vocabulary of `ops` finds small models; the architectures
that win on real data are lists of blocks (MnasNet, ProxylessNAS and
EfficientNet spaces are lists of inverted-residual blocks, ResNets of residual
blocks, sequence models stacks of recurrent or attention blocks). Each block
here is one `keras.layers.Layer`, so a genotype of blocks still compiles into
a `keras.Sequential`.

Every layer is registered under the package name `keras_nas`, so a saved
model loads with `keras.models.load_model(path)` in safe mode once
`keras_nas` is imported. Only Keras 3 ops are used: any backend runs them.

The exact shape, parameter and multiply-add rules of each block live beside
its op in `ops/block_ops.py`; `tests/ops/test_blocks.py` checks them against
`count_params()`.

This module defines the blocks that normalize by batch (convolution,
residual, inverted-residual and dense ones, `BN_MOMENTUM`); the recurrent,
Transformer and embedding blocks are `ops/sequence_blocks.py`. As
`keras_nas.blocks` it lists them all.
"""

import keras
from keras import layers
from keras import ops as K

# The sequence and text blocks are `sequence_blocks`; this module is the
# public `keras_nas.blocks`, which lists every block layer.
from keras_nas.ops.sequence_blocks import (RecurrentBlock, TokenEmbedding,
                                           TransformerBlock)

__all__ = [
    "ConvBNReLU",
    "ResidualBlock",
    "InvertedResidual",
    "RecurrentBlock",
    "TransformerBlock",
    "DenseBNReLU",
    "ResidualMLP",
    "TokenEmbedding",
]

_PACKAGE = "keras_nas"

#: Momentum of the moving statistics of every batch normalization here (and
#: of the `batchnorm` op). Keras' default, 0.99, needs some hundreds of
#: steps before the statistics used at inference catch up with the
#: weights; a search trains each candidate for a few epochs, and at 0.99 a
#: residual block that classifies 93 % of the colour32 validation images in
#: training mode scored 25 % in inference mode after 5 epochs (85 steps).
BN_MOMENTUM = 0.9


def _conv(rank, *args, **kwargs):
    return (layers.Conv2D if rank == 3 else layers.Conv1D)(*args, **kwargs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ConvBNReLU(layers.Layer):
    """Convolution without bias, batch normalization, ReLU.

    Works on images `(h, w, c)` (2-D) and sequences `(steps, c)` (1-D); the
    form follows the input's rank.

    Args:
        filters: Output channels.
        kernel_size: Kernel size. Defaults to `3`.
        strides: `1`, or `2` to halve the spatial size. Defaults to `1`.
    """

    def __init__(self, filters, kernel_size=3, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        rank = len(input_shape) - 1
        self.conv = _conv(rank, self.filters, self.kernel_size,
                          strides=self.strides, padding="same", use_bias=False)
        self.conv.build(input_shape)
        shape = self.conv.compute_output_shape(input_shape)
        self.bn = layers.BatchNormalization(momentum=BN_MOMENTUM)
        self.bn.build(shape)

    def call(self, x, training=None):
        return K.relu(self.bn(self.conv(x), training=training))

    def compute_output_shape(self, input_shape):
        spatial = [None if d is None else -(-d // self.strides)
                   for d in input_shape[1:-1]]
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ResidualBlock(layers.Layer):
    """The ResNet basic block: two 3x3 conv-BN, a shortcut, ReLU.

    The shortcut is the identity when the shape is kept, otherwise a 1x1
    convolution with batch normalization (a projection).

    Args:
        filters: Output channels.
        strides: `1`, or `2` to halve the spatial size. Defaults to `1`.
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.strides = int(strides)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        rank = len(input_shape) - 1
        self.conv1 = _conv(rank, self.filters, 3, strides=self.strides,
                           padding="same", use_bias=False)
        self.conv1.build(input_shape)
        mid = self.conv1.compute_output_shape(input_shape)
        self.bn1 = layers.BatchNormalization(momentum=BN_MOMENTUM)
        self.bn1.build(mid)
        self.conv2 = _conv(rank, self.filters, 3, padding="same",
                           use_bias=False)
        self.conv2.build(mid)
        self.bn2 = layers.BatchNormalization(momentum=BN_MOMENTUM)
        self.bn2.build(mid)
        self.project = self.strides != 1 or input_shape[-1] != self.filters
        if self.project:
            self.short = _conv(rank, self.filters, 1, strides=self.strides,
                               padding="same", use_bias=False)
            self.short.build(input_shape)
            self.short_bn = layers.BatchNormalization(momentum=BN_MOMENTUM)
            self.short_bn.build(mid)

    def call(self, x, training=None):
        y = K.relu(self.bn1(self.conv1(x), training=training))
        y = self.bn2(self.conv2(y), training=training)
        s = self.short_bn(self.short(x), training=training) if self.project else x
        return K.relu(y + s)

    def compute_output_shape(self, input_shape):
        spatial = [None if d is None else -(-d // self.strides)
                   for d in input_shape[1:-1]]
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "strides": self.strides}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class InvertedResidual(layers.Layer):
    """The MobileNetV2 / MnasNet inverted residual block (MBConv).

    1x1 expansion to `expansion * channels` (left out when `expansion` is 1),
    a depthwise `kernel_size` convolution, optional squeeze-and-excitation, a
    linear 1x1 projection to `filters`; batch normalization after each
    convolution, ReLU6 after the first two. The input is added back when the
    shape is kept.

    Args:
        filters: Output channels.
        kernel_size: Depthwise kernel size, e.g. 3 or 5. Defaults to `3`.
        expansion: Width multiplier of the hidden layer. Defaults to `6`.
        strides: `1`, or `2` to halve the spatial size. Defaults to `1`.
        se: Whether to add squeeze-and-excitation, which squeezes to
            `max(1, channels // 4)` units. Defaults to `False`.
    """

    def __init__(self, filters, kernel_size=3, expansion=6, strides=1,
                 se=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.expansion = int(expansion)
        self.strides = int(strides)
        self.se = bool(se)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        c = input_shape[-1]
        hidden = c * self.expansion
        shape = input_shape
        if self.expansion != 1:
            self.expand = layers.Conv2D(hidden, 1, use_bias=False)
            self.expand.build(shape)
            self.expand_bn = layers.BatchNormalization(momentum=BN_MOMENTUM)
            self.expand_bn.build(shape[:-1] + (hidden,))
            shape = shape[:-1] + (hidden,)
        self.depthwise = layers.DepthwiseConv2D(
            self.kernel_size, strides=self.strides, padding="same",
            use_bias=False)
        self.depthwise.build(shape)
        shape = self.depthwise.compute_output_shape(shape)
        self.depthwise_bn = layers.BatchNormalization(momentum=BN_MOMENTUM)
        self.depthwise_bn.build(shape)
        if self.se:
            squeezed = max(1, c // 4)
            self.se_reduce = layers.Dense(squeezed, activation="relu")
            self.se_reduce.build((None, hidden))
            self.se_expand = layers.Dense(hidden, activation="sigmoid")
            self.se_expand.build((None, squeezed))
        self.project = layers.Conv2D(self.filters, 1, use_bias=False)
        self.project.build(shape)
        self.project_bn = layers.BatchNormalization(momentum=BN_MOMENTUM)
        self.project_bn.build(shape[:-1] + (self.filters,))
        self.residual = self.strides == 1 and c == self.filters

    def call(self, x, training=None):
        y = x
        if self.expansion != 1:
            y = K.relu6(self.expand_bn(self.expand(y), training=training))
        y = K.relu6(self.depthwise_bn(self.depthwise(y), training=training))
        if self.se:
            s = K.mean(y, axis=(1, 2))
            s = self.se_expand(self.se_reduce(s))
            y = y * s[:, None, None, :]
        y = self.project_bn(self.project(y), training=training)
        return x + y if self.residual else y

    def compute_output_shape(self, input_shape):
        spatial = [None if d is None else -(-d // self.strides)
                   for d in input_shape[1:-1]]
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "expansion": self.expansion,
                "strides": self.strides, "se": self.se}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DenseBNReLU(layers.Layer):
    """Dense without bias, batch normalization, ReLU: the tabular unit.

    Args:
        units: Output units.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self.dense = layers.Dense(self.units, use_bias=False)
        self.dense.build(input_shape)
        self.bn = layers.BatchNormalization(momentum=BN_MOMENTUM)
        self.bn.build((input_shape[0], self.units))

    def call(self, x, training=None):
        return K.relu(self.bn(self.dense(x), training=training))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ResidualMLP(layers.Layer):
    """A residual MLP block: two dense-BN layers and a shortcut, then ReLU.

    The shortcut is the identity when the input has `units` features,
    otherwise a dense projection without bias.

    Args:
        units: Output units.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        u = self.units
        out = (input_shape[0], u)
        self.dense1 = layers.Dense(u, use_bias=False)
        self.dense1.build(input_shape)
        self.bn1 = layers.BatchNormalization(momentum=BN_MOMENTUM)
        self.bn1.build(out)
        self.dense2 = layers.Dense(u, use_bias=False)
        self.dense2.build(out)
        self.bn2 = layers.BatchNormalization(momentum=BN_MOMENTUM)
        self.bn2.build(out)
        self.project = input_shape[-1] != u
        if self.project:
            self.short = layers.Dense(u, use_bias=False)
            self.short.build(input_shape)

    def call(self, x, training=None):
        y = K.relu(self.bn1(self.dense1(x), training=training))
        y = self.bn2(self.dense2(y), training=training)
        return K.relu(y + (self.short(x) if self.project else x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
