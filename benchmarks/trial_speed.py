"""What the per-candidate speed-ups of `NASTuner` save, side by side.

The same candidates (`strategy="random"` with a fixed seed proposes the
same op lists whatever they score; no halving, no warm start, no
conventional models first) trained three ways, each in a fresh Python
process, the order rotating with the seed:

- `before`: one batch per compiled call and the optimizer's and metrics'
  variables created inside the first trace of the train step (Keras'
  default with TensorFlow, which then traces the step twice);
- `one-trace`: those variables built before `fit`
  (`_compat.build_training_state`), one batch per call;
- `no-freeze`: that, and `steps_per_execution=None`
  (`tuner.DEFAULT_STEPS_PER_EXECUTION` batches per call);
- `default`: that, and the heap that exists before the search left out of
  its garbage collections (`tuner.frozen_heap`).

Data: scikit-learn digits, 75/25 train/test, 20 % of train for validation,
10 epochs, patience 3, batch 32.

    python benchmarks/trial_speed.py --seeds 3 --trials 15
    python benchmarks/trial_speed.py --variants no-freeze default
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

VARIANTS = ("before", "one-trace", "no-freeze", "default")


def run(variant, seed, trials, epochs):
    import keras_nas
    from keras_nas import _compat

    sys.path.insert(0, os.path.dirname(__file__))
    import peers

    if variant == "before":
        _compat.build_training_state = lambda *args, **kwargs: None
    if variant != "default":
        import contextlib

        import keras_nas.engine.tuner

        keras_nas.engine.tuner.frozen_heap = contextlib.nullcontext
    (x, y), val, test, _ = peers.data(seed)
    search = keras_nas.NASSearch(
        strategy="random", max_trials=trials, seed=seed,
        directory=tempfile.mkdtemp(prefix="trial-speed-"), halving=False,
        warm_start=False, initial_architectures=[],
        training=keras_nas.Training(
            steps_per_execution=1 if variant in ("before", "one-trace")
            else None))
    start = time.perf_counter()
    search.fit(x, y, epochs=epochs, validation_data=val, verbose=0)
    wall = time.perf_counter() - start
    records = search.results()
    return {"variant": variant, "seed": seed, "wall": wall,
            "epochs": sum(r.epochs or 0 for r in records),
            "best_val": max(r.value for r in records
                            if r.value is not None),
            "test": search.evaluate(*test, return_dict=True)["accuracy"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS,
                        default=list(VARIANTS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one, args.seed, args.trials, args.epochs)))
        return
    rows = []
    variants = tuple(args.variants)
    for i, seed in enumerate(range(1, args.seeds + 1)):
        k = i % len(variants)
        order = variants[k:] + variants[:k]
        for variant in order:
            out = subprocess.run(
                [sys.executable, __file__, "--one", variant, "--seed",
                 str(seed), "--trials", str(args.trials), "--epochs",
                 str(args.epochs)], check=True, capture_output=True,
                text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"seed {seed} {variant:<10} wall {r['wall']:6.1f} s, "
                  f"{r['epochs']} epochs, best val {r['best_val']:.4f}, "
                  f"test {r['test']:.4f}", flush=True)
    first = variants[0]
    print(f"\nvariant     wall s (mean)  ratio to {first} (per seed)")
    for variant in variants:
        walls = [r["wall"] for r in rows if r["variant"] == variant]
        ratios = [r["wall"] / b["wall"] for r in rows for b in rows
                  if r["variant"] == variant and b["variant"] == first
                  and b["seed"] == r["seed"]]
        print(f"{variant:<11} {sum(walls) / len(walls):8.1f}       "
              + ", ".join(f"{q:.2f}" for q in ratios))


if __name__ == "__main__":
    main()
