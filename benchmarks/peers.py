"""keras_nas against the searches a Keras user would write by hand.

Side by side, in one run, on the same data, split, epochs and patience,
each system and seed in a fresh Python process (`--no-isolate`: all in
this one):
scikit-learn digits (8x8x1), 75/25 train/test, 20% of train for validation
(one seeded split, given to every system as `validation_data`), 10 epochs,
early stopping with patience 3, 15 trials:

- `nas`: `keras_nas.NASSearch` with its defaults;
- `nas-no-defaults`: the same without the conventional models trained
  first (`initial_architectures=[]`), to see what the search itself adds;
- `nas-plain`: without halving, warm start or conventional models (what
  keras_nas 0.1 did);
- `kt-random`, `kt-bayes`: Keras Tuner's `RandomSearch` and
  `BayesianOptimization` over a conventional conv/pool/dense hypermodel;
- `optuna-tpe`: Optuna's TPE sampler over the same hypermodel;
- `nas-half-time`: `NASSearch` with `max_time_s` set to half the peers' mean
  wall time (and no trial limit to speak of): the target is that it reaches
  the peers' mean test accuracy in that time.

After each trial, the test accuracy of the trial best on validation so far
(its model at the end of its training) gives the curve of test accuracy
against wall time; evaluating it is taken off the clock.

Per system and seed: wall time, time to its best validation score, and the
test accuracy of the model it returns; per trial, the elapsed time and the
best validation accuracy so far (the curve). Needs `pip install .[benchmarks]`.

`--task colour32` or `--task sequence` runs the same on a task of
`blocks.py` (its data, the same seeded splits), the peers over a hypermodel
written for it: `colour_conv` (conv/pool blocks for 32x32 colour images) and
`sequence_model` (Conv1D blocks, then an LSTM or a global pooling).
`equal_time.py` runs these tasks at equal wall time.

    python benchmarks/peers.py --seeds 3
"""

import argparse
import json
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402

import keras_nas  # noqa: E402
from keras_nas.data.prepare import split  # noqa: E402

LOG = []  # (seconds, best val_accuracy of a trial, its test accuracy)


class TrialLog(keras.callbacks.Callback):
    """Notes each trial's end, its best validation accuracy and the test
    accuracy of its model at the end of training. Searches copy their
    callbacks per trial, so the state is the class's. Evaluating on the test
    set is taken off the clock."""

    start = 0.0
    paused = 0.0  # Seconds spent evaluating, not searching.
    test = None

    def on_train_begin(self, logs=None):
        self.best = 0.0

    def on_epoch_end(self, epoch, logs=None):
        self.best = max(self.best, float((logs or {}).get("val_accuracy", 0)))

    def on_train_end(self, logs=None):
        now = time.perf_counter()
        acc = float(self.model.evaluate(*TrialLog.test, verbose=0,
                                        return_dict=True)["accuracy"])
        LOG.append((now - TrialLog.start - TrialLog.paused, self.best, acc))
        TrialLog.paused += time.perf_counter() - now


TASKS = ("digits", "colour32", "sequence")


def data(seed, task="digits"):
    """The seeded split of a task: fit, validation, test and fit+validation,
    each `(x, y)`; 25 % test, then 20 % of the rest for validation."""
    if task == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = (digits.images / 16.0).astype("float32")[..., None]
        y = digits.target.astype("int64")
    else:
        import sys

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import blocks

        x, y = blocks.arrays(task)
        y = y.astype("int64")
    (x_train, y_train), (x_test, y_test) = split(x, y, 0.25, seed=seed)
    (x_fit, y_fit), (x_val, y_val) = split(x_train, y_train, 0.2, seed=seed)
    return (x_fit, y_fit), (x_val, y_val), (x_test, y_test), (x_train, y_train)


def head(model, hp, units, outputs, activation, loss):
    """The end every hypermodel here shares: a dropout or not, a searched
    dense layer, the output layer, and Adam at a searched learning rate."""
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(0.25))
    model.add(keras.layers.Dense(hp.Choice("units", units),
                                 activation="relu"))
    model.add(keras.layers.Dense(outputs, activation=activation))
    model.compile(
        keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
        loss, metrics=["accuracy"])
    return model


def conventional(hp):
    """The hypermodel a Keras user writes for small images."""
    model = keras.Sequential([keras.Input((8, 8, 1))])
    for i in range(hp.Int("conv_blocks", 1, 2)):
        model.add(keras.layers.Conv2D(
            hp.Choice(f"filters_{i}", [16, 32, 64]),
            hp.Choice(f"kernel_{i}", [3, 5]), padding="same",
            activation="relu"))
        if hp.Boolean(f"pool_{i}"):
            model.add(keras.layers.MaxPooling2D())
    model.add(keras.layers.Flatten())
    return head(model, hp, [32, 64, 128, 256], 10, "softmax",
                "sparse_categorical_crossentropy")


def colour_conv(hp):
    """The hypermodel a Keras user writes for 32x32 colour images: conv
    blocks, each pooled, then a flatten or a global average."""
    model = keras.Sequential([keras.Input((32, 32, 3))])
    for i in range(hp.Int("conv_blocks", 1, 3)):
        model.add(keras.layers.Conv2D(
            hp.Choice(f"filters_{i}", [16, 32, 64]),
            hp.Choice(f"kernel_{i}", [3, 5]), padding="same",
            activation="relu"))
        if hp.Boolean(f"batchnorm_{i}"):
            model.add(keras.layers.BatchNormalization())
        model.add(keras.layers.MaxPooling2D())
    if hp.Choice("head", ["flatten", "global_average"]) == "flatten":
        model.add(keras.layers.Flatten())
    else:
        model.add(keras.layers.GlobalAveragePooling2D())
    return head(model, hp, [32, 64, 128, 256], 10, "softmax",
                "sparse_categorical_crossentropy")


def sequence_model(hp):
    """The hypermodel a Keras user writes for a binary label of a
    (60, 2) sequence: Conv1D blocks (none to three), then an LSTM or a
    global max or average pooling."""
    model = keras.Sequential([keras.Input((60, 2))])
    for i in range(hp.Int("conv_blocks", 0, 3)):
        model.add(keras.layers.Conv1D(
            hp.Choice(f"filters_{i}", [16, 32, 64]),
            hp.Choice(f"kernel_{i}", [3, 5, 7]), padding="same",
            activation="relu"))
        if hp.Boolean(f"pool_{i}"):
            model.add(keras.layers.MaxPooling1D())
    last = hp.Choice("head", ["lstm", "global_max", "global_average"])
    if last == "lstm":
        model.add(keras.layers.LSTM(hp.Choice("lstm_units", [16, 32, 64])))
    elif last == "global_max":
        model.add(keras.layers.GlobalMaxPooling1D())
    else:
        model.add(keras.layers.GlobalAveragePooling1D())
    return head(model, hp, [16, 32, 64, 128], 1, "sigmoid",
                "binary_crossentropy")


HYPERMODELS = {"digits": conventional, "colour32": colour_conv,
               "sequence": sequence_model}


def early_stopping(restore=False):
    return keras.callbacks.EarlyStopping("val_accuracy", patience=3,
                                         mode="max",
                                         restore_best_weights=restore)


def run_nas(d, seed, trials, epochs, workdir, max_time_s=None, **options):
    (x, y), val, test, _ = d
    search = keras_nas.NASSearch(
        max_trials=trials, seed=seed, directory=workdir, overwrite=True,
        max_time_s=max_time_s, **options)
    search.fit(x, y, epochs=epochs, validation_data=val, verbose=0,
               callbacks=[TrialLog()])
    return search.evaluate(*test, return_dict=True)["accuracy"]


def run_kt(d, seed, trials, epochs, workdir, cls, hypermodel=conventional):
    (x, y), val, test, _ = d
    tuner = cls(hypermodel, objective="val_accuracy", max_trials=trials,
                seed=seed, directory=workdir, overwrite=True)
    tuner.search(x, y, validation_data=val, epochs=epochs, verbose=0,
                 callbacks=[early_stopping(), TrialLog()])
    model = tuner.get_best_models(1)[0]
    return float(model.evaluate(*test, verbose=0)[1])


def run_optuna(d, seed, trials, epochs, workdir, hypermodel=conventional):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    (x, y), val, test, _ = d
    best = {"value": -1.0, "weights": None, "hp": None}

    class Suggest:  # The conventional hypermodel, fed by an Optuna trial.
        def __init__(self, trial):
            self.trial = trial

        def Int(self, name, low, high):
            return self.trial.suggest_int(name, low, high)

        def Choice(self, name, values):
            return self.trial.suggest_categorical(name, values)

        def Boolean(self, name):
            return self.trial.suggest_categorical(name, [False, True])

        def Float(self, name, low, high, sampling=None):
            return self.trial.suggest_float(name, low, high,
                                            log=sampling == "log")

    def objective(trial):
        keras.backend.clear_session()
        model = hypermodel(Suggest(trial))
        history = model.fit(x, y, validation_data=val, epochs=epochs,
                            verbose=0, batch_size=32,
                            callbacks=[early_stopping(restore=True),
                                       TrialLog()])
        value = max(history.history["val_accuracy"])
        if value > best["value"]:
            best.update(value=value, weights=model.get_weights(),
                        hp=dict(trial.params))
        return value

    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    keras.backend.clear_session()
    model = hypermodel(_Fixed(best["hp"]))
    model.set_weights(best["weights"])
    return float(model.evaluate(*test, verbose=0)[1])


class _Fixed:
    """Replays an Optuna trial's values through the hypermodel."""

    def __init__(self, values):
        self.values = values

    def Int(self, name, *args):
        return self.values[name]

    Choice = Boolean = Int

    def Float(self, name, *args, **kwargs):
        return self.values[name]


def measure(name, run, seed, *args):
    LOG.clear()
    keras.backend.clear_session()
    workdir = tempfile.mkdtemp(prefix=f"peers-{name}-")
    TrialLog.test = args[0][2]
    TrialLog.paused = 0.0
    TrialLog.start = time.perf_counter()
    try:
        test_acc = run(*args[:1], seed, *args[1:], workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    wall = time.perf_counter() - TrialLog.start - TrialLog.paused
    # The curve: after each trial, the test accuracy of the trial that is
    # best on validation so far.
    curve, best, best_test = [], -1.0, 0.0
    for t, v, acc in LOG:
        if v > best:
            best, best_test = v, acc
        curve.append((round(t, 2), round(best, 4), round(best_test, 4)))
    to_best = next((t for t, v, _ in curve if v == round(best, 4)), wall)
    row = {"system": name, "seed": seed, "wall": wall, "to_best": to_best,
           "test_accuracy": test_acc, "trials": len(LOG), "curve": curve}
    print(f"{name:<14} seed {seed}: wall {wall:6.1f} s, best val at "
          f"{to_best:6.1f} s, test {test_acc:.4f}, {len(LOG)} trials",
          flush=True)
    return row


def systems(args):
    """Each system's run, by name."""
    hypermodel = HYPERMODELS[args.task]
    return {
        "kt-random": lambda d, s, w: run_kt(d, s, args.trials, args.epochs,
                                            w, keras_tuner.RandomSearch,
                                            hypermodel),
        "kt-bayes": lambda d, s, w: run_kt(
            d, s, args.trials, args.epochs, w,
            keras_tuner.BayesianOptimization, hypermodel),
        "optuna-tpe": lambda d, s, w: run_optuna(d, s, args.trials,
                                                 args.epochs, w, hypermodel),
        "nas": lambda d, s, w: run_nas(d, s, args.trials, args.epochs, w),
        "nas-no-defaults": lambda d, s, w: run_nas(
            d, s, args.trials, args.epochs, w, initial_architectures=[]),
        "nas-plain": lambda d, s, w: run_nas(
            d, s, args.trials, args.epochs, w, initial_architectures=[],
            halving=False, warm_start=False),
        "nas-half-time": lambda d, s, w: run_nas(
            d, s, 1000, args.epochs, w, max_time_s=args.max_time_s),
        "nas-no-defaults-half-time": lambda d, s, w: run_nas(
            d, s, 1000, args.epochs, w, max_time_s=args.max_time_s,
            initial_architectures=[]),
    }


HALF_TIME = ("nas-half-time", "nas-no-defaults-half-time")


def run_one(args, name, seed):
    """One system and seed: here, or (`--isolate`, the default) in a fresh
    Python process, so that no run inherits another's traced models, memory
    or warm caches."""
    if not args.isolate:
        return measure(name, systems(args)[name], seed,
                       data(seed, args.task))
    import subprocess
    import sys

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    command = [sys.executable, os.path.abspath(__file__), "--one", name,
               "--seed", str(seed), "--trials", str(args.trials),
               "--epochs", str(args.epochs), "--row-out", out,
               "--task", args.task]
    if args.max_time_s is not None:
        command += ["--max-time-s", str(args.max_time_s)]
    try:
        subprocess.run(command, check=True)
        with open(out) as f:
            return json.load(f)
    finally:
        os.remove(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--task", choices=TASKS, default="digits",
                        help="the data (colour32, sequence: blocks.py's)")
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--systems", nargs="+", default=None,
                        help="run only these systems (nas-half-time needs "
                        "the peers)")
    parser.add_argument("--no-isolate", dest="isolate", action="store_false",
                        help="run every system in this process (the "
                        "process slows as TensorFlow keeps traced models)")
    parser.add_argument("--out", default=None,
                        help="default: results/peers_<task>.json")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--row-out", help=argparse.SUPPRESS)
    parser.add_argument("--max-time-s", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--half-only", action="store_true",
                        help="keep the rows in --out and run only the "
                        "half-time systems named in --systems (default: "
                        "all), at half the peers' mean wall time there")
    args = parser.parse_args()
    if args.out is None:
        args.out = os.path.join(os.path.dirname(__file__), "results",
                                f"peers_{args.task}.json")
    if args.one:  # A child of `run_one`.
        row = measure(args.one, systems(args)[args.one], args.seed,
                      data(args.seed, args.task))
        with open(args.row_out, "w") as f:
            json.dump(row, f)
        return
    rows = []
    peers = {k: v for k, v in systems(args).items() if k not in HALF_TIME}
    if args.systems:
        peers = {k: v for k, v in peers.items() if k in args.systems}
    # Seeds from 1: Keras Tuner treats a seed of 0 as no seed.
    seeds = range(1, args.seeds + 1)
    halves = [n for n in HALF_TIME if not args.systems or n in args.systems]
    if args.half_only:
        with open(args.out) as f:
            rows = [r for r in json.load(f) if r["system"] not in halves]
        peers = {k: v for k, v in peers.items()
                 if any(r["system"] == k for r in rows)}
    else:
        halves = halves[:1] if not args.systems else halves
        names = list(peers)
        for i, seed in enumerate(seeds):
            # Side by side, seed by seed; the order rotates with the seed,
            # so that no system always runs first or last on a loaded
            # machine.
            for name in names[i % len(names):] + names[:i % len(names)]:
                rows.append(run_one(args, name, seed))
    peer_rows = [r for r in rows if not r["system"].startswith("nas")]
    half = 0.5 * np.mean([r["wall"] for r in peer_rows]) if peer_rows else 0
    args.max_time_s = half
    for seed in seeds if half else ():
        for name in halves:
            rows.append(run_one(args, name, seed))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)

    def at(row, seconds):
        """Test accuracy of the best-on-validation trial by `seconds`."""
        done = [acc for t, _, acc in row["curve"] if t <= seconds]
        return done[-1] if done else float("nan")

    print(f"\n{'system':<16} {'wall s':>12} {'to best s':>12} "
          f"{'test acc':>16} {'at half':>8} trials")
    for name in list(peers) + list(HALF_TIME):
        mine = [r for r in rows if r["system"] == name]
        if not mine:
            continue
        w = [r["wall"] for r in mine]
        b = [r["to_best"] for r in mine]
        a = [r["test_accuracy"] for r in mine]
        n = [r["trials"] for r in mine]
        h = [at(r, half) for r in mine]
        print(f"{name:<16} {np.mean(w):6.1f}±{np.std(w):4.1f} "
              f"{np.mean(b):6.1f}±{np.std(b):4.1f} "
              f"{np.mean(a):.4f}±{np.std(a):.4f} {np.nanmean(h):8.4f} "
              f"{np.mean(n):5.1f}")
    print("'at half': test accuracy of the best-on-validation trial so far "
          f"at {half:.1f} s, half the peers' mean wall time (nan: no trial "
          "had ended by then)")
    print(f"\npeers' mean wall time {2 * half:.1f} s; nas-half-time ran with "
          f"max_time_s={half:.1f} s; peers' mean test accuracy "
          f"{np.mean([r['test_accuracy'] for r in peer_rows]):.4f}")


if __name__ == "__main__":
    main()
