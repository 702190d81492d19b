"""A node leaves mid-search: two Ray nodes in one process
(`ray.cluster_utils.Cluster`), run by the tests in a network namespace with
loopback only.

The head has one core, the node that leaves two, so a 3-worker search runs
trials on both. The first trial that starts on the leaving node trains as
usual; every later one there stalls, until a watcher thread removes the
node (its processes SIGKILLed, as in a crash) once the driver has recorded
the finished one. The stalled trials must run again on the head, and the
finished one must stay as it is.

Argument: a scratch folder. Prints JSON lines `KEY value` for the test.
"""

import json
import os
import sys
import threading
import time
import uuid

import ray
from ray.cluster_utils import Cluster

import keras
import keras_nas

scratch = sys.argv[1]
project = os.path.join(scratch, "p")
cluster = Cluster(initialize_head=True, head_node_args={
    "num_cpus": 1, "include_dashboard": False})
leaving = cluster.add_node(num_cpus=2)
ray.init(address=cluster.address, log_to_driver=False)


class StallOnLeavingNode(keras.callbacks.Callback):
    """Marks each trial's start; on the leaving node, all but the first
    stall until the node is gone."""

    def __init__(self, node_id, folder):
        super().__init__()
        self.node_id, self.folder = node_id, folder

    def on_train_begin(self, logs=None):
        node = ray.get_runtime_context().get_node_id()
        where = "leaving" if node == self.node_id else "head"
        open(os.path.join(self.folder, f"start_{where}_{uuid.uuid4().hex}"),
             "w").close()
        if where == "head":
            return
        try:
            os.close(os.open(os.path.join(self.folder, "first"),
                             os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            open(os.path.join(self.folder, f"stalled_{os.getpid()}"),
                 "w").close()
            time.sleep(600)  # The node leaves during this.


def remove_when_ready():
    """Removes the node once it holds a stalled trial and the driver has
    recorded the one it finished."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(project, "ray_trials.json")) as f:
                recorded = json.load(f)
        except (OSError, ValueError):
            recorded = {}
        done = any(p["node"] == leaving.node_id for p in recorded.values())
        stalled = any(n.startswith("stalled_") for n in os.listdir(scratch))
        if done and stalled:
            time.sleep(0.5)
            print("REMOVED", json.dumps(sorted(recorded, key=int)), flush=True)
            cluster.remove_node(leaving, allow_graceful=False)
            return
        time.sleep(0.2)
    print("NEVER_REMOVED", flush=True)
    os._exit(3)


(x, y), _ = keras_nas.load_digits()
x, y = x[:200], y[:200]
watcher = threading.Thread(target=remove_when_ready, daemon=True)
watcher.start()
search = keras_nas.NASSearch(
    max_trials=4, seed=2, directory=scratch, project_name="p",
    space=keras_nas.SearchSpace(max_params=20_000), warm_start=False,
    engine=keras_nas.Ray(workers=3, address=cluster.address, max_retries=1,
                         ordered=False))
started = time.monotonic()
search.fit(x, y, epochs=1, verbose=0,
           callbacks=[StallOnLeavingNode(leaving.node_id, scratch)])
print("FIT_S", round(time.monotonic() - started, 1), flush=True)
watcher.join(timeout=1)
with open(os.path.join(project, "ray_trials.json")) as f:
    placements = json.load(f)
print("PLACED", json.dumps({t: "leaving" if p["node"] == leaving.node_id
                            else "head" for t, p in placements.items()}),
      flush=True)
names = os.listdir(scratch)
print("STARTS", json.dumps({w: sum(n.startswith(f"start_{w}_") for n in names)
                            for w in ("head", "leaving")}), flush=True)
print("STALLED", sum(n.startswith("stalled_") for n in names), flush=True)
print("STATUSES", json.dumps({r.trial_id: r.status for r in search.results()}),
      flush=True)
print("OPS", len({tuple(r.ops) for r in search.results()}), flush=True)
ray.shutdown()
cluster.shutdown()
