"""Packed training (issue 34): several candidates in one compiled step,
against one at a time and against a careful plain Keras loop, side by side.

Mode `speed` (default): the same candidates (`strategy="random"` with a
fixed seed proposes the same op lists whatever they score; halving, warm
start and conventional models off), `--trials` of them for at most
`--epochs` epochs each (early stopping, patience 3), trained three ways,
each in a fresh Python process, the order rotating with the seed:

- `plain`: a careful plain Keras loop over the same op lists:
  `clear_session()` before each model, `steps_per_execution=16`, the same
  split, batch size and callbacks (EarlyStopping on val_accuracy,
  TerminateOnNaN);
- `alone`: `NASSearch`, one candidate at a time
  (`KerasTunerEngine(pack_size=1)`);
- `packed`: `NASSearch` with the default `pack_size="auto"` (or
  `--pack-size N`).

Reported per task: wall time, trials per hour, the ratio to `plain` paired
by seed, and each candidate's best validation accuracy packed minus alone
(the same op list, paired), mean ± standard error over all candidates.

Mode `equal-time` (`--budget S`): the default search for `S` seconds
(`max_time_s`), packed against alone: trials trained and the returned
model's test accuracy, paired by seed.

Data: the seeded splits of `peers.data` (25 % test, 20 % of the rest for
validation). Rows go to a JSON-lines file (`--out`); an interrupted run
resumes; `--summary-only` prints the tables.

    flock /tmp/keras_nas_bench.lock python benchmarks/packing.py \\
        --tasks digits colour32 sequence --seeds 3
    flock /tmp/keras_nas_bench.lock python benchmarks/packing.py \\
        --mode equal-time --budget 60 --tasks digits colour32 --seeds 3
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from equal_time import _mean_se, read  # noqa: E402  (one row format)

OUT = os.path.join(HERE, "results", "packing.jsonl")
PATIENCE = 3


def _search(task, seed, pack_size, directory, **options):
    import keras_nas

    return keras_nas.NASSearch(
        seed=seed, directory=directory, overwrite=True,
        training=keras_nas.Training(patience=PATIENCE),
        engine=keras_nas.KerasTunerEngine(pack_size=pack_size), **options)


def run_speed(variant, task, seed, trials, epochs, pack_size):
    import peers

    (x, y), val, test, _ = peers.data(seed, task)
    workdir = tempfile.mkdtemp(prefix="packing-")
    # The op lists: what the random strategy proposes under this seed
    # (they do not depend on scores), read from a search of one epoch
    # that is not timed.
    options = dict(strategy="random", max_trials=trials, halving=False,
                   warm_start=False, initial_architectures=[])
    if variant == "plain":
        lister = _search(task, seed, 1, os.path.join(workdir, "list"),
                         **options)
        lister.fit(x[:64], y[:64], epochs=1, validation_data=val, verbose=0)
        op_lists = [r.ops for r in lister.results()]
        return dict(_plain(x, y, val, op_lists, epochs), ops=op_lists)
    size = 1 if variant == "alone" else pack_size
    search = _search(task, seed, size, os.path.join(workdir, "s"), **options)
    start = time.perf_counter()
    search.fit(x, y, epochs=epochs, validation_data=val, verbose=0)
    wall = time.perf_counter() - start
    records = search.results()
    return {"wall": wall, "trials": len(records),
            "epochs": sum(r.epochs or 0 for r in records),
            "values": {r.trial_id: r.value for r in records},
            "ops": [r.ops for r in records]}


def _plain(x, y, val, op_lists, epochs):
    import keras

    import keras_nas

    start = time.perf_counter()
    values, total = {}, 0
    for i, ops in enumerate(op_lists):
        keras.backend.clear_session()
        model = keras_nas.build_model(ops, x.shape[1:],
                                      num_classes=int(y.max()) + 1)
        model.compile(optimizer="adam", metrics=["accuracy"],
                      loss="sparse_categorical_crossentropy",
                      steps_per_execution=16)
        history = model.fit(
            x, y, validation_data=val, epochs=epochs, batch_size=32,
            verbose=0, callbacks=[
                keras.callbacks.EarlyStopping(
                    "val_accuracy", patience=PATIENCE, mode="max",
                    restore_best_weights=True),
                keras.callbacks.TerminateOnNaN()])
        values[str(i)] = max(history.history["val_accuracy"])
        total += len(history.epoch)
    return {"wall": time.perf_counter() - start, "trials": len(op_lists),
            "epochs": total, "values": values}


def run_equal_time(variant, task, seed, budget, pack_size):
    import peers

    (x, y), val, test, _ = peers.data(seed, task)
    size = 1 if variant == "alone" else pack_size
    search = _search(task, seed, size, tempfile.mkdtemp(prefix="packing-"),
                     max_trials=10_000, max_time_s=budget)
    start = time.perf_counter()
    search.fit(x, y, epochs=10, validation_data=val, verbose=0)
    wall = time.perf_counter() - start
    return {"wall": wall, "trials": len(search.results()),
            "test": float(search.evaluate(*test, return_dict=True)
                          ["accuracy"])}


def _isolated(args, variant, task, seed):
    cmd = [sys.executable, os.path.abspath(__file__), "--one", variant,
           "--tasks", task, "--seed", str(seed), "--mode", args.mode,
           "--trials", str(args.trials), "--epochs", str(args.epochs),
           "--budget", str(args.budget), "--pack-size", str(args.pack_size)]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def summary(rows):
    lines = []
    for mode in ("speed", "equal-time"):
        tasks = sorted({r["task"] for r in rows if r["mode"] == mode})
        for task in tasks:
            runs = [r for r in rows if r["mode"] == mode and r["task"] == task]
            seeds = sorted({r["seed"] for r in runs})
            by = {(r["variant"], r["seed"]): r for r in runs}
            lines += [f"**{task}**, {mode}, seeds {seeds}", ""]
            if mode == "speed":
                lines += ["| variant | wall s | trials / hour | "
                          "wall / plain (per seed) |", "| --- | --- | --- | --- |"]
                for v in ("plain", "alone", "packed"):
                    got = [by[v, s] for s in seeds if (v, s) in by]
                    if not got:
                        continue
                    wall, wse, _ = _mean_se([g["wall"] for g in got])
                    rate = sum(g["trials"] for g in got) / sum(
                        g["wall"] for g in got) * 3600
                    ratios = [by[v, s]["wall"] / by["plain", s]["wall"]
                              for s in seeds if (v, s) in by
                              and ("plain", s) in by]
                    lines.append(
                        f"| {v} | {wall:.1f} ± {wse:.1f} | {rate:,.0f} | "
                        + ", ".join(f"{q:.2f}" for q in ratios) + " |")
                gaps = [by["packed", s]["values"][t] - by["alone", s]
                        ["values"][t] for s in seeds
                        if ("packed", s) in by and ("alone", s) in by
                        for t in by["alone", s]["values"]
                        if by["alone", s]["values"][t] is not None
                        and by["packed", s]["values"].get(t) is not None]
                if gaps:
                    mean, se, _ = _mean_se(gaps)
                    lines.append(f"\n- validation accuracy, packed - alone, "
                                 f"same candidate: {mean:+.4f} ± {se:.4f} "
                                 f"({len(gaps)} candidates)")
            else:
                lines += ["| variant | trials | test accuracy |",
                          "| --- | --- | --- |"]
                for v in ("alone", "packed"):
                    got = [by[v, s] for s in seeds if (v, s) in by]
                    if not got:
                        continue
                    t, tse, _ = _mean_se([g["trials"] for g in got])
                    a, ase, _ = _mean_se([g["test"] for g in got])
                    lines.append(f"| {v} | {t:.1f} ± {tse:.1f} | "
                                 f"{a:.4f} ± {ase:.4f} |")
                gaps = [by["packed", s]["test"] - by["alone", s]["test"]
                        for s in seeds if ("packed", s) in by
                        and ("alone", s) in by]
                if gaps:
                    mean, se, _ = _mean_se(gaps)
                    lines.append(f"\n- test accuracy, packed - alone, paired "
                                 f"by seed: {mean:+.4f} ± {se:.4f}")
            lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("speed", "equal-time"),
                        default="speed")
    parser.add_argument("--tasks", nargs="+",
                        default=["digits", "colour32", "sequence"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--pack-size", default="auto")
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    if args.pack_size != "auto":
        args.pack_size = int(args.pack_size)
    if args.one:
        task = args.tasks[0]
        if args.mode == "speed":
            row = run_speed(args.one, task, args.seed, args.trials,
                            args.epochs, args.pack_size)
        else:
            row = run_equal_time(args.one, task, args.seed, args.budget,
                                 args.pack_size)
        print(json.dumps(row))
        return
    rows = read(args.out)
    variants = (("plain", "alone", "packed") if args.mode == "speed"
                else ("alone", "packed"))
    if not args.summary_only:
        done = {(r["mode"], r["task"], r["seed"], r["variant"]) for r in rows}
        for i, seed in enumerate(range(1, args.seeds + 1)):
            order = variants[i % len(variants):] + variants[:i % len(variants)]
            for task in args.tasks:
                for variant in order:
                    if (args.mode, task, seed, variant) in done:
                        continue
                    row = dict(_isolated(args, variant, task, seed),
                               mode=args.mode, task=task, seed=seed,
                               variant=variant, pack_size=args.pack_size)
                    rows.append(row)
                    os.makedirs(os.path.dirname(os.path.abspath(args.out)),
                                exist_ok=True)
                    with open(args.out, "a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(f"{args.mode} {task} seed {seed} {variant}: wall "
                          f"{row['wall']:.1f} s, {row['trials']} trials",
                          flush=True)
    print(summary(rows))


if __name__ == "__main__":
    main()
