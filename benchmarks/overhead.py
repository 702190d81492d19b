"""What a NASSearch trial costs beyond training, side by side in one run.

Three ways to train N candidates on scikit-learn's digits, timed in the same
process, one after another, `--rounds` times (A B C A B C ...):

- A. `NASSearch(strategy="random")`: our search.
- B. A plain Keras loop over the *same* op lists, with the same split,
  epochs, batch size and callbacks (EarlyStopping on val_accuracy with the
  same patience, TerminateOnNaN), and `clear_session()` before each model,
  as the Keras docs advise for models made in a loop.
- C. `keras_tuner.RandomSearch` with a hand-written conv/dense hypermodel of
  the kind a Keras Tuner user writes, at the same number of trials.

For A, a trial's time is split into build+compile+fit (timed inside the trial)
and our bookkeeping (the rest: the oracle, trial files, the checkpoint, the
progress line). For B, build, compile and fit are timed separately.

    python benchmarks/overhead.py --trials 20 --epochs 3 --rounds 2
"""

import argparse
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402

import keras_nas  # noqa: E402
from keras_nas.data import prepare as data_module  # noqa: E402


def run_nas(split, test, trials, epochs, patience, directory):
    (x_tr, y_tr), (x_val, y_val) = split
    start = time.perf_counter()
    search = keras_nas.NASSearch(
        strategy="random", max_trials=trials, seed=0,
        training=keras_nas.Training(patience=patience),
        directory=directory, project_name="nas", overwrite=True)
    search.fit(x_tr, y_tr, validation_data=(x_val, y_val), epochs=epochs,
               batch_size=32, verbose=0)
    wall = time.perf_counter() - start
    records = search.results()
    inside = sum(r.seconds or 0 for r in records)
    _, test_acc = search.evaluate(*test)
    best = max(r.value for r in records if r.value is not None)
    return dict(wall=wall, train=inside, bookkeeping=wall - inside,
                best_val=best, test=test_acc,
                ops=[r.ops for r in records if r.status == "COMPLETED"])


def run_plain(split, test, op_lists, epochs, patience):
    (x_tr, y_tr), (x_val, y_val) = split
    t_build = t_compile = t_fit = 0.0
    best_val, best_model_acc = -1.0, None
    start = time.perf_counter()
    for ops in op_lists:
        keras.backend.clear_session()  # Collects garbage too.
        t0 = time.perf_counter()
        model = keras_nas.build_model(ops, x_tr.shape[1:], num_classes=10)
        t1 = time.perf_counter()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        t2 = time.perf_counter()
        history = model.fit(
            x_tr, y_tr, validation_data=(x_val, y_val), epochs=epochs,
            batch_size=32, verbose=0,
            callbacks=[keras.callbacks.EarlyStopping(
                "val_accuracy", patience=patience, mode="max",
                restore_best_weights=True),
                keras.callbacks.TerminateOnNaN()])
        t3 = time.perf_counter()
        t_build += t1 - t0
        t_compile += t2 - t1
        t_fit += t3 - t2
        val = max(history.history["val_accuracy"])
        if val > best_val:
            best_val = val
            best_model_acc = model.evaluate(*test, verbose=0)[1]
    wall = time.perf_counter() - start
    return dict(wall=wall, build=t_build, compile=t_compile, fit=t_fit,
                best_val=best_val, test=best_model_acc)


def run_keras_tuner(split, test, trials, epochs, patience, directory):
    (x_tr, y_tr), (x_val, y_val) = split

    def build(hp):
        model = keras.Sequential([keras.Input((8, 8, 1))])
        for i in range(hp.Int("conv_layers", 0, 3)):
            model.add(keras.layers.Conv2D(
                hp.Choice(f"filters_{i}", [16, 32, 64]),
                hp.Choice(f"kernel_{i}", [3, 5]), padding="same",
                activation="relu"))
            if hp.Boolean(f"pool_{i}"):
                model.add(keras.layers.MaxPooling2D(2, padding="same"))
        model.add(keras.layers.Flatten())
        for i in range(hp.Int("dense_layers", 0, 2)):
            model.add(keras.layers.Dense(hp.Choice(f"units_{i}", [64, 128]),
                                         activation="relu"))
            if hp.Boolean(f"dropout_{i}"):
                model.add(keras.layers.Dropout(0.25))
        model.add(keras.layers.Dense(10, activation="softmax"))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    start = time.perf_counter()
    tuner = keras_tuner.RandomSearch(
        build, objective="val_accuracy", max_trials=trials, seed=0,
        directory=directory, project_name="kt", overwrite=True)
    tuner.search(x_tr, y_tr, validation_data=(x_val, y_val), epochs=epochs,
                 batch_size=32, verbose=0,
                 callbacks=[keras.callbacks.EarlyStopping(
                     "val_accuracy", patience=patience, mode="max")])
    wall = time.perf_counter() - start
    best = tuner.oracle.get_best_trials(1)[0]
    test_acc = tuner.get_best_models(1)[0].evaluate(*test, verbose=0)[1]
    return dict(wall=wall, best_val=best.score, test=test_acc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    (x, y), test = keras_nas.load_digits()
    split = data_module.split(x, y, 0.2, seed=0)
    directory = tempfile.mkdtemp()
    # Warm-up: the first fit in a process pays TensorFlow's start-up.
    keras_nas.build_model(["dense-16"], (8, 8, 1), num_classes=10).compile(
        "adam", "sparse_categorical_crossentropy")
    rows = []
    try:
        for r in range(args.rounds):
            nas = run_nas(split, test, args.trials, args.epochs, args.patience,
                          directory)
            plain = run_plain(split, test, nas["ops"], args.epochs,
                              args.patience)
            kt = run_keras_tuner(split, test, args.trials, args.epochs,
                                 args.patience, directory)
            rows.append((nas, plain, kt))
            print(f"round {r + 1}: NASSearch {nas['wall']:.1f} s "
                  f"(train {nas['train']:.1f} s, bookkeeping "
                  f"{nas['bookkeeping']:.1f} s) | plain Keras {plain['wall']:.1f} s "
                  f"(build {plain['build']:.1f}, compile {plain['compile']:.2f}, "
                  f"fit {plain['fit']:.1f}) | keras_tuner.RandomSearch "
                  f"{kt['wall']:.1f} s | ratio NAS/plain "
                  f"{nas['wall'] / plain['wall']:.3f}", flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    print()
    print("| round | NASSearch s | of which bookkeeping s | plain Keras s "
          "(build / compile / fit) | NAS / plain | KT RandomSearch s | "
          "best val acc NAS / KT | test acc NAS / KT |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for i, (nas, plain, kt) in enumerate(rows, 1):
        print(f"| {i} | {nas['wall']:.1f} | {nas['bookkeeping']:.1f} | "
              f"{plain['wall']:.1f} ({plain['build']:.1f} / "
              f"{plain['compile']:.2f} / {plain['fit']:.1f}) | "
              f"{nas['wall'] / plain['wall']:.3f} | {kt['wall']:.1f} | "
              f"{nas['best_val']:.4f} / {kt['best_val']:.4f} | "
              f"{nas['test']:.4f} / {kt['test']:.4f} |")


if __name__ == "__main__":
    main()
