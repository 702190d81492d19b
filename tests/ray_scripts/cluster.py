"""Two Ray nodes in one process (`ray.cluster_utils.Cluster`), one core
each, run by the tests in a network namespace with loopback only:

1. a 2-worker `NASSearch` on the Ray engine, whose trials must land on both
   nodes (one trial fits a node's core), each holding half a GPU: its
   worker must start with GPU memory shared, not taken whole; the serial
   search of the same seed proposes the same candidates;
2. examples/ray_tune_searcher.py's `NASSearcher` and trainable in a short
   `ray.tune.Tuner` run, then the searcher saved and restored: the restored
   one proposes what the original does.

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

scratch = sys.argv[1]
# Each node declares one GPU, so that a trial can ask for half of one (Ray
# schedules by the declared count; TensorFlow, finding none, uses the CPU).
cluster = Cluster(initialize_head=True, head_node_args={
    "num_cpus": 1, "num_gpus": 1, "include_dashboard": False})
cluster.add_node(num_cpus=1, num_gpus=1)
ray.init(address=cluster.address, log_to_driver=False)



class RecordEnvironment(keras.callbacks.Callback):
    """Writes the GPU memory settings its worker process started with."""

    def on_train_begin(self, logs=None):
        with open(os.path.join(scratch, f"env_{os.getpid()}.json"), "w") as f:
            json.dump([os.environ.get("XLA_PYTHON_CLIENT_MEM_FRACTION"),
                       os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH")], f)


(x, y), _ = keras_nas.load_digits()
x, y = x[:200], y[:200]
search = keras_nas.NASSearch(
    max_trials=2, seed=1, directory=scratch, project_name="p",
    space=keras_nas.SearchSpace(max_params=20_000), warm_start=False,
    engine=keras_nas.Ray(workers=2, address=cluster.address,
                         resources_per_trial={"cpu": 1, "gpu": 0.5}))
search.fit(x, y, epochs=1, verbose=0, callbacks=[RecordEnvironment()])
with open(os.path.join(scratch, "p", "ray_trials.json")) as f:
    placements = json.load(f)
print("NODES", len({p["node"] for p in placements.values()}), flush=True)
print("SEARCH", sorted(r.status for r in search.results()), flush=True)
environments = set()
for name in os.listdir(scratch):
    if name.startswith("env_"):
        with open(os.path.join(scratch, name)) as f:
            environments.add(tuple(json.load(f)))
print("ENV", sorted(environments), flush=True)
serial = keras_nas.NASSearch(
    max_trials=2, seed=1, directory=scratch, project_name="serial",
    space=keras_nas.SearchSpace(max_params=20_000), warm_start=False)
serial.fit(x, y, epochs=1, verbose=0)
print("SAME", [r.ops for r in sorted(serial.results(), key=lambda r: r.trial_id)]
      == [r.ops for r in sorted(search.results(), key=lambda r: r.trial_id)],
      flush=True)


# The example's own searcher and trainable, on the two nodes.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, os.pardir, "examples"))
import ray_tune_searcher as example  # noqa: E402

ray.cloudpickle.register_pickle_by_value(example)  # Workers lack its path.

searcher = example.make_searcher(x.shape[1:], max_trials=5)
tuner = tune.Tuner(
    tune.with_parameters(example.trainable, data=(x, y), epochs=1),
    tune_config=tune.TuneConfig(search_alg=searcher, num_samples=3),
    run_config=tune.RunConfig(storage_path=os.path.join(scratch, "tune"),
                              verbose=0))
grid = tuner.fit()
print("TUNE", sorted(r.metrics.get("val_accuracy") is not None
                     for r in grid), flush=True)
print("OURS", sorted(t.status for t in searcher.oracle.trials.values()),
      flush=True)

path = os.path.join(scratch, "searcher.json")
searcher.save(path)
restored = example.make_searcher(x.shape[1:], max_trials=5)
restored.restore(path)
proposed = searcher.suggest("next")
print("RESTORED", isinstance(proposed, dict) and "ops" in proposed
      and proposed == restored.suggest("next"), flush=True)
ray.shutdown()
cluster.shutdown()
