"""Successive halving's two forms side by side at the same time budget:
`Halving(mode="stopping")` (the default) against `mode="promotion"`
(ASHA's Algorithm 2, `keras_nas.schedulers.promotion`).

Data: scikit-learn digits as in `peers.py` (75/25 train/test, 20 % of
train for validation). Both forms run `strategy="random"` (the same
proposals for the same seed, whatever they score), no warm start and no
conventional models first, so that only the form of halving differs;
`epochs=9`, `Halving(min_epochs=1, reduction_factor=3)` (rungs at 1 and 3
epochs, the top at 9), batch 32, `max_time_s` seconds each, each run in a
fresh Python process, the order alternating with the seed. Reported: the
test accuracy of the returned model (`best_model()`), its epochs, the
trials, the candidates (new architectures), the epochs trained in all
(a continuation counts only the epochs it added) and the wall time.

    flock /tmp/keras_nas_bench.lock python benchmarks/halving_modes.py \\
        --seeds 3 --max-time-s 75
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODES = ("stopping", "promotion")


def run(mode, seed, max_time_s, epochs):
    import keras_nas

    sys.path.insert(0, os.path.dirname(__file__))
    import peers

    (x, y), val, test, _ = peers.data(seed)
    search = keras_nas.NASSearch(
        strategy="random", max_trials=1000, max_time_s=max_time_s, seed=seed,
        directory=tempfile.mkdtemp(prefix="halving-modes-"),
        warm_start=False, initial_architectures=[],
        halving=keras_nas.Halving(min_epochs=1, reduction_factor=3,
                                  mode=mode))
    start = time.perf_counter()
    search.fit(x, y, epochs=epochs, validation_data=val, batch_size=32,
               verbose=0)
    wall = time.perf_counter() - start
    records = search.results()
    trials = search.tuner.oracle.trials
    trained = 0
    for r in records:
        metrics = trials[r.trial_id].metrics
        first = (metrics.get_last_value("initial_epoch")
                 if metrics.exists("initial_epoch") else 0) or 0
        trained += (r.epochs or 0) - int(first)
    best = search.results_.best_trial()
    return {"mode": mode, "seed": seed, "wall": wall,
            "trials": len(records),
            "candidates": sum(r.continues is None for r in records),
            "full": sum(r.epochs == epochs for r in records),
            "trained_epochs": trained,
            "best_epochs": int(best.metrics.get_last_value("epochs")),
            "best_val": float(best.score),
            "test": search.evaluate(*test, return_dict=True)["accuracy"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-time-s", type=float, default=75)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one, args.seed, args.max_time_s,
                             args.epochs)))
        return
    rows = []
    for i, seed in enumerate(range(1, args.seeds + 1)):
        order = MODES if i % 2 == 0 else MODES[::-1]
        for mode in order:
            out = subprocess.run(
                [sys.executable, __file__, "--one", mode, "--seed",
                 str(seed), "--max-time-s", str(args.max_time_s), "--epochs",
                 str(args.epochs)], check=True, capture_output=True,
                text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"seed {seed} {mode:<9} test {r['test']:.4f} (val "
                  f"{r['best_val']:.4f}, {r['best_epochs']} epochs), "
                  f"{r['trials']} trials, {r['candidates']} candidates, "
                  f"{r['full']} to {args.epochs} epochs, "
                  f"{r['trained_epochs']} epochs trained, wall "
                  f"{r['wall']:.1f} s", flush=True)
    print("\nmode       test mean   trained epochs  candidates  "
          "test gap to stopping (per seed)")
    for mode in MODES:
        mine = [r for r in rows if r["mode"] == mode]
        gaps = [r["test"] - b["test"] for r in mine for b in rows
                if b["mode"] == "stopping" and b["seed"] == r["seed"]]
        print(f"{mode:<10} {statistics.mean(r['test'] for r in mine):.4f}"
              f"      {statistics.mean(r['trained_epochs'] for r in mine):6.1f}"
              f"          {statistics.mean(r['candidates'] for r in mine):5.1f}"
              "       " + ", ".join(f"{g:+.4f}" for g in gaps))


if __name__ == "__main__":
    main()
