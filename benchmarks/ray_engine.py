"""Trials per minute: serial, Keras Tuner's engine and Ray, on one machine,
and Ray on a simulated two-node cluster; Ray's overhead per trial.

Each configuration runs in a fresh process, in a network namespace with
loopback only (`unshare -n`), the same search (digits, `--trials`
candidates of evolution, `--epochs` each, halving on) for each `--seeds`:

- serial: `NASSearch()` (`KerasTunerEngine(workers=0)`);
- keras: `NASSearch(engine=KerasTunerEngine(workers=2))`, Keras Tuner's
  chief/worker engine (this file run again as the workers);
- ray: `NASSearch(engine=Ray(workers=2, num_cpus=2))`, Ray embedded;
- cluster: two nodes of one core each (`ray.cluster_utils.Cluster`).

Each line of `--out` (JSON) is one run: the wall time of `fit`, trials per
minute, and for Ray, from the project folder's `ray_trials.json`, the time
from submitting a trial to its start on a worker (first trials: a new
worker process imports the backend; later ones: a warm worker), the
driver's own time per trial (proposing and submitting it; recording it:
weights, trial files, oracle), the time its result takes to come back, and
the bytes that travel per trial.

    flock /tmp/keras_nas_bench.lock python benchmarks/ray_engine.py \\
        --seeds 0 1 --trials 8 --out benchmarks/results/ray_engine.jsonl
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

NETNS = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def one(mode, seed, trials, epochs, directory):
    """One search of `mode`; its figures (printed by the chief only)."""
    import keras_nas

    (x, y), _ = keras_nas.load_digits()
    x, y = x[:800], y[:800]
    engine = keras_nas.KerasTunerEngine(workers=0)
    cluster = None
    if mode == "keras":
        engine = keras_nas.KerasTunerEngine(workers=2)
    elif mode == "ray":
        engine = keras_nas.Ray(workers=2, num_cpus=2)
    elif mode == "cluster":
        import ray
        from ray.cluster_utils import Cluster

        cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 1, "include_dashboard": False})
        cluster.add_node(num_cpus=1)
        t = time.perf_counter()
        ray.init(address=cluster.address, log_to_driver=False)
        engine = keras_nas.Ray(workers=2, address=cluster.address)
    workers = engine.workers
    search = keras_nas.NASSearch(
        max_trials=trials, seed=seed, directory=directory, project_name="p",
        overwrite=True, space=keras_nas.SearchSpace(max_params=50_000),
        engine=engine)
    start = time.perf_counter()
    search.fit(x, y, epochs=epochs, verbose=0)
    wall = time.perf_counter() - start
    records = search.results()
    row = {"mode": mode, "seed": seed, "trials": len(records),
           "fit_s": round(wall, 2),
           "trials_per_min": round(60 * len(records) / wall, 2),
           "train_s": round(sum(r.seconds or 0 for r in records), 2)}
    path = os.path.join(directory, "p", "ray_trials.json")
    if os.path.exists(path):
        with open(path) as f:
            placed = json.load(f)
        by_start = sorted(placed.values(), key=lambda p: p["submitted"])
        queue = [p["started"] - p["submitted"] for p in by_start]
        row.update(
            first_start_s=round(statistics.median(queue[:workers]), 2),
            warm_start_s=round(statistics.median(queue[workers:]), 3),
            propose_s=round(statistics.median(
                p["submitted"] - p["asked"] for p in by_start), 4),
            result_back_s=round(statistics.median(
                p["received"] - p["finished"] for p in by_start), 4),
            record_s=round(statistics.median(
                p["recorded"] - p["received"] for p in by_start), 4),
            nodes=len({p["node"] for p in by_start}),
            data_bytes=int(x.nbytes + y.nbytes),
            weights_bytes_per_trial=int(statistics.median(
                os.path.getsize(os.path.join(
                    directory, "p", f"trial_{t}", "checkpoint.weights.h5"))
                for t in placed)))
    if cluster is not None:
        ray.shutdown()
        cluster.shutdown()
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--modes", nargs="+",
                        default=["serial", "keras", "ray", "cluster"])
    parser.add_argument("--out", default=None)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        row = one(args.one, args.seeds[0], args.trials, args.epochs, args.dir)
        print("ROW " + json.dumps(row), flush=True)
        return
    rows = []
    for seed in args.seeds:
        for mode in args.modes:
            with tempfile.TemporaryDirectory() as tmp:
                out = subprocess.run(
                    NETNS + [sys.executable, os.path.abspath(__file__),
                             "--one", mode, "--seeds", str(seed),
                             "--trials", str(args.trials),
                             "--epochs", str(args.epochs), "--dir", tmp],
                    capture_output=True, text=True,
                    env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
            found = [ln[4:] for ln in out.stdout.splitlines()
                     if ln.startswith("ROW ")]
            if not found:
                print(out.stdout[-2000:], out.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{mode} seed {seed} failed")
            row = json.loads(found[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    for mode in args.modes:
        serial = [r for r in rows if r["mode"] == "serial"]
        mine = [r for r in rows if r["mode"] == mode]
        if serial and mine:
            ratio = statistics.mean(
                m["trials_per_min"] / s["trials_per_min"]
                for m, s in zip(mine, serial))
            print(f"{mode}: {statistics.mean(r['trials_per_min'] for r in mine):.2f}"
                  f" trials/min, {ratio:.2f}x serial")


if __name__ == "__main__":
    main()
