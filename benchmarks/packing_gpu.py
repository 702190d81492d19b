"""Packed training on one GPU (issue 34, item 5): trials per hour at equal
epochs, packed against Keras Tuner on the same candidates, with the GPU's
SM utilisation.

Prepared for a machine with one NVIDIA GPU and the JAX backend (no
TensorFlow needed: the data are NumPy arrays):

    KERAS_BACKEND=jax python benchmarks/packing_gpu.py --trials 64 --epochs 5

The candidates: `--trials` op lists drawn by `strategy="random"` under
`--seed` from the default space on digits-shaped data (8x8x1, 10 classes;
`--samples` synthetic samples, so nothing downloads). Each runs for exactly
`--epochs` epochs (no early stopping), batch 32, two ways, in this order:

- `keras-tuner`: `keras_tuner.RandomSearch` over a hypermodel whose one
  hyperparameter is the candidate's index, `max_trials=--trials`: Keras
  Tuner's own loop, one candidate at a time;
- `packed`: `NASSearch` with `KerasTunerEngine(pack_size=--pack-size)`
  over the same op lists (`initial_architectures`), halving and warm start
  off.

While each runs, `nvidia-smi` is sampled every 0.5 s; the mean of
`utilization.gpu` (the share of time a kernel ran on the SMs) is printed
with the trials per hour. `--smoke` runs a tiny version on any machine (no
GPU needed, no utilisation) to check the script.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

import numpy as np


class Utilisation:
    """Samples `nvidia-smi`'s `utilization.gpu` in a thread."""

    def __init__(self, every=0.5):
        self.every = every
        self.samples = []
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if shutil.which("nvidia-smi"):
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=utilization.gpu",
                 "--format=csv,noheader,nounits"], capture_output=True,
                text=True).stdout.split()
            if out:
                self.samples.append(float(out[0]))
            self._stop.wait(self.every)

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def mean(self):
        return float(np.mean(self.samples)) if self.samples else None


def data(samples, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, samples)
    x = rng.normal(size=(samples, 8, 8, 1)).astype("float32") + y[
        :, None, None, None] / 10.0
    return (x, y), (x[: samples // 5], y[: samples // 5])


def op_lists(trials, seed, directory):
    """The op lists `strategy="random"` proposes under `seed` (they do not
    depend on scores): read from a search of one epoch on 64 samples."""
    import keras_nas

    (x, y), val = data(64, seed)
    search = keras_nas.NASSearch(
        strategy="random", max_trials=trials, seed=seed, halving=False,
        warm_start=False, initial_architectures=[], directory=directory,
        project_name="list", overwrite=True)
    search.fit(x, y, epochs=1, validation_data=val, verbose=0)
    return [r.ops for r in search.results()]


def run_keras_tuner(lists, train, val, epochs, directory):
    import keras
    import keras_tuner

    import keras_nas

    def build(hp):
        ops = lists[hp.Int("candidate", 0, len(lists) - 1)]
        model = keras_nas.build_model(ops, train[0].shape[1:],
                                      num_classes=10)
        model.compile("adam", "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    tuner = keras_tuner.GridSearch(
        build, objective="val_accuracy", max_trials=len(lists),
        directory=directory, project_name="kt", overwrite=True)
    start = time.perf_counter()
    tuner.search(*train, validation_data=val, epochs=epochs, batch_size=32,
                 verbose=0)
    keras.backend.clear_session()
    return time.perf_counter() - start, len(tuner.oracle.trials)


def run_packed(lists, train, val, epochs, directory, pack_size):
    import keras_nas

    search = keras_nas.NASSearch(
        strategy="random", max_trials=len(lists), seed=0, halving=False,
        warm_start=False, initial_architectures=lists, directory=directory,
        project_name="packed", overwrite=True,
        training=keras_nas.Training(patience=epochs),
        engine=keras_nas.KerasTunerEngine(pack_size=pack_size))
    start = time.perf_counter()
    search.fit(*train, validation_data=val, epochs=epochs, batch_size=32,
               verbose=0)
    return time.perf_counter() - start, len(search.results())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pack-size", default="auto")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.trials, args.epochs, args.samples = 4, 1, 256
    pack_size = (args.pack_size if args.pack_size == "auto"
                 else int(args.pack_size))
    directory = tempfile.mkdtemp(prefix="packing-gpu-")
    train, val = data(args.samples, args.seed)
    lists = op_lists(args.trials, args.seed, directory)
    rows = {}
    for name, run in (
            ("keras-tuner", lambda: run_keras_tuner(
                lists, train, val, args.epochs, directory)),
            ("packed", lambda: run_packed(
                lists, train, val, args.epochs, directory, pack_size))):
        with Utilisation() as use:
            seconds, trials = run()
        rows[name] = {"seconds": round(seconds, 2), "trials": trials,
                      "trials_per_hour": round(trials / seconds * 3600),
                      "sm_utilisation_percent": use.mean()}
        print(name, json.dumps(rows[name]), flush=True)
    ratio = (rows["packed"]["trials_per_hour"]
             / rows["keras-tuner"]["trials_per_hour"])
    print(json.dumps({"backend": os.environ.get("KERAS_BACKEND"),
                      "trials": args.trials, "epochs": args.epochs,
                      "samples": args.samples, "packed_over_keras_tuner":
                      round(ratio, 2), **rows}))


if __name__ == "__main__":
    main()
