"""Other ensemble selection rules, scored on the searches `ensemble.py` ran
(issue 36, item 5): is the default rule (`analysis.ensemble.select`:
greedy forward selection with replacement on the validation log loss,
stopping at the first pick that does not improve it) overfitting the small
validation split?

Reads the `.npz` files that `ensemble.py --keep DIR` saved (each completed
trial's validation predictions at its best epoch and its test predictions)
and prints, per task, each rule's test accuracy, NLL and ECE, and its gaps
to `best_model()` (the best validation accuracy, ties to the lower
validation loss) paired by seed. Nothing is trained.

    python benchmarks/ensemble_rules.py /tmp/ens_preds --strategy default
"""

import argparse
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ensemble import scores  # noqa: E402  (the same accuracy, NLL, ECE)
from equal_time import _mean_se  # noqa: E402


def nll(p, y):
    return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)).mean())


def accuracy(p, y):
    return float((p.argmax(1) == y).mean())


def forward(val, y, size, replace=True, early=True):
    """Forward selection on the validation NLL: `early` stops at the first
    pick that does not improve (the default rule), else it picks `size`
    and keeps the best prefix (Caruana et al.'s own)."""
    ids = list(range(len(val)))
    picks = [min(ids, key=lambda i: nll(val[i], y))]
    total = val[picks[0]].copy()
    history = [(nll(total, y), list(picks))]
    while len(picks) < size:
        n = len(picks) + 1
        allowed = [i for i in ids if replace or i not in picks]
        if not allowed:
            break
        best = min(allowed, key=lambda i: nll((total + val[i]) / n, y))
        value = nll((total + val[best]) / n, y)
        if early and not value < history[-1][0]:
            break
        picks.append(best)
        total += val[best]
        history.append((value, list(picks)))
    return min(history, key=lambda h: (h[0], len(h[1])))[1]


def halves(val, y, size=10):
    """Picks chosen on the even validation samples, how many of them to
    keep on the odd ones."""
    a = np.arange(len(y)) % 2 == 0
    ids = list(range(len(val)))
    picks, total, prefixes = [], None, []
    for _ in range(size):
        n = len(picks) + 1
        best = min(ids, key=lambda i: nll(
            (val[i][a] if total is None else total + val[i][a]) / n, y[a]))
        picks.append(best)
        total = val[best][a].copy() if total is None else total + val[best][a]
        prefixes.append(list(picks))
    return min(prefixes, key=lambda s: (nll(
        np.mean(val[s], axis=0)[~a], y[~a]), len(s)))


def best_model(val, y):
    return [min(range(len(val)), key=lambda i: (-accuracy(val[i], y),
                                                nll(val[i], y), i))]


def top(k):
    return lambda val, y: sorted(range(len(val)),
                                 key=lambda i: nll(val[i], y))[:k]


RULES = {
    "best_model() (val accuracy)": best_model,
    "best single by val NLL": top(1),
    "default: with replacement, stop at no gain, 5": (
        lambda v, y: forward(v, y, 5)),
    "with replacement, 5 picks, best prefix": (
        lambda v, y: forward(v, y, 5, early=False)),
    "with replacement, 20 picks, best prefix": (
        lambda v, y: forward(v, y, 20, early=False)),
    "without replacement, 5": (
        lambda v, y: forward(v, y, 5, replace=False, early=False)),
    "picks on half the validation, count on the other": halves,
    "average of the 5 best by val NLL": top(5),
}


def two_columns(p):
    """A sigmoid's one column as two class probabilities."""
    if p.shape[-1] != 1:
        return p
    return np.concatenate([1.0 - p, p], axis=-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--strategy", default="default")
    args = parser.parse_args()
    results = {}
    for path in sorted(glob.glob(os.path.join(args.folder,
                                              f"{args.strategy}-*.npz"))):
        saved = np.load(path)
        val = two_columns(saved["val"].astype("float64"))
        test = two_columns(saved["test"].astype("float64"))
        y = saved["val_labels"].astype(int).ravel()
        task = os.path.basename(path).split("-")[1]
        for name, rule in RULES.items():
            picks = rule(val, y)
            row = scores(np.mean(test[picks], axis=0), saved["test_labels"])
            row["members"] = len(set(picks))
            results.setdefault(task, {}).setdefault(name, []).append(row)
    for task, rules in results.items():
        base = rules["best_model() (val accuracy)"]
        print(f"\n**{task}**, {len(base)} seeds\n")
        print("| rule | accuracy − best_model() | NLL − best_model() | "
              "ECE | members |")
        print("| --- | --- | --- | --- | --- |")
        for name, rows in rules.items():
            cells = []
            for metric in ("accuracy", "nll"):
                mean, se, _ = _mean_se([r[metric] - b[metric]
                                        for r, b in zip(rows, base)])
                cells.append(f"{mean:+.4f} ± {se:.4f}")
            ece = np.mean([r["ece"] for r in rows])
            members = np.mean([r["members"] for r in rows])
            print(f"| {name} | " + " | ".join(cells)
                  + f" | {ece:.4f} | {members:.1f} |")


if __name__ == "__main__":
    main()
