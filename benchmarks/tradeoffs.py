"""Accuracy against size: NSGA-II evolution, random search and a weighted sum.

Part (a), `nb201`: the NAS-Bench-201 table, searched for the trade-off
between the 12-epoch CIFAR-10 validation accuracy (max) and the network's
parameter count (min). The table has no size column, so the count is derived
from the cell's ops and the NAS-Bench-201 macro skeleton (`nb201_params`);
it reproduces the published range exactly (0.073 MB with every edge `none`
or pooling, 1.531546 MB with every edge `nor_conv_3x3`). Each oracle is
driven through the Keras Tuner protocol as in `nasbench201.py`. The figure is
the hypervolume of the evaluated architectures, as a fraction of the
hypervolume of the whole table's front, on the search signal (validation,
params) and on what would be reported (200-epoch test accuracy, params).

Part (b), `digits`: a real search on scikit-learn's digits with
`keras_nas.build_model`, objectives val_accuracy (max) and params (min).

    python benchmarks/tradeoffs.py nb201 ../shared/data/nasbench201/nb201.csv \
        --seeds 50 --budgets 50 100 300
    python benchmarks/tradeoffs.py digits --seeds 3 --trials 20 --epochs 5

Part (c), `latency`: what `keras_nas.latency.measure_latency` costs a trial:
the wall time of the first (timed) call, including build and compile, and of
a cached call, for a few op lists on digits-shaped input.

    python benchmarks/tradeoffs.py latency
"""

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras_tuner  # noqa: E402

from keras_nas.strategies import pareto  # noqa: E402
from keras_nas.strategies import EvolutionOracle  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nasbench201 import load_table  # noqa: E402
from nasbench201 import space as nb201_space  # noqa: E402

ACC = keras_tuner.Objective("val_accuracy", "max")
PARAMS = keras_tuner.Objective("params", "min")
WEIGHTED = keras_tuner.Objective("weighted", "max")
DIRECTIONS = ["max", "min"]


# -- NAS-Bench-201 parameter count ------------------------------------------

def _relu_conv_bn(c_in, c_out, k):
    return k * k * c_in * c_out + 2 * c_out  # No conv bias; BN affine.


def _cell_params(ops, c):
    """Edges of one cell: nor_conv_* is ReLU-Conv-BN with C in and out;
    none, skip_connect and avg_pool_3x3 (C in = C out) have no weights."""
    per_op = {"nor_conv_3x3": _relu_conv_bn(c, c, 3),
              "nor_conv_1x1": _relu_conv_bn(c, c, 1)}
    return sum(per_op.get(op, 0) for op in ops)


def _residual_params(c_in, c_out):
    # ResNet basic block, stride 2: two ReLU-Conv-BN 3x3 and an
    # AvgPool(2) + Conv1x1 (no bias) shortcut.
    return (_relu_conv_bn(c_in, c_out, 3) + _relu_conv_bn(c_out, c_out, 3)
            + c_in * c_out)


def nb201_params(ops, num_classes=10, cells_per_stage=5):
    """Trainable parameters of the NAS-Bench-201 network of a cell.

    Stem Conv3x3 3->16 + BN; three stages of 5 cells with C = 16, 32, 64;
    a residual reduction block between stages; BN, global pooling and a
    linear classifier. Counts weights and BN's affine terms, as the
    benchmark's `params` do.
    """
    total = 3 * 16 * 9 + 2 * 16
    for i, c in enumerate((16, 32, 64)):
        if i:
            total += _residual_params(c // 2, c)
        total += cells_per_stage * _cell_params(ops, c)
    total += 2 * 64 + 64 * num_classes + num_classes
    return total


# -- part (a) ----------------------------------------------------------------

def _nb201_oracle(name, seed, budget, max_params, max_acc):
    common = dict(max_trials=budget, seed=seed, hyperparameters=nb201_space())
    if name == "nsga2":
        return EvolutionOracle(objective=[ACC, PARAMS], **common)
    if name == "weighted":
        return EvolutionOracle(objective=WEIGHTED, **common)
    if name == "random":
        return keras_tuner.oracles.RandomSearchOracle(
            objective=[ACC, PARAMS], **common)
    raise ValueError(f"Unknown strategy: {name!r}.")


def run_nb201(job):
    name, seed, budgets, table, params = job
    max_params = max(params.values())
    max_acc = max(v["cifar10"][0] for v in table.values())
    directory = tempfile.mkdtemp(
        dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        oracle = _nb201_oracle(name, seed, max(budgets), max_params, max_acc)
        oracle._set_project_dir(directory, "tradeoffs")
        oracle.verbose = 0
        seen, out = [], {}
        while len(seen) < max(budgets):
            trial = oracle.create_trial("tuner0")
            if trial.status != "RUNNING":
                break
            values = trial.hyperparameters.values
            key = tuple(values[f"edge_{i}"] for i in range(6))
            valid, test = table[key]["cifar10"]
            p = params[key] / 1e6
            metrics = {"val_accuracy": valid, "params": p,
                       # Equal weights on the two normalised objectives.
                       "weighted": valid / max_acc - params[key] / max_params}
            # Keras Tuner's own sum, which its RandomSearchOracle needs.
            metrics["multi_objective"] = p - valid
            oracle.update_trial(trial.trial_id, metrics)
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
            seen.append((valid, test, p))
            if len(seen) in budgets:
                out[len(seen)] = list(seen)
        for b in budgets:
            out.setdefault(b, list(seen))
        return name, seed, out
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def nb201(args):
    table = load_table(args.table)
    params = {key: nb201_params(key) for key in table}
    print(f"params (MB): min {min(params.values()) / 1e6:.6f}, "
          f"max {max(params.values()) / 1e6:.6f}")
    ref = (0.0, max(params.values()) / 1e6 * 1.01)
    best = {
        "valid": pareto.hypervolume(
            [(v["cifar10"][0], params[k] / 1e6) for k, v in table.items()],
            DIRECTIONS, ref),
        "test": pareto.hypervolume(
            [(v["cifar10"][1], params[k] / 1e6) for k, v in table.items()],
            DIRECTIONS, ref),
    }
    budgets = sorted(args.budgets)
    jobs = [(name, seed, budgets, table, params)
            for name in args.strategies for seed in range(1, args.seeds + 1)]
    start = time.time()
    with multiprocessing.Pool(args.workers) as pool:
        results = pool.map(run_nb201, jobs, chunksize=2)
    seconds = time.time() - start
    rows = {}
    for name, seed, out in results:
        for b, seen in out.items():
            v = pareto.hypervolume([(s[0], s[2]) for s in seen], DIRECTIONS, ref)
            t = pareto.hypervolume([(s[1], s[2]) for s in seen], DIRECTIONS, ref)
            rows.setdefault((b, name), []).append(
                (v / best["valid"], t / best["test"]))
    print("| budget | strategy | HV ratio, valid 12 ep | HV ratio, test 200 ep "
          "| runs |")
    print("| --- | --- | --- | --- | --- |")
    for (b, name), r in sorted(rows.items()):
        r = np.array(r)
        print(f"| {b} | {name} | {r[:, 0].mean():.4f} ± {r[:, 0].std():.4f} | "
              f"{r[:, 1].mean():.4f} ± {r[:, 1].std():.4f} | {len(r)} |")
    print(f"\n{len(jobs)} searches in {seconds:.0f} s")


# -- part (b) ----------------------------------------------------------------

class WeightedEvolution(EvolutionOracle):
    """Regularized evolution on one number, the usual way to fold two
    objectives into one: `val_accuracy - params / max_params` (equal weights
    on the normalised objectives). It is given the same two objectives, so
    that its trials report both; only its tournament differs."""

    max_params = 1.0

    def _select(self, members):
        def value(trial):
            v = self._objective_values(trial)
            return -np.inf if v is None else v[0] - v[1] / self.max_params

        return max(members, key=value)


def digits(args):
    """A user's search, side by side: `NASSearch(objective=["val_accuracy",
    "params"])` with evolution (NSGA-II) and with random search, and
    evolution on the weighted sum, on the same split, epochs and seeds."""
    import keras_nas
    from keras_nas.data.prepare import load_digits

    (x, y), _ = load_digits()
    space = keras_nas.SearchSpace(max_depth=4)
    ref = (0.0, float(args.max_params))
    results = {}
    start = time.time()
    for seed in range(1, args.seeds + 1):
        for name in args.strategies:
            if name == "weighted":
                strategy = WeightedEvolution(
                    population_size=10, sample_size=3,
                    max_trials=args.trials, seed=seed)
                strategy.max_params = float(args.max_params)
            else:
                strategy = {"nsga2": "evolution", "random": "random"}[name]
            directory = tempfile.mkdtemp()
            began = time.time()
            try:
                search = keras_nas.NASSearch(
                    space.with_budgets(max_params=args.max_params),
                    strategy=keras_nas.Strategy(strategy, population_size=10,
                                                sample_size=3)
                    if name == "nsga2" else strategy,
                    objective=[ACC, PARAMS],
                    max_trials=args.trials, seed=seed, directory=directory,
                    warm_start=False, initial_architectures=[])
                search.fit(x, y, epochs=args.epochs, batch_size=64,
                           validation_split=0.2, verbose=0)
                pts = [(r.objectives["val_accuracy"], r.objectives["params"])
                       for r in search.pareto_front()]
                hv = pareto.hypervolume(pts, DIRECTIONS, ref) / ref[1]
                results.setdefault(name, []).append(hv)
                done = sum(r.value is not None for r in search.results())
                print(f"seed {seed} {name}: HV {hv:.4f} front {len(pts)} "
                      f"({done} trials, {time.time() - began:.0f} s)",
                      flush=True)
            finally:
                shutil.rmtree(directory, ignore_errors=True)
    print("| strategy | HV / max_params (val_accuracy x params), mean ± std "
          "| runs |")
    print("| --- | --- | --- |")
    for name, hv in results.items():
        print(f"| {name} | {np.mean(hv):.4f} ± {np.std(hv):.4f} | {len(hv)} |")
    print(f"\n{time.time() - start:.0f} s")


def latency_cost(args):
    from keras_nas.scoring import latency

    archs = [["conv3x3-16", "maxpool", "dense-64"],
             ["conv3x3-32", "conv3x3-32", "maxpool", "dense-128"],
             ["sepconv3x3-64", "gap"],
             ["dense-256", "dropout", "dense-64"]]
    print("| ops | latency (ms, batch 1) | first call (ms) | cached call (ms) |")
    print("| --- | --- | --- | --- |")
    for ops in archs:
        t0 = time.perf_counter()
        ms = latency.measure_latency(ops, (8, 8, 1), repeats=args.repeats)
        t1 = time.perf_counter()
        latency.measure_latency(ops, (8, 8, 1), repeats=args.repeats)
        t2 = time.perf_counter()
        print(f"| {' > '.join(ops)} | {ms:.3f} | {(t1 - t0) * 1e3:.0f} | "
              f"{(t2 - t1) * 1e3:.3f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    a = sub.add_parser("nb201")
    a.add_argument("table")
    a.add_argument("--seeds", type=int, default=50)
    a.add_argument("--budgets", type=int, nargs="+", default=[50, 100, 300])
    a.add_argument("--strategies", nargs="+",
                   default=["nsga2", "random", "weighted"])
    a.add_argument("--workers", type=int, default=2)
    b = sub.add_parser("digits")
    b.add_argument("--seeds", type=int, default=3)
    b.add_argument("--trials", type=int, default=30)
    b.add_argument("--epochs", type=int, default=5)
    b.add_argument("--max-params", type=int, default=200000)
    b.add_argument("--strategies", nargs="+",
                   default=["nsga2", "random", "weighted"])
    c = sub.add_parser("latency")
    c.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    {"nb201": nb201, "digits": digits, "latency": latency_cost}[args.part](args)


if __name__ == "__main__":
    sys.exit(main())
