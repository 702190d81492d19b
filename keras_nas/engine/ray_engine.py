"""The Ray engine: a search's trials as Ray tasks, its oracle in the driver.

Keras Tuner's own engine (`engine.parallel`) starts workers by running the
program again, which a notebook, `python -c` or a script read from stdin
cannot do, and it serves one machine. Here the process that calls `fit` is
the driver and stays the only one that decides anything: it holds the
oracle (the strategy, the queue, the warm start), asks it for
`Ray.workers` trials at a time exactly as Keras Tuner's `Tuner.search` does
(`create_trial`, then `update_trial` and `end_trial` through the tuner's
`on_trial_end`), and writes every trial's files and weights into the
project folder, so reports, `NASSearch.load` and export read it as they
read a local search (each trial's validation predictions included, for
ensembles). Each trial is one Ray task (`ray_worker.run_pack`), or with
`Ray(pack_size=k)` each task trains up to `k` trials at once in one
compiled model (`engine.packing`), on any node; the training data goes to
the object store once.

Faults: a task whose worker process dies, or whose node leaves the
cluster, is run again by Ray on any node, up to `Ray.max_retries` times,
then recorded as FAILED with the reason. A node that leaves loses only its
running trials: each finished trial's result is fetched into the driver as
soon as it is ready (also when `ordered` records it later), so none waits
in the object store of a node that may go. A killed driver loses nothing
finished: the oracle is saved after each trial, and the same code run
again resumes, the trials that were in flight first.

The time budget (`max_time_s`) is the driver's: no trial is proposed after
it, and each trial in flight, on whichever node, ends at its first epoch
end past it (the workers' tuners hold the same deadline), recorded with
what it reached, as in a serial search. A trial proposed just before the
budget ends but started later (a worker process still starting, a rerun
after a node left) trains one epoch.

Determinism: with `Ray.ordered` (the default) finished trials are recorded
in the order they were proposed, and a new one is proposed only when a slot
frees, so the oracle sees the same history at each proposal on every run:
the same seed and `workers` give the same proposals in the same order (with
`workers=1`, those of the serial search).
"""

import json
import logging
import os
import time
import uuid

import keras
from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas._atomic import write_atomic, write_text_atomic
from keras_nas.engine import interrupts, pack_loop, predictions, ray_worker
from keras_nas.engine.ray_options import require_ray

__all__ = ["PLACEMENTS", "check_data", "search"]

_logger = logging.getLogger(__name__)

#: The project folder's record of where each trial ran.
PLACEMENTS = "ray_trials.json"
_TUNER_PREFIX = "ray"
#: How often the driver, waiting on its trials, looks for a dropped Ctrl-C.
_POLL_SECONDS = 0.5


def search(tuner, options, *, epochs, callbacks=(), keras_verbose=0,
           x=None, y=None, validation_data=None, **fit_kwargs):
    """Run `tuner`'s search on Ray, `options.workers` trials at once.

    Args:
        tuner: The search's `NASTuner` (its oracle, hooks and project).
        options: A `ray_options.Ray`.
        epochs, callbacks, keras_verbose, **fit_kwargs: As for
            `NASTuner.run_trial`.
        x, y, validation_data: numpy arrays.
    """
    ray = require_ray()
    check_data(x, y, validation_data)
    env = ray_worker.worker_environment(options.gpu_fraction,
                                        keras.backend.backend())
    initialized, embedded = _connect(ray, options, env)
    try:
        driver = _Driver(ray, tuner, options, None if embedded else env,
                         {"x": x, "y": y, "validation_data": validation_data},
                         dict(epochs=epochs, callbacks=list(callbacks or []),
                              keras_verbose=keras_verbose, **fit_kwargs))
        driver.run()
    finally:
        if initialized:
            ray.shutdown()
    tuner.check_completed()


def check_data(x, y=None, validation_data=None):
    """A `ValueError` unless the data are arrays, which the object store
    takes (`NASSearch.fit` asks before anything is built)."""
    if not all(_is_array_like(a) for a in _arrays(x, y, validation_data)):
        raise ValueError(
            "engine='ray' sends the data to its workers through Ray's object "
            "store, which takes numpy arrays. Received: x of type "
            f"{type(x).__name__}. Pass arrays, or use engine='keras'.")


def _arrays(x, y, validation_data):
    out = [x] + ([] if y is None else [y])
    if isinstance(validation_data, (tuple, list)):
        out += [v for v in validation_data if v is not None]
    elif validation_data is not None:
        out.append(validation_data)
    return out


def _is_array_like(value):
    return hasattr(value, "shape") and hasattr(value, "dtype") and not (
        type(value).__module__.startswith("tensorflow"))


def _connect(ray, options, env):
    """Start or join Ray unless the caller did: (whether this called
    `ray.init`, whether it started Ray embedded).

    An embedded Ray's worker processes inherit `env` from the processes
    `ray.init` starts, so their tasks need no runtime environment, which
    would cost each new worker process some 3 s more (benchmarks/README.md).
    """
    if ray.is_initialized():
        return False, False
    quiet = dict(include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING, configure_logging=False)
    if options.address is None:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            ray.init(num_cpus=options.num_cpus, **quiet)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return True, True
    if options.address.startswith("ray://"):
        ray.init(address=options.address, log_to_driver=False)
    else:
        ray.init(address=options.address, **quiet)
    return True, False


class _Driver:
    """The driver's loop: propose, submit, record, until the oracle stops."""

    def __init__(self, ray, tuner, options, env, data, trial_options):
        self.ray = ray
        self.tuner = tuner
        self.options = options
        self.workers = options.workers
        # Trials a task takes at most (the tuner's rule fills it).
        self.pack_size = tuner.pack_size.most() if pack_loop.applies(
            tuner, trial_options) else 1
        self.data_ref = ray.put(data)  # Once, not once a trial.
        self.rungs = self._rung_server() if tuner.halving is not None else None
        self.spec_ref = ray.put(ray_worker.WorkerSpec(
            key=uuid.uuid4().hex,
            hypermodel=tuner.hypermodel,
            objective=tuner.oracle.objective,
            tuner_options=dict(
                patience=tuner.patience, seed=tuner.seed,
                halving=tuner.halving, deadline=tuner.deadline,
                latency=tuner.latency),
            trial_options=trial_options,
            rungs=self.rungs))
        resources = dict(options.resources_per_trial)
        cpu, gpu = resources.pop("cpu"), resources.pop("gpu")
        self.task = ray.remote(max_calls=options.trials_per_process)(
            ray_worker.run_pack).options(
            num_cpus=cpu, num_gpus=gpu, resources=resources or None,
            max_retries=options.max_retries, retry_exceptions=False,
            # Workers of an embedded Ray inherit `env` already (`_connect`).
            runtime_env=None if env is None else {"env_vars": env})
        self.placements_path = os.path.join(tuner.project_dir, PLACEMENTS)
        self.placements = _read_json(self.placements_path)
        # The workers' validation predictions are kept when the project's
        # labels are this fit's (`predictions.save` says why).
        arrays = predictions.validation_arrays(data["validation_data"])
        self.keep_predictions = arrays is not None and (
            predictions.write_labels(tuner.project_dir, arrays[1]))
        self._sequence = 0

    def _rung_server(self):
        """The halving table's actor, on the driver's node: it writes the
        project folder's table, which a local search writes too."""
        from ray.util.scheduling_strategies import \
            NodeAffinitySchedulingStrategy

        ray = self.ray
        node = ray.get_runtime_context().get_node_id()
        actor = ray.remote(ray_worker.RungServer).options(
            num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(
                node, soft=False))
        objective = self.tuner.objective
        return actor.remote(self.tuner.project_dir, objective.direction,
                            self.tuner.halving.reduction_factor)

    # -- the loop -----------------------------------------------------------

    def run(self):
        tuner = self.tuner
        tuner.on_search_begin()
        self._requeue_orphans()
        slots = [f"{_TUNER_PREFIX}{k}" for k in range(self.workers)]
        running = {}  # slot -> (sequence, trials, ref, submitted)
        held = {}  # slot -> the outcomes of a finished, unrecorded task
        stopping = False
        idle = 0
        try:
            while True:
                if not stopping:
                    stopping, waiting = self._fill(slots, running)
                    if waiting and not running:
                        idle += 1  # The oracle waits, with nothing to wait on.
                        if idle > 50:
                            break
                        time.sleep(0.1)
                        continue
                if not running:
                    break
                slot = self._next_finished(running, held)
                _, trials, _, submitted = running.pop(slot)
                outcomes = held.pop(slot)
                for trial, outcome in zip(trials, outcomes):
                    self._record(trial, outcome, submitted)
        finally:
            for _, _, ref, _ in running.values():
                self.ray.cancel(ref, force=True)
        tuner.on_search_end()

    def _fill(self, slots, running):
        """Propose a task's trials for each free slot (a pack of them with
        `Ray(pack_size=...)`, each under a tuner id of its own, as a
        packed local search asks: `pack_loop`); (stopping, waiting)."""
        tuner = self.tuner
        for slot in slots:
            if slot in running:
                continue
            if tuner.deadline is not None and time.time() >= tuner.deadline:
                return True, False
            asked = time.time()
            trials, stopping, idle = pack_loop.take(tuner, slot,
                                                    self.pack_size)
            waiting = idle and not trials
            for trial in trials:
                tuner.on_trial_begin(trial)
            if trials:
                running[slot] = (self._sequence, trials, self._submit(trials),
                                 (asked, time.time()))
                self._sequence += 1
            if stopping or waiting:
                return stopping, waiting
        return False, False

    def _requeue_orphans(self):
        """Trials a killed driver left running go back to the queue, to be
        run first (a resumed search may have fewer slots)."""
        oracle = self.tuner.oracle
        ongoing = _compat.ongoing_trials(oracle)
        queue = _compat.retry_queue(oracle)
        for tuner_id in [t for t in ongoing if t.startswith(_TUNER_PREFIX)]:
            trial = ongoing.pop(tuner_id)
            if trial.trial_id not in queue:
                queue.append(trial.trial_id)
        oracle.save()

    def _submit(self, trials):
        prior = {}
        for trial in trials:
            previous = trial.hyperparameters.values.get("tuner/trial_id")
            if previous is not None:  # Hyperband trains on from a checkpoint.
                with open(_compat.checkpoint_path(self.tuner, previous),
                          "rb") as f:
                    prior[previous] = f.read()
        return self.task.remote(self.spec_ref, self.data_ref, trials, prior)

    def _next_finished(self, running, held):
        """The slot recorded next: the oldest with `ordered`, else the first
        to finish; its outcome is then in `held`.

        Every trial's result is fetched as soon as it is ready, even one
        that `ordered` records later: a result left in the object store of
        a node that then leaves would be lost, and Ray would train the
        trial again."""
        while True:
            if self.options.ordered:
                oldest = min(running, key=lambda slot: running[slot][0])
                if oldest in held:
                    return oldest
            refs = {running[slot][2]: slot for slot in running
                    if slot not in held}
            ready, _ = self.ray.wait(list(refs), num_returns=1,
                                     timeout=_POLL_SECONDS)
            if not ready:
                interrupts.check()  # A Ctrl-C the interpreter dropped.
                continue
            slot = refs[ready[0]]
            held[slot] = self._outcome(ready[0], len(running[slot][1]))
            if not self.options.ordered:
                return slot

    def _outcome(self, ref, count):
        """The `count` outcomes of a task; each the loss if its worker
        died too often."""
        ray = self.ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayError as e:
            tries = self.options.max_retries + 1
            reason = str(e).strip().splitlines()[0] if str(e).strip() else ""
            return [{"error": "lost", "architecture": False,
                     "message": f"keras_nas.WorkerLost: the trial's worker "
                                f"died {tries} time(s) ({type(e).__name__}: "
                                f"{reason})"}] * count

    # -- recording ---------------------------------------------------------

    def _record(self, trial, outcome, times):
        tuner = self.tuner
        asked, submitted = times
        received = time.time()
        if outcome["error"] is None:
            path = _compat.checkpoint_path(tuner, trial.trial_id)
            _write_bytes(path, outcome["weights"])
            if self.keep_predictions and outcome.get("predictions"):
                _write_bytes(predictions.predictions_path(
                    tuner.get_trial_dir(trial.trial_id)),
                    outcome["predictions"])
            tuner.oracle.update_trial(trial.trial_id, outcome["metrics"])
            trial.status = TrialStatus.COMPLETED
        else:
            trial.status = (TrialStatus.INVALID if outcome["error"] == "invalid"
                            else TrialStatus.FAILED)
            trial.message = outcome["message"]
            if outcome["error"] == "lost":
                _logger.warning("Trial %s: %s", trial.trial_id,
                                outcome["message"])
        if "node" in outcome:
            placement = self.placements[trial.trial_id] = {
                "node": outcome["node"], "pid": outcome["pid"],
                "asked": asked, "submitted": submitted,
                "started": outcome["started"],
                "finished": outcome["finished"], "received": received}
        tuner.architecture_failed = bool(outcome.get("architecture"))
        tuner.on_trial_end(trial)
        if "node" in outcome:  # When the driver is done with the trial.
            placement["recorded"] = time.time()
            write_text_atomic(self.placements_path,
                              json.dumps(self.placements, indent=1))
        if outcome["error"] == "fatal":
            raise RuntimeError(
                f"Trial {trial.trial_id} stopped the search: "
                f"{outcome['message']}")


def _write_bytes(path, blob):
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(blob)

    write_atomic(path, write)


def _read_json(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)
