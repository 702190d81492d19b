"""Real training at equal wall time: the default `NASSearch` against
`strategy="random"` and against a hand-written Keras Tuner random search.

Tasks: `colour32` and `sequence` of `blocks.py` (and `digits`), with the
seeded splits of `peers.data` (25 % test, 20 % of the rest for validation,
given to every system as `validation_data`). Systems:

- `nas`: `keras_nas.NASSearch()` with its defaults (whatever the default
  strategy is);
- `nas-random`: the same with `strategy="random"`;
- `nas:<spec>`: the same with `strategy=Strategy(**spec)`, one per
  `--nas-strategy '{"name": "local", "predictor": {"model": "ridge"}}'`,
  to compare other candidates for the default;
- `kt-random`: Keras Tuner's random search over the task's hypermodel of
  `peers.py` (`colour_conv`, `sequence_model`, `conventional`), early
  stopping with patience 3.

The budget is set as a user would set it: `max_time_s` seconds per task
(`BUDGETS`, or `--budget`), with no limit on trials to speak of. Keras
Tuner gets the same wall clock: its oracle starts no trial once the budget
has run out, and the trial in flight stops at its next epoch, which is what
`max_time_s` does for `NASSearch`. Each system and seed runs in a fresh Python
process; a seed's systems run side by side, their order rotating with the
seed.

After each trial, the trial best on validation so far (its best epoch: the
weights each system would return) is noted; its test accuracy is computed
after the search, off every clock. Reported: the test accuracy of the model
each system would return at 25 %, 50 % and 100 % of the budget (the trial
best on validation among those completed by then), per seed and mean, and
the gaps `nas - nas-random` and `nas - kt-random` (and each `nas:<spec>`
against both and `nas`), paired by seed, with their standard error over the
seeds. Rows are appended to a JSON-lines file, one per run, so an
interrupted run resumes; `--summary-only` prints the markdown tables.

    flock /tmp/keras_nas_bench.lock python benchmarks/equal_time.py \\
        --tasks colour32 sequence --seeds 5
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
BUDGETS = {"digits": 45.0, "colour32": 60.0, "sequence": 60.0}  # max_time_s
EPOCHS = {"digits": 10, "colour32": 10, "sequence": 10}
CHECKPOINTS = (0.25, 0.5, 1.0)
BASE = ("nas", "nas-random", "kt-random")
OUT = os.path.join(HERE, "results", "equal_time.jsonl")


def compact(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def spec_name(spec):
    return "nas:" + compact(spec)


def label(row):
    """A system as the tables name it: with its `--nas-options`, if any."""
    options = row.get("nas_options")
    return row["system"] + (f" {compact(options)}" if options else "")


def make_log():
    """A callback class noting, after each trial, the time and the trial's
    best validation accuracy, and keeping the weights of its best epoch
    when they beat every trial before (only those can be returned). Best
    is by the package's rule (`keras_nas.strategies.scores.better`: an
    exact tie goes to the lower `val_loss`), for every system alike.
    Searches copy their callbacks per trial, so the state is the class's.
    The test set is not touched here."""
    import keras
    import keras_tuner
    from keras_nas.strategies.scores import better

    objective = keras_tuner.Objective("val_accuracy", "max")

    class Log(keras.callbacks.Callback):
        start = 0.0
        best = None  # (val accuracy, logs) of the best finished trial.
        rows = []  # (seconds, trial's best val, (model, weights) or None)

        def on_train_begin(self, logs=None):
            self.value, self.logs, self.kept = None, None, None

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            value = float(logs.get("val_accuracy", -1.0))
            if better(value, logs, self.value, self.logs, objective):
                self.value, self.logs = value, logs
                if Log.best is None or better(value, logs, *Log.best,
                                              objective):
                    self.kept = (self.model, self.model.get_weights())

        def on_train_end(self, logs=None):
            seconds = time.perf_counter() - Log.start
            new = self.value is not None and (Log.best is None or better(
                self.value, self.logs, *Log.best, objective))
            Log.rows.append((seconds, -1.0 if self.value is None
                             else self.value, self.kept if new else None))
            if new:
                Log.best = (self.value, self.logs)
            self.kept = None

    return Log


def stop_at(deadline):
    """Keras Tuner under a wall-clock budget: an oracle class that starts no
    trial after `deadline` (`time.perf_counter()`), and a callback that
    ends the trial in flight at its first epoch past it."""
    import keras
    import keras_tuner

    class Oracle(keras_tuner.oracles.RandomSearchOracle):
        def populate_space(self, trial_id):
            if time.perf_counter() >= deadline:
                return {"status": "STOPPED", "values": None}
            return super().populate_space(trial_id)

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if time.perf_counter() >= deadline:
                self.model.stop_training = True

    return Oracle, Stop


def run(system, task, seed, budget, epochs, nas_options=None):
    """One system and seed, in this process: its row. `nas_options`: more
    `NASSearch` arguments for the `nas` systems."""
    import keras

    sys.path.insert(0, HERE)
    import peers

    (x, y), val, test, _ = peers.data(seed, task)
    Log = make_log()
    workdir = tempfile.mkdtemp(prefix=f"equal-time-{task}-")
    keras.utils.clear_session()
    Log.start = start = time.perf_counter()
    if system.startswith("nas"):
        import keras_nas

        strategy = {} if system == "nas" else (
            {"strategy": "random"} if system == "nas-random" else
            {"strategy": keras_nas.Strategy(**json.loads(system[4:]))})
        search = keras_nas.NASSearch(
            max_trials=10000, max_time_s=budget, seed=seed, directory=workdir,
            overwrite=True, **strategy, **(nas_options or {}))
        search.fit(x, y, epochs=epochs, validation_data=val, verbose=0,
                   callbacks=[Log()])
        wall = time.perf_counter() - start
        returned = search.evaluate(*test, return_dict=True)["accuracy"]
    elif system == "kt-random":
        import keras_tuner

        Oracle, Stop = stop_at(start + budget)
        tuner = keras_tuner.Tuner(
            oracle=Oracle(objective=keras_tuner.Objective("val_accuracy",
                                                          "max"),
                          max_trials=10000, seed=seed),
            hypermodel=peers.HYPERMODELS[task], directory=workdir,
            overwrite=True)
        tuner.search(x, y, validation_data=val, epochs=epochs, verbose=0,
                     callbacks=[peers.early_stopping(), Stop(), Log()])
        wall = time.perf_counter() - start
        returned = float(tuner.get_best_models(1)[0].evaluate(
            *test, verbose=0, return_dict=True)["accuracy"])
    else:
        raise ValueError(f"unknown system {system!r}")
    # Off the clock: the test accuracy of each trial that became the best.
    curve, best, best_test = [], -1.0, None
    for seconds, value, kept in Log.rows:
        if kept is not None:
            model, weights = kept
            model.set_weights(weights)
            best, best_test = value, round(float(model.evaluate(
                *test, verbose=0, return_dict=True)["accuracy"]), 4)
        curve.append([round(seconds, 2), round(best, 4), best_test])
    return {"task": task, "system": system, "seed": seed, "budget": budget,
            "epochs": epochs, "nas_options": (nas_options or None)
            if system.startswith("nas") else None,
            "wall": round(wall, 2), "trials": len(curve),
            "returned": float(returned), "curve": curve,
            "at": {str(f): at(curve, f * budget) for f in CHECKPOINTS}}


def at(curve, seconds):
    """Test accuracy of the trial best on validation among those finished
    by `seconds`; None if none had."""
    done = [test for t, _, test in curve if t <= seconds]
    return done[-1] if done else None


def run_isolated(system, task, seed, budget, epochs, nas_options=None):
    """`run` in a fresh Python process, so that no run inherits another's
    traced models, memory or warm caches."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        subprocess.run([sys.executable, os.path.abspath(__file__), "--one",
                        system, "--tasks", task, "--seed", str(seed),
                        "--budget", str(budget), "--epochs", str(epochs),
                        "--nas-options", compact(nas_options or {}),
                        "--row-out", out], check=True)
        with open(out) as f:
            return json.load(f)
    finally:
        os.remove(out)


def read(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def key(row):
    return (row["task"], label(row), row["seed"], row["budget"],
            row["epochs"])


def _mean_se(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None, 0
    n = len(values)
    mean = sum(values) / n
    se = (math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)
          if n > 1 else float("nan"))
    return mean, se, n


def summary(rows):
    """Markdown: per task, system and checkpoint the test accuracy per seed
    and its mean; then the gaps paired by seed, mean ± standard error."""
    groups = {}
    for r in rows:
        groups.setdefault((r["task"], r["budget"], r["epochs"]), {}) \
            .setdefault(label(r), {})[r["seed"]] = r
    lines = []
    for (task, budget, epochs), systems in groups.items():
        seeds = sorted({s for mine in systems.values() for s in mine})
        names = sorted(systems, key=lambda n: (
            n.split(" ")[0] not in BASE,
            BASE.index(n.split(" ")[0]) if n.split(" ")[0] in BASE else 0,
            n))
        lines += [f"**{task}**, `max_time_s={budget:g}` s, `epochs={epochs}`; "
                  "test accuracy of the model each system would return "
                  "(best on validation among the trials finished by then; "
                  "- : none yet)", "",
                  "| system | at | " + " | ".join(
                      f"seed {s}" for s in seeds) + " | mean | trials run | "
                  "wall s |",
                  "| --- | --- | " + " | ".join("---" for _ in seeds)
                  + " | --- | --- | --- |"]
        for name in names:
            mine = systems[name]
            for f in CHECKPOINTS:
                values = [mine[s]["at"][str(f)] if s in mine else None
                          for s in seeds]
                mean, _, n = _mean_se(values)
                runs = list(mine.values())
                extra = (f"{sum(r['trials'] for r in runs) / len(runs):.1f} | "
                         f"{sum(r['wall'] for r in runs) / len(runs):.1f}"
                         if f == 1.0 else " | ")
                lines.append(
                    f"| {name} | {int(f * 100)} % | " + " | ".join(
                        "-" if v is None else f"{v:.4f}" for v in values)
                    + " | " + ("-" if mean is None else f"{mean:.4f}"
                               + (f" ({n}/{len(seeds)})" if n < len(seeds)
                                  else "")) + f" | {extra} |")
        lines += ["", "| gap (paired by seed) | " + " | ".join(
            f"{int(f * 100)} %" for f in CHECKPOINTS) + " |",
            "| --- | " + " | ".join("---" for _ in CHECKPOINTS) + " |"]
        for a in names:
            system, _, options = a.partition(" ")
            if not (system == "nas" or system.startswith("nas:")):
                continue
            suffix = f" {options}" if options else ""
            for b in (f"nas-random{suffix}", "kt-random") + (
                    (f"nas{suffix}",) if system != "nas" else ()):
                if b not in systems:
                    continue
                cells = []
                for f in CHECKPOINTS:
                    diffs = [systems[a][s]["at"][str(f)]
                             - systems[b][s]["at"][str(f)]
                             for s in seeds
                             if s in systems[a] and s in systems[b]
                             and systems[a][s]["at"][str(f)] is not None
                             and systems[b][s]["at"][str(f)] is not None]
                    mean, se, n = _mean_se(diffs)
                    cells.append("-" if mean is None else
                                 f"{mean:+.4f} ± {se:.4f} (n={n})")
                lines.append(f"| {a} − {b} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--tasks", nargs="+", default=["colour32",
                                                       "sequence"],
                        choices=sorted(BUDGETS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=None,
                        help="max_time_s in seconds for every task (default: "
                        f"per task, {BUDGETS})")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"most epochs per trial (default: {EPOCHS})")
    parser.add_argument("--systems", nargs="+", default=list(BASE),
                        choices=BASE)
    parser.add_argument("--nas-strategy", action="append", default=[],
                        metavar="JSON", help="also run NASSearch with "
                        "strategy=Strategy(**JSON), e.g. '{\"name\": "
                        "\"local\", \"predictor\": {\"model\": \"ridge\"}}'")
    parser.add_argument("--nas-options", default="{}", metavar="JSON",
                        help="more NASSearch arguments for every nas system, "
                        "e.g. '{\"initial_architectures\": []}' to leave "
                        "the conventional models out")
    parser.add_argument("--out", default=OUT, help="JSON lines, appended")
    parser.add_argument("--summary-only", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--row-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # A child of `run_isolated`.
        row = run(args.one, args.tasks[0], args.seed, args.budget,
                  args.epochs, json.loads(args.nas_options))
        with open(args.row_out, "w") as f:
            json.dump(row, f)
        return
    if not args.summary_only:
        names = list(args.systems) + [spec_name(json.loads(s))
                                      for s in args.nas_strategy]
        nas_options = json.loads(args.nas_options) or None
        done = {key(r) for r in read(args.out)}
        os.makedirs(os.path.dirname(os.path.abspath(args.out)),
                    exist_ok=True)
        for task in args.tasks:
            budget = args.budget or BUDGETS[task]
            epochs = args.epochs or EPOCHS[task]
            # Seeds from 1: Keras Tuner treats a seed of 0 as no seed.
            for i, seed in enumerate(range(1, args.seeds + 1)):
                k = i % len(names)
                for name in names[k:] + names[:k]:
                    mine = nas_options if name.startswith("nas") else None
                    if (task, label({"system": name, "nas_options": mine}),
                            seed, budget, epochs) in done:
                        continue
                    row = run_isolated(name, task, seed, budget, epochs,
                                       mine)
                    with open(args.out, "a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(f"{task} {label(row)} seed {seed}: "
                          f"{row['trials']} "
                          f"trials in {row['wall']:.1f} s; test at 25/50/100"
                          " %: " + " / ".join(
                              "-" if v is None else f"{v:.4f}"
                              for v in row["at"].values())
                          + f"; returned {row['returned']:.4f}", flush=True)
    print(summary(read(args.out)))


if __name__ == "__main__":
    main()
