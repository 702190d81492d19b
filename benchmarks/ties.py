"""Which of the trials tied on the best validation accuracy to return:
the rules side by side, on finished `equal_time.py` searches.

`equal_time.py` leaves each `NASSearch` project folder in the temporary
directory (`equal-time-<task>-*/search`). For each folder given, this loads
the search, takes every completed trial whose score equals the best, and
evaluates each one's saved model (its kept epoch) on the task's test split
(`peers.data(seed, task)`, the seed from the folder's configuration): the
test accuracy each rule would return, off every clock.

Rules: `first` (the first of the tied, Keras Tuner's order), `val_loss`
(the lowest validation loss: what `NASSearch.best_model` returns),
`largest` and `smallest` (parameters), and the mean of the tied.

    python benchmarks/ties.py /tmp/equal-time-sequence-*
"""

import argparse
import json
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = ("first", "val_loss", "largest", "smallest", "mean")


def tied_trials(folder):
    """`(config, search, done, tied)`: the folder's search configuration,
    the loaded search, its completed trials, and those tied on the best
    score, in Keras Tuner's order."""
    import keras_nas

    with open(os.path.join(folder, "search", "keras_nas.json")) as f:
        config = json.load(f)["config"]
    search = keras_nas.NASSearch.load(folder, "search")
    done = [t for t in search.tuner.oracle.trials.values()
            if t.status == "COMPLETED"]
    top = max(t.score for t in done)
    return config, search, done, [t for t in done if t.score == top]


def one(folder):
    """A row: the folder's task, seed, strategy, trials, how many are tied
    and the test accuracy under each rule."""
    sys.path.insert(0, HERE)
    import peers

    config, search, done, tied = tied_trials(folder)
    task = os.path.basename(folder.rstrip("/")).split("-")[2]
    _, _, test, _ = peers.data(config["seed"], task)
    rows = []
    for trial in tied:
        model = search.tuner.load_model(trial)
        rows.append({
            "params": trial.metrics.get_last_value("params"),
            "val_loss": trial.metrics.get_last_value("val_loss")
            if trial.metrics.exists("val_loss") else float("inf"),
            "test": float(model.evaluate(*test, verbose=0,
                                         return_dict=True)["accuracy"])})
    strategy = config["strategy"]
    return {
        "folder": folder, "task": task, "seed": config["seed"],
        "strategy": strategy if isinstance(strategy, str)
        else strategy["name"],
        "trials": len(done), "tied": len(tied),
        "best_val": float(tied[0].score),
        "first": rows[0]["test"],
        "val_loss": min(rows, key=lambda r: r["val_loss"])["test"],
        "largest": max(rows, key=lambda r: r["params"])["test"],
        "smallest": min(rows, key=lambda r: r["params"])["test"],
        "mean": statistics.mean(r["test"] for r in rows)}


def table(rows):
    lines = ["| task | strategy | seed | trials | tied at best val | "
             + " | ".join(RULES) + " |",
             "| --- " * (5 + len(RULES)) + "|"]
    for r in sorted(rows, key=lambda r: (r["task"], r["strategy"],
                                         r["seed"])):
        lines.append(f"| {r['task']} | {r['strategy']} | {r['seed']} | "
                     f"{r['trials']} | {r['tied']} ({r['best_val']:.4f}) | "
                     + " | ".join(f"{r[k]:.4f}" for k in RULES) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+",
                        help="equal_time.py's equal-time-<task>-* folders")
    parser.add_argument("--out", help="JSON lines, one per folder")
    args = parser.parse_args()
    rows = [one(folder) for folder in args.folders]
    if args.out:
        with open(args.out, "a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
