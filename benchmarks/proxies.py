"""How well do zero-cost proxies rank architectures on digits?

Draws random valid architectures of the default `SearchSpace` for
scikit-learn's digits (8x8x1), scores each untrained with every proxy of
`keras_nas.proxies`, then trains each (fixed split, seeded) and reports the
Spearman rank correlation of each proxy, of their vote, and of the
parameter count (the baseline) with the trained validation accuracy.

    python benchmarks/proxies.py --archs 100 --epochs 5

Raw rows go to benchmarks/results/proxies_digits.csv.
"""

import argparse
import csv
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

import keras_nas  # noqa: E402
from keras_nas import builder, proxies  # noqa: E402
from keras_nas.data import split  # noqa: E402
from keras_nas.task import Task  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(__file__), "results", "proxies_digits.csv"))
    args = parser.parse_args()

    (x, y), _ = keras_nas.load_digits()
    (x_train, y_train), (x_val, y_val) = split(x, y, 0.2, seed=args.seed)
    task = Task("multiclass", tuple(range(10)))
    space = keras_nas.SearchSpace().bind((8, 8, 1), output_units=10)
    rng = np.random.default_rng(args.seed)
    batch = x_train[rng.permutation(len(x_train))[:64]]
    rows, seen = [], set()
    while len(rows) < args.archs:
        ops = space.random_ops(rng)
        if tuple(ops) in seen:
            continue
        seen.add(tuple(ops))
        plan = space.plan(ops)
        keras.backend.clear_session()
        keras.utils.set_random_seed(args.seed + len(rows))
        start = time.perf_counter()
        scores = proxies.score(
            builder.build_from_plan(plan, task.activation), batch,
            ("naswot", "synflow", "params"))
        proxy_seconds = time.perf_counter() - start
        keras.backend.clear_session()
        keras.utils.set_random_seed(args.seed + len(rows))
        model = builder.build_from_plan(plan, task.activation)
        model.compile("adam", task.loss, metrics=["accuracy"])
        start = time.perf_counter()
        history = model.fit(x_train, y_train, validation_data=(x_val, y_val),
                            epochs=args.epochs, batch_size=32, verbose=0)
        train_seconds = time.perf_counter() - start
        rows.append({"ops": " > ".join(ops), **scores,
                     "val_accuracy": max(history.history["val_accuracy"]),
                     "proxy_seconds": proxy_seconds,
                     "train_seconds": train_seconds})
        print(f"{len(rows):>3} {rows[-1]['val_accuracy']:.3f} "
              f"naswot {scores['naswot']:.1f} synflow {scores['synflow']:.2f} "
              f"params {scores['params']:.0f}  {' > '.join(ops)}", flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    acc = np.array([r["val_accuracy"] for r in rows])
    table = {name: np.array([r[name] for r in rows])
             for name in ("naswot", "synflow", "params")}
    table["vote(naswot, synflow)"] = -proxies._vote(
        [{k: r[k] for k in ("naswot", "synflow")} for r in rows],
        ("naswot", "synflow"))
    table["vote(naswot, params)"] = -proxies._vote(
        [{k: r[k] for k in ("naswot", "params")} for r in rows],
        ("naswot", "params"))
    print(f"\n{len(rows)} architectures, {args.epochs} epochs, digits")
    print(f"{'proxy':<24} {'spearman':>8}")
    for name, values in table.items():
        rho = spearmanr(np.nan_to_num(values, neginf=-1e9), acc).statistic
        print(f"{name:<24} {rho:>8.3f}")
    proxy_s = np.mean([r["proxy_seconds"] for r in rows])
    train_s = np.mean([r["train_seconds"] for r in rows])
    print(f"mean cost per architecture: proxies {proxy_s * 1000:.0f} ms, "
          f"training {train_s:.2f} s ({train_s / proxy_s:.0f}x)")


if __name__ == "__main__":
    main()
