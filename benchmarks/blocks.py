"""Block vocabularies against single-layer ones, on offline tasks.

For each task and seed, the same random search (uniform valid genotypes from
`SearchSpace.random_ops`, the way `strategy="random"` proposes them) runs
over each vocabulary: every candidate is built by `keras_nas.builder`,
trained for a few epochs, scored on a validation split, and its test
accuracy recorded. Two readings:

- equal trials: the test accuracy of the best-on-validation candidate after
  `--trials` candidates;
- equal wall time: the same, counting only the candidates that finished
  within the wall time the cheaper vocabulary needed for its `--trials`.

Tasks (all built here, no download):

- `digits`: scikit-learn's 8x8 digits.
- `colour32`: the digits upsampled to 32x32, drawn in a random light colour
  on a random dark background or the other way round (so the contrast is
  never zero, but its sign and hue vary), with noise.
- `sequence`: two noisy pulses at random places in 60 steps of 2 channels;
  the label is whether their signs differ (an XOR across a long gap).
- `text`: 40 token ids from 30: filler words, 3 or 5 sentiment words (5
  positive ids, 5 negative ids), each preceded by the negation id with
  probability 1/2, which flips it; the label is the sign of the sum. A bag
  of words cannot tell "not good" from "good": order matters, locally, and
  the evidence is spread over the whole sequence.

    flock /tmp/keras_nas_bench.lock python benchmarks/blocks.py \
        --seeds 3 --trials 6 --out benchmarks/results/blocks.json
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from keras_nas.space import builder
from keras_nas.space.search_space import SearchSpace

TASKS = {
    # name: (vocabulary A, vocabulary B, epochs)
    "digits": ("image-layers", "image-blocks", 5),
    "colour32": ("image-layers", "image-blocks", 5),
    "sequence": ("sequence-layers", "sequence-blocks", 5),
    "text": ("text-layers", "text-blocks", 10),
}


def _digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (x / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y


def _colour32(seed=0):
    x, y = _digits()
    rng = np.random.default_rng(seed)
    big = np.kron(x[..., 0], np.ones((4, 4)))[..., None]  # (n, 32, 32, 1)
    dark = rng.uniform(0.0, 0.35, (len(x), 1, 1, 3))
    light = rng.uniform(0.65, 1.0, (len(x), 1, 1, 3))
    swap = rng.random((len(x), 1, 1, 1)) < 0.5
    fg, bg = np.where(swap, dark, light), np.where(swap, light, dark)
    img = big * fg + (1 - big) * bg + 0.1 * rng.normal(size=big.shape[:3] + (3,))
    return img.astype("float32"), y


def _sequence(n=2000, steps=60, seed=0):
    rng = np.random.default_rng(seed)
    x = 0.5 * rng.normal(size=(n, steps, 2))
    signs = rng.choice([-1.0, 1.0], (n, 2))
    a = rng.integers(0, steps // 3, n)
    b = rng.integers(2 * steps // 3, steps - 3, n)
    for i in range(n):
        x[i, a[i]:a[i] + 3, 0] += 2 * signs[i, 0]
        x[i, b[i]:b[i] + 3, 1] += 2 * signs[i, 1]
    y = (signs[:, 0] != signs[:, 1]).astype("int32")
    return x.astype("float32"), y


def _text(n=2000, steps=40, seed=0):
    rng = np.random.default_rng(seed)
    negation, positive, negative = 1, np.arange(2, 7), np.arange(7, 12)
    x = rng.integers(12, 30, (n, steps))  # Filler words.
    y = np.zeros(n, "int32")
    for i in range(n):
        k = rng.choice([3, 5])
        slots = np.sort(rng.choice(np.arange(1, steps, 2), k, replace=False))
        total = 0
        for slot in slots:
            sign = rng.choice([-1, 1])
            x[i, slot] = rng.choice(positive if sign > 0 else negative)
            if rng.random() < 0.5:
                x[i, slot - 1] = negation
                sign = -sign
            total += sign
        y[i] = int(total > 0)
    return x.astype("float32"), y


def arrays(task):
    """The whole data set of a task, `(x, y)`, before any split."""
    return {"digits": _digits, "colour32": _colour32, "sequence": _sequence,
            "text": _text}[task]()


def load(task):
    x, y = arrays(task)
    order = np.random.default_rng(123).permutation(len(x))
    x, y = x[order], y[order]
    n_train, n_val = int(0.6 * len(x)), int(0.2 * len(x))
    return ((x[:n_train], y[:n_train]),
            (x[n_train:n_train + n_val], y[n_train:n_train + n_val]),
            (x[n_train + n_val:], y[n_train + n_val:]))


def search(task, vocabulary, seed, trials, epochs, data):
    (x, y), (xv, yv), (xt, yt) = data
    classes = int(y.max()) + 1
    units = 1 if classes == 2 else classes
    activation = "sigmoid" if classes == 2 else "softmax"
    loss = ("binary_crossentropy" if classes == 2
            else "sparse_categorical_crossentropy")
    space = SearchSpace(vocabulary).adapted(x).bind(x.shape[1:],
                                                   output_units=units)
    rng = np.random.default_rng(seed)
    records = []
    for trial in range(trials):
        ops = space.random_ops(rng)
        keras.utils.clear_session()
        keras.utils.set_random_seed(seed * 1000 + trial)
        start = time.perf_counter()
        plan = space.plan(ops)
        model = builder.build_from_plan(plan, activation,
                                        op_table=space.op_table)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss,
                      metrics=["accuracy"])
        model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
        val = model.evaluate(xv, yv, verbose=0)[1]
        test = model.evaluate(xt, yt, verbose=0)[1]
        records.append({"ops": ops, "params": plan.params, "val": val,
                        "test": test, "seconds": time.perf_counter() - start})
        print(f"{task} {vocabulary} seed {seed} trial {trial}: "
              f"{' > '.join(ops)} val {val:.3f} test {test:.3f} "
              f"{records[-1]['seconds']:.1f}s", flush=True)
    return records


def best_within(records, seconds=None):
    """Test accuracy of the best-on-validation record finished in time."""
    elapsed, done = 0.0, []
    for r in records:
        elapsed += r["seconds"]
        if seconds is not None and elapsed > seconds + 1e-9:
            break
        done.append(r)
    if not done:
        return None
    return max(done, key=lambda r: r["val"])["test"]


def summarize(results):
    lines = ["| task | vocabulary | trials | seconds | best test acc, equal "
             "trials | best test acc, equal wall time |",
             "| --- | --- | --- | --- | --- | --- |"]
    for task, (a, b, _) in TASKS.items():
        if task not in results:
            continue
        runs = results[task]
        seeds = sorted(runs[a])
        budget = {s: min(sum(r["seconds"] for r in runs[v][s]) for v in (a, b))
                  for s in seeds}
        for v in (a, b):
            trials = [best_within(runs[v][s]) for s in seeds]
            timed = [best_within(runs[v][s], budget[s]) for s in seeds]
            timed = [t for t in timed if t is not None]
            secs = np.mean([sum(r["seconds"] for r in runs[v][s])
                            for s in seeds])
            lines.append(
                f"| {task} | {v} | {len(runs[v][seeds[0]])} | {secs:.0f} | "
                f"{np.mean(trials):.3f} ± {np.std(trials):.3f} | "
                + (f"{np.mean(timed):.3f} ± {np.std(timed):.3f} "
                   f"({len(timed)}/{len(seeds)} seeds)" if timed else "-")
                + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    results = {}
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)  # Resume: finished runs are kept.
    for task in args.tasks:
        a, b, epochs = TASKS[task]
        epochs = max(1, round(epochs * args.epochs_scale))
        data = load(task)
        runs = results.setdefault(task, {a: {}, b: {}})
        for seed in range(args.seeds):
            for vocabulary in (a, b):
                if str(seed) in runs[vocabulary]:
                    continue
                runs[vocabulary][str(seed)] = search(
                    task, vocabulary, seed, args.trials, epochs, data)
                if args.out:
                    os.makedirs(os.path.dirname(os.path.abspath(args.out)),
                                exist_ok=True)
                    with open(args.out, "w") as f:
                        json.dump(results, f, indent=1)
    print(summarize(results))


if __name__ == "__main__":
    main()
