"""Data as users hold it (issue 35): breast cancer's raw features (0.001 to
4,000) searched as they are, with the default preprocessing (a
standardization adapted on the training split, inside the model) against
`preprocessing=False` and against the features standardized by hand.

    flock /tmp/keras_nas_bench.lock python benchmarks/data_forms.py \
        --seeds 0 1 2 --max-trials 10 --epochs 20

Each run: the same seeded 80/20 train/test split; `fit` holds out 20 % of
the training part for validation; the best model is scored on the test
part. Prints one JSON line a run and a table of mean +- standard error.
"""

import argparse
import json
import tempfile
import time

import numpy as np


def _data(seed):
    from sklearn.datasets import load_breast_cancer

    from keras_nas.data.prepare import split

    x, y = load_breast_cancer(return_X_y=True)
    return split(x.astype("float32"), y, 0.2, seed=seed)


def _run(condition, seed, max_trials, epochs):
    import keras_nas

    (x, y), (x_test, y_test) = _data(seed)
    preprocessing = None
    if condition == "raw, preprocessing=False":
        preprocessing = False
    elif condition == "standardized by hand":
        mean, std = x.mean(axis=0), x.std(axis=0)
        x, x_test = (x - mean) / std, (x_test - mean) / std
    search = keras_nas.NASSearch(
        max_trials=max_trials, directory=tempfile.mkdtemp(), seed=seed)
    start = time.perf_counter()
    search.fit(x, y, epochs=epochs, verbose=0, preprocessing=preprocessing)
    seconds = time.perf_counter() - start
    best = search.results_.best_trial()
    val = best.metrics.get_best_value("val_accuracy")
    test = search.evaluate(x_test, y_test, return_dict=True)["accuracy"]
    return {"condition": condition, "seed": seed, "val_accuracy": val,
            "test_accuracy": test, "seconds": round(seconds, 1)}


def _mean_se(values):
    values = np.asarray(values, dtype="float64")
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0
    return f"{values.mean():.4f} ± {se:.4f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    conditions = ["raw, default preprocessing", "raw, preprocessing=False",
                  "standardized by hand"]
    rows = []
    for seed in args.seeds:
        for condition in conditions:
            row = _run(condition, seed, args.max_trials, args.epochs)
            print(json.dumps(row), flush=True)
            rows.append(row)
    print("\n| data | best val_accuracy | test accuracy | seconds |")
    print("|---|---|---|---|")
    for condition in conditions:
        mine = [r for r in rows if r["condition"] == condition]
        print(f"| {condition} | {_mean_se([r['val_accuracy'] for r in mine])}"
              f" | {_mean_se([r['test_accuracy'] for r in mine])} | "
              f"{np.mean([r['seconds'] for r in mine]):.0f} |")


if __name__ == "__main__":
    main()
