"""TensorBoard, the one TensorFlow-only part of analysis: each trial's
HParams (architecture and metrics), its op sequence as text, and a
search-level run of the objective and the best so far against the trial
number.

Nothing else imports this module unless TensorBoard logging is asked for
(a `keras.callbacks.TensorBoard` among the callbacks of `fit`), so the rest
runs on any Keras 3 backend.
"""

import os

from keras_nas.analysis import importance
from keras_nas.analysis import records as results_module
from keras_nas.data.task import metric_name, primary_objective
from keras_nas.engine.callbacks import trial_run_dir
from keras_nas.space.search_space import is_architecture_key

try:
    import tensorflow as tf
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError(
        "TensorBoard logging needs TensorFlow: `pip install tensorflow`. "
        "The rest of keras_nas runs without it."
    ) from e

__all__ = ["SearchSummaryWriter"]


class SearchSummaryWriter:
    """Writes the search to TensorBoard after each trial.

    - `<log_dir>/trial_<id>`: the trial's HParams (depth, the op at each
      position, params, FLOPs, status, other hyperparameters), its op
      sequence as text, and its objective as a scalar;
    - `<log_dir>/search`: the objective and the best so far against the
      trial number;
    - `<log_dir>`: the HParams experiment, with the objective and the
      epoch metrics of each trial's `validation` and `train` runs.

    It reads the space, the head and the metrics from the tuner's
    hypermodel (`tuner.NASHyperModel`), so it needs nothing else.

    Args:
        log_dir: The TensorBoard log directory.
    """

    def __init__(self, log_dir):
        self.log_dir = str(log_dir)
        self._config_written = False
        # One writer, so one event file, for the search run: TensorBoard
        # reads a run's files in the order of their names, which is not the
        # order they were made in (the process's writer count, unpadded,
        # sorts 10 before 9 within a second), and a writer per trial showed
        # the best so far out of step order.
        self._search_writer = None

    def _hparams(self, tuner):
        from tensorboard.plugins.hparams import api as hp

        space = tuner.hypermodel.space
        positions = [
            hp.HParam(f"op_{i}", hp.Discrete(space.ops + ["-"]))
            for i in range(space.max_depth)
        ]
        extra = [
            hp.HParam(p.name)
            for p in tuner.oracle.get_space().space
            if not is_architecture_key(p.name)
        ]
        return (
            [hp.HParam("depth", hp.IntInterval(space.min_depth, space.max_depth))]
            + positions
            + [
                hp.HParam("params", hp.RealInterval(0.0, 1e12)),
                hp.HParam("flops", hp.RealInterval(0.0, 1e15)),
                hp.HParam("status", hp.Discrete(["COMPLETED", "STOPPED",
                                                  "FAILED", "INVALID"])),
                # Successive halving: the last rung reached (-1: none).
                hp.HParam("rung", hp.IntInterval(-1, 64)),
            ]
            + extra
        )

    def _write_config(self, tuner, objective):
        from tensorboard.plugins.hparams import api as hp

        metric_names = ["loss"] + [
            metric_name(m) for m in tuner.hypermodel.metrics]
        metrics = [hp.Metric("objective", display_name=objective.name)]
        for group in ("validation", "train"):
            metrics += [
                hp.Metric(f"epoch_{name}", group=group,
                          display_name=f"{group} {name}")
                for name in metric_names
            ]
        with tf.summary.create_file_writer(self.log_dir).as_default():
            hp.hparams_config(hparams=self._hparams(tuner), metrics=metrics)
        self._config_written = True

    def __call__(self, tuner, trial):
        from tensorboard.plugins.hparams import api as hp

        objective = primary_objective(tuner.oracle.objective)
        # The oracle's record: on a worker, only the chief scored the trial.
        trial = tuner.oracle.get_trial(trial.trial_id)
        if not self._config_written:
            self._write_config(tuner, objective)
        space = tuner.hypermodel.space
        records = results_module.collect(tuner.oracle, space,
                                         tuner.hypermodel.head)
        r = next(x for x in records if x.trial_id == trial.trial_id)
        ops = r.ops
        values = {"depth": len(ops),
                  "params": -1.0 if r.params is None else float(r.params),
                  "flops": -1.0 if r.flops is None else float(r.flops),
                  "status": "STOPPED" if r.stopped else r.status,
                  "rung": -1 if r.rung is None else r.rung}
        values.update({f"op_{i}": ops[i] if i < len(ops) else "-"
                       for i in range(space.max_depth)})
        values.update(r.hyperparameters)
        number = int(trial.trial_id) + 1
        run = trial_run_dir(self.log_dir, trial.trial_id)
        with tf.summary.create_file_writer(run).as_default():
            hp.hparams(values, trial_id=f"trial_{trial.trial_id}")
            tf.summary.text("architecture", " > ".join(ops), step=number)
            if r.value is not None:
                tf.summary.scalar("objective", r.value, step=number)
        done = [x.value for x in records if x.value is not None]
        if self._search_writer is None:
            self._search_writer = tf.summary.create_file_writer(
                os.path.join(self.log_dir, "search"))
        writer = self._search_writer
        with writer.as_default():
            if r.value is not None:
                tf.summary.scalar(f"search/{objective.name}", r.value,
                                  step=number)
                for name, value in r.objectives.items():
                    if name != objective.name and value is not None:
                        tf.summary.scalar(f"search/{name}", value,
                                          step=number)
            if done:
                best = max(done) if objective.direction == "max" else min(done)
                tf.summary.scalar(f"search/best_{objective.name}", best,
                                  step=number)
            tf.summary.text("search/trial", f"trial {trial.trial_id}: "
                            f"{' > '.join(ops)} ({trial.status})", step=number)
            # Why the best won, as far as the trials so far can tell.
            tf.summary.text("search/importance", importance.format_importance(
                importance.analyze(records, objective.direction,
                                   objective.name)), step=number)
        writer.flush()
