"""Process memory (RSS) after every trial of a long search.

Runs N small trials on scikit-learn's digits and reads this process's
resident set size after each one, from /proc/self/status. Reports the
growth per trial as the least-squares slope over the trials after a warm-up,
and the total growth from the end of the warm-up to the end. For contrast,
the same number of models trained in a plain loop *without*
`clear_session()` shows what growth looks like.

    python benchmarks/memory.py --trials 50
"""

import argparse
import os
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


def search_trace(x, y, trials, directory):
    trace = []
    search = keras_nas.NASSearch(
        strategy="random", max_trials=trials, seed=0, directory=directory,
        project_name="memory", overwrite=True,
        space=keras_nas.SearchSpace(max_depth=4))
    search._progress = lambda tuner, trial: trace.append(rss_mb())
    search.fit(x, y, epochs=1, batch_size=64, verbose=0)
    return trace


def plain_trace(x, y, op_lists):
    trace = []
    for ops in op_lists:  # No clear_session(): what a naive loop does.
        model = keras_nas.build_model(ops, x.shape[1:], num_classes=10)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=64, verbose=0)
        trace.append(rss_mb())
    return trace


def summarize(name, trace, warmup):
    tail = trace[warmup:]
    return (f"| {name} | {len(trace)} | {trace[0]:.0f} | {trace[warmup]:.0f} | "
            f"{trace[-1]:.0f} | {tail[-1] - tail[0]:+.1f} | "
            f"{slope(tail):+.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    (x, y), _ = keras_nas.load_digits()
    x, y = x[:600], y[:600]
    with tempfile.TemporaryDirectory() as directory:
        trace = search_trace(x, y, args.trials, directory)
        search = keras_nas.NASSearch.load(directory, "memory")
        ops = [r.ops for r in search.results()]
    keras.backend.clear_session()
    plain = plain_trace(x, y, ops)
    print("RSS after each NASSearch trial (MB):",
          " ".join(f"{v:.0f}" for v in trace))
    print("RSS after each plain-loop model (MB):",
          " ".join(f"{v:.0f}" for v in plain))
    print()
    print("| run | trials | RSS after 1st (MB) | after warm-up | at end | "
          "growth after warm-up (MB) | slope (MB/trial) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(summarize("NASSearch", trace, args.warmup))
    print(summarize("plain loop, no clear_session", plain, args.warmup))


if __name__ == "__main__":
    main()
