"""Search strategies on the NAS-Bench-201 lookup table, through Keras Tuner.

Each oracle is driven exactly as a tuner drives it (`create_trial`,
`update_trial`, `end_trial`), with training replaced by a table lookup of the
12-epoch validation accuracy. After each budget, the architecture the
oracle returns (`get_best_trials`: the best validation accuracy so far, the
first of the tied) is the one chosen, and its 200-epoch test accuracy is what
is reported. One run of the largest budget gives every
smaller budget too, since no oracle here looks at `max_trials` when it
proposes.

    python benchmarks/nasbench201.py ../shared/data/nasbench201/nb201.csv \
        --seeds 100 --budgets 50 100 300 --oracles evolution random

The table is not shipped with the package.
"""

import argparse
import csv
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")  # Nothing trains; load fast.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras_tuner  # noqa: E402

from keras_nas.strategies import EvolutionOracle  # noqa: E402
from keras_nas.strategies import LocalSearchOracle  # noqa: E402
from keras_nas.strategies import predictor as predictor_module  # noqa: E402

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
DATASETS = {
    "cifar10": ("cifar10_valid_12ep", "cifar10_test_200ep"),
    "cifar100": ("cifar100_valid_12ep", "cifar100_test_200ep"),
    "imagenet16": ("imagenet16_valid_12ep", "imagenet16_test_200ep"),
}
OBJECTIVE = keras_tuner.Objective("val_accuracy", "max")


def load_table(path):
    table = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            key = tuple(row["ops"].split(";"))
            table[key] = {
                name: (float(row[valid]), float(row[test]))
                for name, (valid, test) in DATASETS.items()
            }
    if len(table) != 5**6:
        raise ValueError(f"{path}: expected 15625 architectures, got {len(table)}")
    return table


def space():
    hp = keras_tuner.HyperParameters()
    for i in range(6):
        hp.Choice(f"edge_{i}", OPS)
    return hp


#: Local search as White et al. have it: each start drawn at random.
_RANDOM_START = {"balanced_start": False}

#: The variants compared: (oracle class, constructor arguments).
VARIANTS = {
    "evolution": (EvolutionOracle, {}),
    "local": (LocalSearchOracle, {**_RANDOM_START}),
    "local-best": (LocalSearchOracle,
                   {**_RANDOM_START, "first_improvement": False}),
    "local-ridge": (LocalSearchOracle,
                    {**_RANDOM_START, "predictor": {"model": "ridge"}}),
    "local-ridge-all": (LocalSearchOracle, {
        **_RANDOM_START, "predictor": {"model": "ridge", "prune": None}}),
    "local-trees": (LocalSearchOracle,
                    {**_RANDOM_START, "predictor": {"model": "trees"}}),
    "local-gp": (LocalSearchOracle,
                 {**_RANDOM_START, "predictor": {"model": "gp"}}),
    # The start drawn to cover the space evenly (`balanced_start`, the
    # oracle's default); `local-ridge-balanced` is `"auto"`.
    "local-balanced": (LocalSearchOracle, {}),
    "local-ridge-balanced": (LocalSearchOracle,
                             {"predictor": {"model": "ridge"}}),
    "local-ridge-rerank": (LocalSearchOracle,
                           {"predictor": {"model": "ridge", "rerank": True}}),
    "evolution-gp": (EvolutionOracle, {"predictor": {"model": "gp"}}),
    "evolution-ridge": (EvolutionOracle, {"predictor": {"model": "ridge"}}),
    "evolution-trees": (EvolutionOracle, {"predictor": {"model": "trees"}}),
}


def make_oracle(name, seed, budget, **kwargs):
    common = dict(objective=OBJECTIVE, max_trials=budget, seed=seed,
                  hyperparameters=space())
    if name in VARIANTS:
        cls, own = VARIANTS[name]
        return cls(**common, **{**own, **kwargs})
    if name == "random":
        return keras_tuner.oracles.RandomSearchOracle(**common)
    if name == "bayesian":
        return keras_tuner.oracles.BayesianOptimizationOracle(**common)
    raise ValueError(name)


def _key(trial):
    values = trial.hyperparameters.values
    return tuple(values[f"edge_{i}"] for i in range(6))


def _returned(oracle, table, dataset):
    """The 200-epoch test accuracy of what the oracle returns
    (`get_best_trials`)."""
    return table[_key(oracle.get_best_trials(1)[0])][dataset][1]


def run_one(job):
    """One search; returns the test accuracy chosen at each budget."""
    name, dataset, seed, budgets, table, kwargs = job
    directory = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        oracle = make_oracle(name, seed, max(budgets), **kwargs)
        oracle._set_project_dir(directory, "nb201")
        oracle.verbose = 0
        chosen, evaluated = {}, 0
        while evaluated < max(budgets):
            trial = oracle.create_trial("tuner0")
            if trial.status != "RUNNING":
                break
            valid, _ = table[_key(trial)][dataset]
            oracle.update_trial(trial.trial_id, {"val_accuracy": valid})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
            evaluated += 1
            if evaluated in budgets:
                chosen[evaluated] = _returned(oracle, table, dataset)
        last = _returned(oracle, table, dataset) if evaluated else None
        for b in budgets:  # A search stopped early keeps its last choice.
            chosen.setdefault(b, last)
        calls, seconds, _ = predictor_module.cost(oracle)
        return name, dataset, seed, chosen, [calls, seconds]
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("table", help="path to nb201.csv")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 100, 300])
    parser.add_argument("--oracles", nargs="+",
                        default=["evolution", "random", "bayesian"])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--kwargs", default="{}",
                        help="JSON of extra arguments for every variant "
                             "but random and bayesian")
    parser.add_argument("--out", required=True,
                        help="JSON lines, one per search; a rerun with the "
                             "same file runs only the missing searches")
    parser.add_argument("--summary-only", action="store_true",
                        help="only summarise the searches already in --out")
    args = parser.parse_args(argv)

    table = load_table(args.table)
    kwargs = json.loads(args.kwargs)
    jobs = [
        (name, dataset, seed, sorted(args.budgets), table,
         kwargs if name in VARIANTS else {})
        for name in args.oracles
        for dataset in args.datasets
        for seed in range(1, args.seeds + 1)
    ]
    start = time.time()
    done = set()
    if args.out and os.path.exists(args.out):  # Resume a partial run.
        with open(args.out) as f:
            done = {tuple(json.loads(line)[:3]) for line in f}
    todo = [j for j in jobs if tuple(j[:3]) not in done]
    if args.summary_only:
        todo = []
    with multiprocessing.Pool(args.workers) as pool:
        for result in pool.imap_unordered(run_one, todo, chunksize=2):
            if args.out:  # One line per search, so a kill loses little.
                with open(args.out, "a") as f:
                    f.write(json.dumps(list(result)) + "\n")
    seconds = time.time() - start
    results = []
    wanted = {tuple(j[:3]) for j in jobs}
    if args.out:
        with open(args.out) as f:
            for line in f:
                name, dataset, seed, chosen, cost = json.loads(line)
                if (name, dataset, seed) in wanted:
                    results.append((name, dataset, seed,
                                    {int(b): a for b, a in chosen.items()},
                                    cost))
    optimum = {d: max(v[d][1] for v in table.values()) for d in DATASETS}
    rows = {}
    costs = {}
    for name, dataset, seed, chosen, (calls, secs) in results:
        for b, acc in chosen.items():
            rows.setdefault((name, dataset, b), []).append(acc)
        if calls:
            costs.setdefault(name, [0, 0.0])
            costs[name][0] += calls
            costs[name][1] += secs
    print("| strategy | dataset | budget | mean ± s.e. test acc (%) | runs |")
    print("| --- | --- | --- | --- | --- |")
    for (name, dataset, b), accs in sorted(rows.items(),
                                            key=lambda r: (r[0][1], r[0][2], r[0][0])):
        accs = np.array(accs)
        print(f"| {name} | {dataset} (opt {optimum[dataset]:.2f}) | {b} | "
              f"{accs.mean():.2f} ± {accs.std(ddof=1) / np.sqrt(len(accs)):.2f}"
              f" | {len(accs)} |")
    for name, (calls, secs) in sorted(costs.items()):
        print(f"{name}: predictor {1000 * secs / calls:.1f} ms per ranking "
              f"({calls} rankings)")
    print(f"\n{len(todo)} searches in {seconds:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
