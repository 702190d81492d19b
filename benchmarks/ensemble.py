"""The ensemble of searched architectures against the single best model and
a deep ensemble of the best architecture (issue 36).

For each task (`digits`, `colour32`, `sequence`: the seeded splits of
`peers.data`, 25 % test, 20 % of the rest for validation, given to the
search as `validation_data`) and seed, one default `NASSearch` runs for
`--budget` seconds (`max_time_s`). From that one search:

- `single`: `search.best_model()`, what a search returns;
- `ensemble`: `search.ensemble(size=--size)`, greedy selection with
  replacement over the trials already trained, on their saved validation
  predictions: no training beyond the search, so it is at the same wall
  time as `single`;
- `deep`: the best architecture trained afresh `--size` times with other
  seeds (each with early stopping on the validation split, patience 3, its
  best epoch kept), outputs averaged: the usual deep ensemble, whose extra
  training time is reported beside it (`deep_s`).

Reported on the test split, per task and mean over seeds: accuracy,
negative log-likelihood (NLL) and expected calibration error (ECE, 15
equal-width bins of the top probability), and the gaps `ensemble - single`
paired by seed with their standard error. Each seed runs in a fresh Python
process; rows are appended to a JSON-lines file, so an interrupted run
resumes; `--summary-only` prints the tables.

    flock /tmp/keras_nas_bench.lock python benchmarks/ensemble.py \\
        --tasks digits colour32 sequence --seeds 5 --budget 40

`--strategy` searches otherwise, at the same budget: `evolution` (aging
evolution, `--population` members) or `nes` (the same, evolving for the
ensemble: `ensemble_size=--size`, NES-RE), compared by seed with the
default search's rows of the same task, seed and budget (`--no-deep` skips
the deep ensemble, which does not depend on the search's strategy so much
as on its best architecture). `--keep DIR` saves each trial's validation
and test predictions there (`<strategy>-<task>-<seed>.npz`), so that other
selection rules can be scored afterwards without searching again.

    flock /tmp/keras_nas_bench.lock python benchmarks/ensemble.py \\
        --tasks digits sequence --seeds 5 --budget 40 --strategy nes \\
        --population 4 --no-deep
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
OUT = os.path.join(HERE, "results", "ensemble.jsonl")
EPOCHS = 10
STRATEGIES = ("default", "evolution", "nes")


def scores(probabilities, y, bins=15):
    """Accuracy, NLL and ECE of class `probabilities` against labels `y`."""
    import numpy as np

    p = np.clip(np.asarray(probabilities, "float64"), 1e-12, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    y = np.asarray(y).astype(int)
    top = p.argmax(axis=1)
    confidence = p.max(axis=1)
    correct = (top == y).astype("float64")
    ece = 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean()
                                       - confidence[inside].mean())
    return {"accuracy": float(correct.mean()),
            "nll": float(-np.log(p[np.arange(len(y)), y]).mean()),
            "ece": float(ece)}


def as_probabilities(output):
    """Class probabilities from a model's output: a binary head's one
    sigmoid column becomes two columns."""
    import numpy as np

    output = np.asarray(output, "float64")
    if output.ndim == 1 or output.shape[1] == 1:
        output = output.reshape(-1, 1)
        output = np.concatenate([1.0 - output, output], axis=1)
    return output


def deep_ensemble(search, data, size, seed):
    """The best architecture trained `size` times afresh, each from its own
    seed with early stopping on the validation split: its averaged test
    probabilities and the seconds it took."""
    import keras
    import numpy as np

    (x, y), val, test = data
    trial = search.tuner.oracle.get_best_trials(1)[0]
    outputs = []
    start = time.perf_counter()
    for k in range(size):
        keras.utils.set_random_seed(10_000 * seed + k)
        model = search.tuner.hypermodel.build(trial.hyperparameters)
        model.fit(x, y, validation_data=val, epochs=EPOCHS, verbose=0,
                  callbacks=[keras.callbacks.EarlyStopping(
                      "val_accuracy", patience=3, mode="max",
                      restore_best_weights=True)])
        outputs.append(as_probabilities(model.predict(test[0], verbose=0)))
    return np.mean(outputs, axis=0), time.perf_counter() - start


def strategy_of(name, size, population):
    """`NASSearch(strategy=...)` of a `--strategy` name."""
    import keras_nas

    if name == "default":
        return "auto"
    options = {"population_size": population}
    if name == "nes":
        options["ensemble_size"] = size
    return keras_nas.Strategy("evolution", **options)


def keep_predictions(search, test, path):
    """Each completed trial's saved validation predictions and its test
    predictions, with the labels, into `path` (`.npz`)."""
    import numpy as np

    from keras_nas.engine import predictions

    ids, val, out = [], [], []
    for r in search.results():
        saved = predictions.read(predictions.predictions_path(
            search.tuner.get_trial_dir(r.trial_id)))
        if r.status != "COMPLETED" or saved is None:
            continue
        ids.append(r.trial_id)
        val.append(saved)
        out.append(search.best_model(r.trial_id).predict(test[0],
                                                         verbose=0))
    labels = predictions.read(predictions.labels_path(search.project_dir))
    np.savez_compressed(path, ids=np.array(ids), val=np.stack(val),
                        val_labels=labels, test=np.stack(out),
                        test_labels=np.asarray(test[1]))


def run(task, seed, budget, size, strategy="default", population=8,
        deep=True, keep=None):
    """One task and seed, in this process: its row."""
    import keras

    import peers
    import keras_nas

    (x, y), val, test, _ = peers.data(seed, task)
    workdir = tempfile.mkdtemp(prefix=f"ensemble-{task}-")
    keras.utils.clear_session()
    start = time.perf_counter()
    search = keras_nas.NASSearch(max_trials=10000, max_time_s=budget,
                                 seed=seed, directory=workdir, overwrite=True,
                                 strategy=strategy_of(strategy, size,
                                                      population))
    search.fit(x, y, epochs=EPOCHS, validation_data=val, verbose=0)
    wall = time.perf_counter() - start
    single = search.best_model()
    start = time.perf_counter()
    ensemble = search.ensemble(size=size)
    ensemble_s = time.perf_counter() - start
    with open(os.path.join(search.project_dir, "ensemble.json")) as f:
        info = json.load(f)
    row = {
        "task": task, "seed": seed, "budget": budget, "size": size,
        "strategy": strategy,
        "wall": round(wall, 2), "trials": len(search.results()),
        "members": info.get("members"), "weights": info.get("weights"),
        "params": {"single": int(single.count_params()),
                   "ensemble": int(ensemble.count_params())},
        "ensemble_s": round(ensemble_s, 2),
    }
    if strategy != "default":
        row["population"] = population
    for name, model in (("single", single), ("ensemble", ensemble)):
        row[name] = scores(as_probabilities(
            model.predict(test[0], verbose=0)), test[1])
    if keep:
        os.makedirs(keep, exist_ok=True)
        keep_predictions(search, test, os.path.join(
            keep, f"{strategy}-{task}-{seed}.npz"))
    if deep:
        probabilities, deep_s = deep_ensemble(
            search, ((x, y), val, test), size, seed)
        row["deep"] = scores(probabilities, test[1])
        row["deep_s"] = round(deep_s, 2)
    return row


def run_isolated(task, seed, budget, size, strategy, population, deep,
                 keep):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        subprocess.run([sys.executable, os.path.abspath(__file__), "--one",
                        "--tasks", task, "--seed", str(seed), "--budget",
                        str(budget), "--size", str(size), "--row-out", out,
                        "--strategy", strategy, "--population",
                        str(population)]
                       + ([] if deep else ["--no-deep"])
                       + (["--keep", keep] if keep else []),
                       check=True)
        with open(out) as f:
            return json.load(f)
    finally:
        os.remove(out)


def _key(r):
    return (r["task"], r["seed"], r["budget"], r["size"],
            r.get("strategy", "default"))


def _gap_line(label, metric, pairs):
    gaps = [a[metric] - b[metric] for a, b in pairs]
    mean, se, _ = _mean_se(gaps)
    return (f"- {label}, {metric}: {mean:+.4f} ± {se:.4f} (per seed: "
            + ", ".join(f"{g:+.4f}" for g in gaps) + ")")


def summary(rows):
    """Markdown: per task and strategy the mean of each system's test
    scores, the ensemble's gaps to the single best paired by seed, and a
    strategy's ensemble against the default search's, paired by seed."""
    lines = []
    groups = {}
    for r in rows:
        groups.setdefault(_key(r)[:1] + _key(r)[2:], []).append(r)
    for (task, budget, size, strategy), runs in groups.items():
        runs.sort(key=lambda r: r["seed"])
        lines += [f"**{task}**, `max_time_s={budget:g}`, size {size}, "
                  f"strategy {strategy}, {len(runs)} seeds, "
                  f"{sum(r['trials'] for r in runs) / len(runs):.1f} "
                  "trials a search", "",
                  "| system | accuracy | NLL | ECE | params | extra training |",
                  "| --- | --- | --- | --- | --- | --- |"]
        systems = ["single", "ensemble"] + (
            ["deep"] if all("deep" in r for r in runs) else [])
        for name in systems:
            cells = []
            for metric in ("accuracy", "nll", "ece"):
                mean, se, _ = _mean_se([r[name][metric] for r in runs])
                cells.append(f"{mean:.4f} ± {se:.4f}")
            params = ("-" if name == "deep" else
                      f"{sum(r['params'][name] for r in runs) / len(runs):,.0f}")
            extra = {"single": "none", "ensemble": "none (selection "
                     f"{sum(r['ensemble_s'] for r in runs) / len(runs):.1f} s)",
                     "deep": "-" if name != "deep" else
                     f"{sum(r['deep_s'] for r in runs) / len(runs):.1f} s"}[name]
            lines.append(f"| {name} | " + " | ".join(cells)
                         + f" | {params} | {extra} |")
        lines.append("")
        pairs = [(r["ensemble"], r["single"]) for r in runs]
        for metric in ("accuracy", "nll", "ece"):
            lines.append(_gap_line("ensemble - single", metric, pairs))
        if "deep" in systems:
            pairs = [(r["ensemble"], r["deep"]) for r in runs]
            for metric in ("accuracy", "nll"):
                lines.append(_gap_line("ensemble - deep", metric, pairs))
        # A strategy against the default search, and NES against plain
        # evolution (the same population: only the parents differ).
        for other in ("default", "evolution"):
            if strategy in ("default", other) or (
                    other == "evolution" and not strategy.startswith("nes")):
                continue
            base = {_key(r)[:4]: r for r in rows
                    if r.get("strategy", "default") == other}
            paired = [(r, base[_key(r)[:4]]) for r in runs
                      if _key(r)[:4] in base]
            if not paired:
                continue
            lines.append(f"- paired with the {other} search's rows "
                         f"({len(paired)} seeds):")
            for system in ("ensemble", "single"):
                for metric in ("accuracy", "nll"):
                    lines.append("  " + _gap_line(
                        f"{strategy} {system} - {other} {system}", metric,
                        [(a[system], b[system]) for a, b in paired]))
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+",
                        default=["digits", "colour32", "sequence"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--budget", type=float, default=40.0,
                        help="each search's max_time_s")
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--strategy", choices=STRATEGIES, default="default")
    parser.add_argument("--population", type=int, default=8,
                        help="evolution's population_size")
    parser.add_argument("--no-deep", action="store_true",
                        help="skip the deep ensemble")
    parser.add_argument("--keep", default=None,
                        help="a folder for each trial's predictions")
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--row-out", help=argparse.SUPPRESS)
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    if args.one:
        row = run(args.tasks[0], args.seed, args.budget, args.size,
                  args.strategy, args.population, not args.no_deep,
                  args.keep)
        with open(args.row_out, "w") as f:
            json.dump(row, f)
        return
    rows = read(args.out)
    if not args.summary_only:
        done = {_key(r) for r in rows}
        for seed in range(1, args.seeds + 1):
            for task in args.tasks:
                if (task, seed, args.budget, args.size,
                        args.strategy) in done:
                    continue
                row = run_isolated(task, seed, args.budget, args.size,
                                   args.strategy, args.population,
                                   not args.no_deep, args.keep)
                rows.append(row)
                os.makedirs(os.path.dirname(os.path.abspath(args.out)),
                            exist_ok=True)
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{task} seed {seed} {args.strategy}: single "
                      f"{row['single']['accuracy']:.4f}, ensemble "
                      f"{row['ensemble']['accuracy']:.4f}"
                      + (f", deep {row['deep']['accuracy']:.4f}"
                         if "deep" in row else ""), flush=True)
    print(summary(rows))


if __name__ == "__main__":
    main()
