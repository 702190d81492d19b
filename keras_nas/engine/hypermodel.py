"""`NASHyperModel`: the Keras Tuner hypermodel of a search, which builds
and compiles the `keras.Sequential` of a trial's op sequence."""

import keras
import keras_tuner

from keras_nas import _compat
from keras_nas.data.task import metric_name
from keras_nas.engine.failures import ArchitectureFailure
from keras_nas.space import builder

__all__ = ["LOSS_METRIC", "NASHyperModel"]

#: The name under which a pack logs each output's loss as a metric.
LOSS_METRIC = "pack_loss"


class NASHyperModel(keras_tuner.HyperModel):
    """Builds and compiles the model of a trial's op sequence.

    Args:
        space: A bound `SearchSpace`.
        task: A `task.Task`: the head, and the loss unless `loss` is given.
        metrics: Metrics (names, or Keras metric objects that are cloned for
            every model).
        optimizer: An optimizer name or instance (cloned for every model).
            Defaults to `"adam"`.
        head: `"auto"`, `"flatten"` or `"gap"`. Defaults to `"auto"`.
        loss: Optional loss to use instead of the task's.
        steps_per_execution: Batches per compiled call, as for
            `keras.Model.compile`. Defaults to `1`.
    """

    def __init__(self, space, task, metrics, optimizer="adam", head="auto",
                 loss=None, steps_per_execution=1):
        super().__init__(name="keras_nas")
        self.space = space
        self.task = task
        self.metrics = list(metrics)
        self.optimizer = optimizer
        self.head = head
        self.loss = loss
        self.steps_per_execution = steps_per_execution

    def build(self, hp):
        ops = self.space.decode(hp)
        reason = self.space.check(ops)
        if reason is not None:
            raise ArchitectureFailure(f"invalid architecture: {reason}")
        plan = self.space.plan(ops, head=self.head)
        model = builder.build_from_plan(
            plan, self.task.activation, op_table=self.space.op_table)
        return self.compile_model(model, hp.values)

    def compile_model(self, model, values=None):
        """Compile `model` as every candidate is: a fresh copy of the
        optimizer (at the searched `learning_rate` of `values`, if any),
        the loss and fresh metrics. Returns `model`."""
        model.compile(
            optimizer=self._make_optimizer(values or {}),
            loss=self.loss if self.loss is not None else self.task.loss,
            metrics=[_clone_metric(m) for m in self.metrics],
            steps_per_execution=self.steps_per_execution,
        )
        return model

    def compile_pack(self, pack, values=None):
        """Compile `pack` (`engine.packing.pack_model`) as its candidates
        are: one fresh optimizer (at the searched `learning_rate` of
        `values`, the same for all; Adam's update fused into one op on
        TensorFlow, `_compat.fused_adam`), the loss of each output, and fresh
        metrics per output, with the loss again as a metric (`LOSS_METRIC`):
        Keras' own per-output loss log is the plain mean of its batches'
        means, which a smaller last batch makes differ from what the
        candidate logs alone. Returns `pack`."""
        loss = self.loss if self.loss is not None else self.task.loss
        names = list(pack.output_names)
        pack.compile(
            optimizer=_compat.fused_adam(self._make_optimizer(values or {})),
            loss={name: loss for name in names},
            metrics={name: [_clone_metric(m) for m in self.metrics]
                     + [_loss_metric(loss)] for name in names},
            steps_per_execution=self.steps_per_execution,
        )
        return pack

    def _make_optimizer(self, values):
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = keras.optimizers.get(optimizer)
        else:
            optimizer = optimizer.__class__.from_config(optimizer.get_config())
        if "learning_rate" in values:
            optimizer.learning_rate = float(values["learning_rate"])
        return optimizer

    @property
    def metric_names(self):
        return [metric_name(m) for m in self.metrics]


def _clone_metric(metric):
    if isinstance(metric, keras.metrics.Metric):
        return metric.__class__.from_config(metric.get_config())
    return metric


def _loss_metric(loss):
    """`loss` as a metric: the mean of its per-sample values, each batch
    weighted by its samples."""
    if isinstance(loss, keras.losses.Loss):
        fn = loss.call  # Per sample, unreduced, ranks matched.
    else:
        function = keras.losses.get(loss)

        def fn(y_true, y_pred):
            # As Keras' own wrapper: labels of one rank less than a
            # one-unit output get that unit's axis.
            y_pred = keras.ops.convert_to_tensor(y_pred)
            y_true = keras.ops.convert_to_tensor(y_true)
            if (len(y_true.shape) == len(y_pred.shape) - 1
                    and y_pred.shape[-1] == 1):
                y_true = keras.ops.expand_dims(y_true, -1)
            return function(y_true, y_pred)

    return keras.metrics.MeanMetricWrapper(fn, name=LOSS_METRIC)
