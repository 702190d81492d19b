"""`NASHyperModel`: the Keras Tuner hypermodel of a search, which builds
and compiles the `keras.Sequential` of a trial's op sequence."""

import keras
import keras_tuner

from keras_nas.data.task import metric_name
from keras_nas.engine.failures import ArchitectureFailure
from keras_nas.space import builder

__all__ = ["NASHyperModel"]


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
