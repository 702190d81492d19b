"""The time budget and worker recycling on the Ray engine, Ray embedded
(`Ray(num_cpus=2)`), run by the tests in a network namespace with loopback
only.

1. `max_time_s`: a 2-worker search of 50 trials of 3 slow epochs (a second
   each) with a budget of `MAX_TIME` seconds, counted from the start of
   `fit` (Ray's start included, as a serial search counts its own start).
2. `trials_per_process=1`: every trial in a fresh worker process.
3. `pack_size=3`: one task trains three trials at once, each recorded as
   its own, with its checkpoint and validation predictions.

Argument: a scratch folder. Prints JSON lines `KEY value` for the test.
"""

import json
import os
import sys
import time

import keras
import keras_nas

MAX_TIME = 40
scratch = sys.argv[1]


class SlowEpochs(keras.callbacks.Callback):
    """Makes each epoch last a second more, so a trial is in flight when
    the budget ends."""

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(1.0)


def placements(project):
    with open(os.path.join(scratch, project, "ray_trials.json")) as f:
        return json.load(f)


(x, y), _ = keras_nas.load_digits()
x, y = x[:200], y[:200]

budget = keras_nas.NASSearch(
    max_trials=50, seed=3, directory=scratch, project_name="budget",
    space=keras_nas.SearchSpace(max_params=20_000),
    warm_start=False, max_time_s=MAX_TIME,
    engine=keras_nas.Ray(workers=2, num_cpus=2))
began = time.time()
budget.fit(x, y, epochs=3, verbose=0, callbacks=[SlowEpochs()])
print("BEGAN", began, flush=True)
print("ENDED", time.time(), flush=True)
print("MAX_TIME", MAX_TIME, flush=True)
print("BUDGET_PLACED", json.dumps(placements("budget")), flush=True)
print("BUDGET_TRIALS", json.dumps({
    t.trial_id: {"status": t.status,
                 "time_up": t.metrics.exists("time_up"),
                 "stopped": bool(t.metrics.get_last_value("stopped"))
                 if t.metrics.exists("stopped") else False,
                 "epochs": t.metrics.get_last_value("epochs")
                 if t.metrics.exists("epochs") else None}
    for t in budget.tuner.oracle.trials.values()}), flush=True)
print("BUDGET_RECORDS", json.dumps(
    {r.trial_id: [r.status, r.epochs, r.seconds] for r in budget.results()}),
    flush=True)

recycled = keras_nas.NASSearch(
    max_trials=3, seed=4, directory=scratch, project_name="recycled",
    space=keras_nas.SearchSpace(max_params=20_000), warm_start=False,
    engine=keras_nas.Ray(workers=2, num_cpus=2, trials_per_process=1))
recycled.fit(x, y, epochs=1, verbose=0)
print("RECYCLED_PIDS", json.dumps(
    {t: p["pid"] for t, p in placements("recycled").items()}), flush=True)
print("RECYCLED_STATUSES", json.dumps(
    sorted(r.status for r in recycled.results())), flush=True)

packed = keras_nas.NASSearch(
    max_trials=3, seed=5, directory=scratch, project_name="packed",
    space=keras_nas.SearchSpace(max_params=20_000), warm_start=False,
    halving=False, engine=keras_nas.Ray(workers=1, num_cpus=2, pack_size=3))
packed.fit(x, y, epochs=2, verbose=0)
print("PACKED_PLACED", json.dumps(placements("packed")), flush=True)
print("PACKED_RECORDS", json.dumps(
    {r.trial_id: [r.status, r.epochs] for r in packed.results()}), flush=True)
print("PACKED_FILES", json.dumps({
    t: sorted(os.listdir(os.path.join(scratch, "packed", f"trial_{t}")))
    for t in ("0", "1", "2")}), flush=True)
