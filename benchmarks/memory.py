"""Process memory (RSS) after every trial of a long search.

Runs N small trials on scikit-learn's digits and reads this process's
resident set size after each one, from /proc/self/status. Reports the
growth per trial as the least-squares slope over the trials after a warm-up,
and the total growth from the end of the warm-up to the end. For contrast,
the same models trained in a plain Keras loop, with `clear_session()` before
each as the Keras docs advise, show how much of the growth is TensorFlow's
own, whatever the search does. A third run trains the same
number of trials in local worker processes that retire every
`--trials-per-process` trials (`NASSearch(engine=KerasTunerEngine(
workers=1, trials_per_process=k))`),
and reads each worker's RSS after each trial.

    python benchmarks/memory.py --trials 50
"""

import argparse
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_nas  # noqa: E402


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def slope(values):
    x = np.arange(len(values), dtype=float)
    return float(np.polyfit(x, np.asarray(values, float), 1)[0])


class RSS(keras.callbacks.Callback):
    """The process's memory after each trial. Searches copy callbacks per
    trial; the copies share the trace through the class."""

    trace = None

    def __init__(self, trace):
        super().__init__()
        RSS.trace = trace

    def on_train_end(self, logs=None):
        RSS.trace.append(rss_mb())


def search_trace(x, y, trials, directory):
    trace = []
    search = keras_nas.NASSearch(
        strategy="random", max_trials=trials, seed=0, directory=directory,
        project_name="memory", overwrite=True, warm_start=False,
        halving=False, space=keras_nas.SearchSpace(max_depth=4))
    search.fit(x, y, epochs=1, batch_size=64, verbose=0,
               callbacks=[RSS(trace)])
    return trace


def plain_trace(x, y, op_lists):
    trace = []
    for ops in op_lists:
        keras.backend.clear_session()
        model = keras_nas.build_model(ops, x.shape[1:], num_classes=10)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=64, verbose=0)
        trace.append(rss_mb())
    return trace


class _RecordRSS(keras.callbacks.Callback):
    def __init__(self, marks):
        super().__init__()
        self.marks = marks

    def on_train_end(self, logs=None):
        n = len(os.listdir(self.marks))
        open(os.path.join(self.marks, f"{n:04d}_{os.getpid()}_{rss_mb():.1f}"),
             "w").close()


def recycled_run(trials, per_process, marks, directory):
    """Run in its own process (`--mode recycled`): the workers rerun it."""
    (x, y), _ = keras_nas.load_digits()
    search = keras_nas.NASSearch(
        strategy="random", max_trials=trials, seed=0, directory=directory,
        project_name="recycled", overwrite=True,
        engine=keras_nas.KerasTunerEngine(workers=1,
                                          trials_per_process=per_process),
        space=keras_nas.SearchSpace(max_depth=4))
    search.fit(x[:600], y[:600], epochs=1, batch_size=64, verbose=0,
               callbacks=[_RecordRSS(marks)])


def recycled_trace(trials, per_process):
    with tempfile.TemporaryDirectory() as tmp:
        marks = os.path.join(tmp, "marks")
        os.makedirs(marks)
        subprocess.run(
            [sys.executable, __file__, "--mode", "recycled", "--trials",
             str(trials), "--trials-per-process", str(per_process),
             "--marks", marks, "--directory", tmp], check=True)
        rows = [m.split("_") for m in sorted(os.listdir(marks))]
    return [float(r[2]) for r in rows], [r[1] for r in rows]


def summarize(name, trace, warmup):
    tail = trace[warmup:]
    return (f"| {name} | {len(trace)} | {trace[0]:.0f} | {trace[warmup]:.0f} | "
            f"{trace[-1]:.0f} | {tail[-1] - tail[0]:+.1f} | "
            f"{slope(tail):+.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--trials-per-process", type=int, default=10)
    parser.add_argument("--mode", default="all", choices=["all", "recycled"])
    parser.add_argument("--marks")
    parser.add_argument("--directory")
    args = parser.parse_args()
    if args.mode == "recycled":
        recycled_run(args.trials, args.trials_per_process, args.marks,
                     args.directory)
        return
    (x, y), _ = keras_nas.load_digits()
    x, y = x[:600], y[:600]
    with tempfile.TemporaryDirectory() as directory:
        trace = search_trace(x, y, args.trials, directory)
        search = keras_nas.NASSearch.load(directory, "memory")
        ops = [r.ops for r in search.results()]
    keras.backend.clear_session()
    plain = plain_trace(x, y, ops)
    recycled, pids = recycled_trace(args.trials, args.trials_per_process)
    peaks = {}
    for pid, v in zip(pids, recycled):
        peaks[pid] = max(peaks.get(pid, 0.0), v)
    print("RSS after each NASSearch trial (MB):",
          " ".join(f"{v:.0f}" for v in trace))
    print("RSS after each plain-loop model (MB):",
          " ".join(f"{v:.0f}" for v in plain))
    print()
    print("| run | trials | RSS after 1st (MB) | after warm-up | at end | "
          "growth after warm-up (MB) | slope (MB/trial) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(summarize("NASSearch", trace, args.warmup))
    print(summarize("plain Keras loop, clear_session() before each model",
                    plain, args.warmup))
    print(summarize("NASSearch, KerasTunerEngine(workers=1), "
                    f"trials_per_process="
                    f"{args.trials_per_process} (worker RSS)", recycled,
                    args.warmup))
    print()
    print("RSS after each recycled-worker trial (MB):",
          " ".join(f"{v:.0f}" for v in recycled))
    print("peak RSS of each worker process (MB):",
          " ".join(f"{v:.0f}" for v in peaks.values()))


if __name__ == "__main__":
    main()
