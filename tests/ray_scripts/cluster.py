"""Two Ray nodes in one process (`ray.cluster_utils.Cluster`), one core
each, run by the tests in a network namespace with loopback only:

1. a 2-worker `NASSearch` on the Ray engine, whose trials must land on both
   nodes (one trial fits a node);
2. `NASSearcher` driving a short `ray.tune.Tuner` run, then saved and
   restored: the restored searcher proposes what the original does.

Argument: a scratch folder. Prints `NODES <n>`, `TUNE <statuses>` and
`RESTORED <same>` for the test to check.
"""

import json
import os
import sys

import ray
from ray import tune
from ray.cluster_utils import Cluster

import keras
import keras_nas
from keras_nas.engine.ray_tune import NASSearcher

scratch = sys.argv[1]
cluster = Cluster(initialize_head=True, head_node_args={
    "num_cpus": 1, "include_dashboard": False})
cluster.add_node(num_cpus=1)
ray.init(address=cluster.address, log_to_driver=False)

(x, y), _ = keras_nas.load_digits()
x, y = x[:200], y[:200]
search = keras_nas.NASSearch(
    max_trials=2, seed=1, directory=scratch, project_name="p",
    max_params=20_000, workers=2,
    engine=keras_nas.Ray(address=cluster.address))
search.fit(x, y, epochs=1, verbose=0)
with open(os.path.join(scratch, "p", "ray_trials.json")) as f:
    placements = json.load(f)
print("NODES", len({p["node"] for p in placements.values()}), flush=True)
print("SEARCH", sorted(r.status for r in search.results()), flush=True)


def trainable(config, data):
    xs, ys = data
    model = keras_nas.build_model(config["ops"], xs.shape[1:], num_classes=10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(xs, ys, validation_split=0.25, epochs=1, verbose=0)
    tune.report({"val_accuracy": float(history.history["val_accuracy"][-1])})


space = keras_nas.SearchSpace(max_depth=3)
searcher = NASSearcher(space, x.shape[1:], 10, seed=0, max_params=20_000,
                       metric="val_accuracy", mode="max",
                       strategy_options={"population_size": 2,
                                         "sample_size": 2})
tuner = tune.Tuner(
    tune.with_parameters(trainable, data=(x, y)),
    tune_config=tune.TuneConfig(search_alg=searcher, num_samples=3),
    run_config=tune.RunConfig(storage_path=os.path.join(scratch, "tune"),
                              verbose=0))
grid = tuner.fit()
print("TUNE", sorted(r.metrics.get("val_accuracy") is not None
                     for r in grid), flush=True)
print("OURS", sorted(t.status for t in searcher.oracle.trials.values()),
      flush=True)

path = os.path.join(scratch, "searcher.pkl")
searcher.save(path)
restored = NASSearcher(space, x.shape[1:], 10, seed=0, max_params=20_000,
                       metric="val_accuracy", mode="max",
                       strategy_options={"population_size": 2,
                                         "sample_size": 2})
restored.restore(path)
print("RESTORED", searcher.suggest("next") == restored.suggest("next"),
      flush=True)
ray.shutdown()
cluster.shutdown()
