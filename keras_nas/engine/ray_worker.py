"""The Ray worker's side of a trial: build, train and score one candidate.

A Ray task runs `run_pack` (one trial, or a pack of them) in a worker
process, on any node. It trains with
the very code of a local search, `tuner.NASTuner.run_trial` (early stopping,
the best epoch's weights, halving's rungs, the time budget, out-of-memory
retry), on a `NASTuner` of its own that lives as long as the process and
writes into a temporary folder. What goes back to the driver is the trial's
metrics, and its weights and validation predictions as bytes, so that the
nodes need no shared file system: the driver writes them into the project
folder.

Halving's rung decisions are not taken here: `RemoteRungTable` asks the
driver's `RungServer` actor, so every trial of the search is ranked against
the same table. Nothing here raises: a failure is sorted as Keras Tuner
sorts it (FAILED, fatal, or INVALID and retried) and sent back with its
traceback.
"""

import os
import shutil
import tempfile
import time
import traceback
import dataclasses
from typing import Any, Optional

import keras_tuner

from keras_nas import _compat
from keras_nas.engine import predictions
from keras_nas.engine.tuner import NASTuner, frozen_heap
from keras_nas.schedulers.rungs import RungTable

__all__ = ["RemoteRungTable", "RungServer", "WorkerSpec", "run_pack",
           "worker_environment"]


@dataclasses.dataclass
class WorkerSpec:
    """What every trial of one search needs in the worker, sent once."""

    key: str
    hypermodel: Any
    objective: Any
    tuner_options: dict
    trial_options: dict
    rungs: Optional[Any] = None  # A `RungServer` actor handle.


def worker_environment(gpu_fraction, backend):
    """The environment a worker process starts with, before its backend:
    the driver's backend, and GPU memory that grows instead of being taken
    whole, so that trials packed on one GPU fit (ray #13680)."""
    env = {"KERAS_BACKEND": backend,
           # TensorFlow: allocate GPU memory as it is needed.
           "TF_FORCE_GPU_ALLOW_GROWTH": "true",
           # JAX: no 75 % preallocation; at most this trial's share.
           "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    if 0 < gpu_fraction < 1:
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{0.95 * gpu_fraction:.3f}"
    return env


class RungServer:
    """The search's `rungs.RungTable`, served by an actor that runs on the
    driver's node and writes the project folder's table."""

    def __init__(self, directory, direction, reduction_factor):
        self.table = RungTable(directory, direction, reduction_factor)

    def values(self, rung):
        return self.table.values(rung)

    def report(self, rung, trial_id, value):
        return self.table.report(rung, trial_id, value)


class RemoteRungTable:
    """A `RungTable` whose calls go to the driver's `RungServer`."""

    def __init__(self, handle):
        self.handle = handle

    def values(self, rung):
        import ray

        return ray.get(self.handle.values.remote(rung))

    def report(self, rung, trial_id, value):
        import ray

        return ray.get(self.handle.report.remote(rung, trial_id, value))


class _WorkerTuner(NASTuner):
    """A `NASTuner` that trains the driver's trials in a temporary folder."""

    def __init__(self, spec, directory):
        oracle = keras_tuner.oracles.RandomSearchOracle(max_trials=1)
        super().__init__(oracle=oracle, hypermodel=spec.hypermodel,
                         directory=directory, project_name="trials",
                         overwrite=True, **spec.tuner_options)
        self.oracle.objective = spec.objective
        self.verbose = 0
        self._rungs = spec.rungs

    def rung_table(self):
        return RemoteRungTable(self._rungs)


_TUNERS = {}  # spec key -> the `_WorkerTuner` of this process.


def _tuner(spec):
    tuner = _TUNERS.get(spec.key)
    if tuner is None:
        directory = tempfile.mkdtemp(prefix="keras_nas_ray_")
        tuner = _TUNERS[spec.key] = _WorkerTuner(spec, directory)
    return tuner


def run_pack(spec, data, trials, prior_weights):
    """Train `trials` on `data`, together when there are several (a pack,
    `NASTuner.train_pack`); for each, its metrics and weights, or its
    failure.

    Args:
        spec: The search's `WorkerSpec`.
        data: `{"x": ..., "y": ..., "validation_data": ...}` (from the
            object store).
        trials: The driver's `keras_tuner.engine.trial.Trial`s.
        prior_weights: `{trial_id: bytes}` of the checkpoints the trials
            start from (Hyperband's rounds), or `{}`.

    Returns:
        A list, one dict a trial: `metrics`, `weights` and `predictions`
        (bytes; the last absent when none were saved), or `error`
        (`"failed"`, `"invalid"` or `"fatal"`), `message` and
        `architecture`; with the process id, node id and start and end
        times.
    """
    import ray

    started = time.time()
    tuner = _tuner(spec)
    written = []
    for trial_id, blob in prior_weights.items():
        path = _compat.checkpoint_path(tuner, trial_id)
        with open(path, "wb") as f:
            f.write(blob)
        written.append(trial_id)
    outcomes = []
    try:
        with frozen_heap():
            if len(trials) > 1:
                tuner.train_pack(trials, **data, **spec.trial_options)
            for trial in trials:
                outcomes.append(_run(tuner, trial, data, spec))
    finally:
        tuner.end_pack()
        for trial_id in written + [t.trial_id for t in trials]:
            shutil.rmtree(tuner.get_trial_dir(trial_id), ignore_errors=True)
    node = ray.get_runtime_context().get_node_id()
    for outcome in outcomes:
        outcome.update(pid=os.getpid(), started=started,
                       finished=time.time(), node=node)
    return outcomes


def _run(tuner, trial, data, spec):
    """One trial's outcome: trained here, or handed back from its pack."""
    outcome = {"error": None}
    try:
        metrics = tuner.run_trial(trial, **data, **spec.trial_options)
        with open(_compat.checkpoint_path(tuner, trial.trial_id), "rb") as f:
            outcome.update(metrics=metrics, weights=f.read())
        saved = predictions.predictions_path(tuner.get_trial_dir(trial.trial_id))
        if os.path.exists(saved):  # For ensembles; the driver writes it.
            with open(saved, "rb") as f:
                outcome["predictions"] = f.read()
    except Exception as e:  # Sorted as Keras Tuner's own loop sorts them.
        if isinstance(e, keras_tuner.errors.FatalError):
            kind = "fatal"
        elif isinstance(e, keras_tuner.errors.FailedTrialError):
            kind = "failed"
        else:
            kind = "invalid"
        outcome.update(error=kind, message=traceback.format_exc(),
                       architecture=tuner.architecture_failed)
    return outcome
