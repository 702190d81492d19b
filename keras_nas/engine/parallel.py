"""Local parallel trials on Keras Tuner's own chief/worker engine.

Keras Tuner runs a search in parallel when the same script runs several
times with `KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP` and
`KERASTUNER_ORACLE_PORT` set: one chief process serves the oracle over gRPC,
and each worker asks it for trials, trains them and reports back. All share
one project directory.

`serve()` makes that one line on one machine: this process becomes the
chief, and it starts the workers by running the current command again
(`sys.orig_argv`) with the worker variables set, each pinned to its own GPU
when there are GPUs. Unlike Keras Tuner's own chief loop, it watches the
workers: the trial of a worker that dies goes back to the queue, a fresh
worker finishes what the others left, and the chief returns as soon as the
workers are done instead of polling every 20 seconds.

A worker may also retire after a number of trials (`trials_per_process`,
exit status `RECYCLE_EXIT`) and be replaced by a fresh process. That bounds
memory on TensorFlow, which keeps about 5 MB per traced training step alive
in the process even after `clear_session()` (see benchmarks/README.md).
"""

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent import futures

import keras_tuner

from keras_nas import _compat
from keras_nas.engine import interrupts, pack_loop

__all__ = [
    "RECYCLE_EXIT",
    "WORKER_FLAG",
    "chief_environment",
    "end_share",
    "finish_worker",
    "in_local_worker",
    "in_worker",
    "run_chief",
    "serve",
    "shared_deadline",
]

#: Set in the workers that `serve()` starts.
WORKER_FLAG = "KERAS_NAS_LOCAL_WORKER"
#: Exit status of a worker that trained its `trials_per_process` share.
_logger = logging.getLogger(__name__)

RECYCLE_EXIT = 75
_KT_VARS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP",
            "KERASTUNER_ORACLE_PORT")


def in_local_worker():
    """Whether this process is a worker started by `serve()`."""
    return os.environ.get(WORKER_FLAG) == "1"


def in_worker():
    """Whether this process is any Keras Tuner worker (not the chief)."""
    return _compat.is_worker()


#: The time budget's end, shared by the chief with its local workers.
DEADLINE_VAR = "KERAS_NAS_DEADLINE"


def shared_deadline(max_time):
    """The `time.time()` at which a search of `max_time` seconds ends, or
    `None`. Local workers take the chief's, so all stop together."""
    if max_time is None:
        return None
    if in_local_worker() and DEADLINE_VAR in os.environ:
        return float(os.environ[DEADLINE_VAR])
    return time.time() + float(max_time)


def finish_worker():
    """End a worker started by `serve()` once its search is done, so that
    the code after `fit` runs once, in the chief. Other processes go on."""
    if in_local_worker():
        sys.exit(0)


def end_share():
    """End a local worker that has trained its `trials_per_process`: the
    chief starts a fresh process, and the backend's memory goes with this
    one."""
    sys.exit(RECYCLE_EXIT)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class chief_environment:
    """Sets the chief's Keras Tuner variables for the `with` block."""

    def __init__(self):
        self.port = _free_port()
        self._saved = {}

    def __enter__(self):
        self._saved = {k: os.environ.get(k) for k in _KT_VARS}
        os.environ.update({
            "KERASTUNER_TUNER_ID": "chief",
            "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": str(self.port),
        })
        return self

    def __exit__(self, *exc):
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return False


def _gpu_count():
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU"))


def _command():
    if "ipykernel" in sys.modules:
        raise RuntimeError(
            "`KerasTunerEngine(workers=...)` starts workers by running this "
            "program again, which a notebook cannot do. Run the search from "
            "a script, use `engine=keras_nas.Ray(workers=...)`, which runs "
            "from a notebook, or start the workers yourself (see the "
            "README's multi-host recipe).")
    return [sys.executable] + list(getattr(sys, "orig_argv", sys.argv)[1:])


@keras_tuner.synchronized
def _requeue(oracle, tuner_id):
    """The trials of a dead worker (each of its pack's, `pack_loop`) go back
    to the queue; the first of them is returned."""
    ongoing = _compat.ongoing_trials(oracle)
    queue = _compat.retry_queue(oracle)
    first = None
    for slot in [t for t in ongoing if pack_loop.is_slot_of(tuner_id, t)]:
        trial = ongoing.pop(slot)
        first = first or trial
        if trial.trial_id not in queue:
            queue.append(trial.trial_id)
    for slot in [t for t in oracle.tuner_ids
                 if pack_loop.is_slot_of(tuner_id, t)]:
        oracle.tuner_ids.discard(slot)
    if first is not None:
        oracle.save()
    return first


@keras_tuner.synchronized
def _unfinished(oracle):
    if _compat.retry_queue(oracle) or _compat.ongoing_trials(oracle):
        return True
    done = {t.trial_id for t in oracle.trials.values()
            if t.status in ("COMPLETED", "FAILED")}
    if oracle.max_trials is not None and len(done) < oracle.max_trials:
        return True
    return False


def serve(oracle, workers, port, log_dir, timeout=None, verbose=1,
          on_trial_end=None, search_deadline=None):
    """Serve `oracle` to `workers` local worker processes until they finish.

    Args:
        oracle: The chief's oracle (of a tuner made under
            `chief_environment`).
        workers: Number of worker processes.
        port: The chief's port on 127.0.0.1.
        log_dir: Where each worker's output goes (`worker_<k>.log`).
        timeout: Optional seconds after which the workers are killed and
            `TimeoutError` is raised.
        verbose: `0` silent; `1` a line when a worker starts or dies.
        on_trial_end: Optional callable, given each trial as it ends.
        search_deadline: Optional end of the search's time budget
            (`time.time()`), handed to every worker.
    """
    import grpc

    os.makedirs(log_dir, exist_ok=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer, add_servicer = _compat.oracle_servicer(oracle)
    add_servicer(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    gpus = _gpu_count()
    command = _command()
    procs = {}

    def start(k):
        env = dict(os.environ)
        env.update({
            "KERASTUNER_TUNER_ID": f"tuner{k}",
            "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": str(port),
            WORKER_FLAG: "1",
        })
        if search_deadline is not None:
            env[DEADLINE_VAR] = repr(search_deadline)
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = str(k % gpus)
        log = open(os.path.join(log_dir, f"worker_{k}.log"), "ab")
        procs[k] = (subprocess.Popen(command, env=env, stdout=log,
                                     stderr=subprocess.STDOUT), log)
        _logger.info("worker tuner%s started (pid %s)", k, procs[k][0].pid)

    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        for k in range(workers):
            start(k)
        spares = workers  # Replacement workers allowed, in all.
        handled = set()
        reported = len(_compat.end_order(oracle))
        while True:
            time.sleep(0.2)
            interrupts.check()  # A Ctrl-C the interpreter dropped.
            if on_trial_end is not None:
                ended = list(_compat.end_order(oracle))
                for trial_id in ended[reported:]:
                    on_trial_end(oracle.trials[trial_id])
                reported = len(ended)
            for k, (proc, log) in list(procs.items()):
                if k in handled or proc.poll() is None:
                    continue
                handled.add(k)
                log.close()
                if proc.returncode == RECYCLE_EXIT:
                    # Done with its share of trials: a fresh process goes on.
                    start(len(procs))
                elif proc.returncode != 0:
                    trial = _requeue(oracle, f"tuner{k}")
                    _logger.warning(
                        "worker tuner%s exited with status %s%s", k,
                        proc.returncode, f"; trial {trial.trial_id} goes "
                        "back to the queue" if trial else "")
            if len(handled) < len(procs):
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"The workers did not finish within {timeout} s; "
                        f"their logs are in {log_dir}.")
                continue
            if _unfinished(oracle) and spares > 0:
                spares -= 1
                start(len(procs))
                continue
            break
    finally:
        for proc, log in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
        server.stop(grace=None)
    if not any(t.status == "COMPLETED" for t in oracle.trials.values()):
        raise RuntimeError(
            f"No trial completed on the workers; their logs are in {log_dir}.")


def run_chief(make_tuner, workers, log_dir, timeout=None, verbose=1,
              on_trial_end=None):
    """Run a search in local worker processes, this process as the chief.

    Args:
        make_tuner: A callable that makes the search's tuner; it is called
            under the chief's Keras Tuner environment.
        workers, log_dir, timeout, verbose, on_trial_end: As in `serve()`;
            `on_trial_end` is called with `(tuner, trial)`.

    Returns:
        The chief's tuner, with every trial the workers ran.
    """
    chief = chief_environment()
    with chief:
        tuner = make_tuner()
        tuner.save()
        serve(
            tuner.oracle,
            workers=workers,
            port=chief.port,
            log_dir=log_dir,
            timeout=timeout,
            verbose=verbose,
            on_trial_end=None if on_trial_end is None
            else (lambda trial: on_trial_end(tuner, trial)),
            search_deadline=tuner.deadline,
        )
        tuner.save()
    return tuner
