"""Do zero-cost proxies rank digits architectures as training does?

A proxy is only worth a warm start if it orders candidates the way their
trained accuracy does, and better than the free baseline, the parameter
count. For `--archs` random valid architectures of the default image
`SearchSpace` on scikit-learn's digits (8x8x1), this script:

1. scores each untrained candidate under every proxy of
   `keras_nas.proxies` (one seeded mini-batch of 64 training images), timing
   each proxy;
2. trains it for `--epochs` epochs (Adam, batch 32, fixed seeded split) and
   records its best validation accuracy and its training time;
3. prints the Spearman rank correlation of each proxy, of the vote of the
   label-free proxies, and of the parameter count with validation accuracy.

Raw rows go to `benchmarks/results/proxies_digits.csv`, written after every
architecture, so an interrupted run keeps what it measured.

    flock /tmp/keras_nas_bench.lock python benchmarks/proxies.py --archs 120 --epochs 5
"""

import argparse
import csv
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_nas.space import builder
from keras_nas.scoring import proxies
from keras_nas.space import search_space as space_module  # noqa: E402
from keras_nas.data import prepare as data_module  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY_NAMES = ["naswot", "synflow", "snip", "grad_norm", "jacob_cov", "params"]
#: The votes reported: the pairs with NASWOT (the required proxy), the
#: label-free trio, and the pair of the two label-free proxies.
COMBOS = [("naswot", "synflow"), ("naswot", "jacob_cov"), ("naswot", "snip"),
          ("naswot", "params"), ("jacob_cov", "snip"),
          ("naswot", "jacob_cov", "snip"), ("naswot", "synflow", "jacob_cov")]


def spearman(a, b):
    """Spearman's rho, ties sharing their mean rank (no SciPy needed)."""
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    ra, rb = proxies._average_ranks(a), proxies._average_ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def measure(args):
    (x, y), (x_test, y_test) = data_module.load_digits(seed=0)
    (x_tr, y_tr), (x_val, y_val) = data_module.split(x, y, 0.2, seed=0)
    space = space_module.SearchSpace().bind((8, 8, 1), output_units=10)
    rng = np.random.default_rng(args.seed)
    seen, op_lists = set(), []
    while len(op_lists) < args.archs:
        ops = space.random_ops(rng)
        if ops is not None and tuple(ops) not in seen:
            seen.add(tuple(ops))
            op_lists.append(ops)
    pick = np.random.default_rng(args.seed).choice(len(x_tr), 64, replace=False)
    xb, yb = x_tr[pick], y_tr[pick].astype("int32")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    fields = (["index", "ops", "params", "val_accuracy", "final_val_accuracy",
               "train_seconds"] + PROXY_NAMES
              + [f"{p}_ms" for p in PROXY_NAMES] + ["build_ms"])
    rows = []
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for i, ops in enumerate(op_lists):
            keras.backend.clear_session()
            keras.utils.set_random_seed(args.seed + i)
            t0 = time.perf_counter()
            model = builder.build_model(ops, (8, 8, 1), num_classes=10,
                                        op_table=space.op_table)
            row = {"index": i, "ops": " ".join(ops),
                   "params": model.count_params(),
                   "build_ms": 1000 * (time.perf_counter() - t0)}
            for name in PROXY_NAMES:
                t0 = time.perf_counter()
                row[name] = proxies.score(model, xb, yb, [name])[name]
                row[f"{name}_ms"] = 1000 * (time.perf_counter() - t0)
            model.compile(optimizer=keras.optimizers.Adam(1e-3),
                          loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            t0 = time.perf_counter()
            hist = model.fit(x_tr, y_tr, validation_data=(x_val, y_val),
                             epochs=args.epochs, batch_size=32, verbose=0)
            row["train_seconds"] = time.perf_counter() - t0
            row["val_accuracy"] = max(hist.history["val_accuracy"])
            row["final_val_accuracy"] = hist.history["val_accuracy"][-1]
            rows.append(row)
            writer.writerow(row)
            f.flush()
            print(f"[{i + 1}/{len(op_lists)}] val={row['val_accuracy']:.3f} "
                  f"train={row['train_seconds']:.1f}s {row['ops']}", flush=True)
    return rows


def load(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for k, v in row.items():
            if k != "ops":
                row[k] = float(v)
    return rows


def summarize(rows, combos):
    acc = [r["val_accuracy"] for r in rows]
    print(f"\n{len(rows)} architectures; val accuracy "
          f"{np.min(acc):.3f}..{np.max(acc):.3f} (median {np.median(acc):.3f})")
    print(f"{'proxy':<32} {'spearman':>9} {'top-10 mean val':>16} "
          f"{'ms/arch (median)':>17}")
    best10 = lambda s: np.mean(np.array(acc)[np.argsort(s)[::-1][:10]])  # noqa: E731
    for name in PROXY_NAMES:
        s = [r[name] for r in rows]
        print(f"{name:<32} {spearman(s, acc):>9.3f} {best10(s):>16.3f} "
              f"{np.median([r[name + '_ms'] for r in rows]):>17.1f}")
    for combo in combos:
        votes = proxies.vote([{p: r[p] for p in combo} for r in rows], combo)
        ms = np.median([sum(r[p + "_ms"] for p in combo) for r in rows])
        label = "vote(" + ",".join(combo) + ")"
        print(f"{label:<32} {spearman(votes, acc):>9.3f} "
              f"{best10(votes):>16.3f} {ms:>17.1f}")
    print(f"{'(random 10)':<32} {'':>9} {np.mean(acc):>16.3f}")
    train = np.median([r["train_seconds"] for r in rows])
    print(f"\nTraining: median {train:.2f} s/arch "
          f"({np.median([r['build_ms'] for r in rows]):.0f} ms to build).")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archs", type=int, default=120)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(
        HERE, "results", "proxies_digits.csv"))
    parser.add_argument("--analyse-only", action="store_true",
                        help="re-read --out and print the summary only")
    args = parser.parse_args(argv)
    rows = load(args.out) if args.analyse_only else measure(args)
    summarize(rows, combos=COMBOS)


if __name__ == "__main__":
    main()
