"""A Ray search whose driver gets a Ctrl-C that Python drops, run by the
tests in a network namespace with loopback only.

Once the first trial is recorded, Ctrl-C reaches the driver while it frees
an object, where Python prints "Exception ignored" and drops the
KeyboardInterrupt; the driver waits on its trials in `ray.wait` and must
stop all the same. Argument: a scratch folder.
"""

import json
import os
import signal
import sys
import time

import keras
import keras_nas

scratch = sys.argv[1]
placements = os.path.join(scratch, "p", "ray_trials.json")


class SlowEpochs(keras.callbacks.Callback):
    """Keeps trials in flight while the driver waits on them."""

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(1.0)


class Freed:
    def __del__(self):
        signal.raise_signal(signal.SIGINT)


def tick(*_):
    try:
        with open(placements) as f:
            recorded = len(json.load(f))
    except (OSError, ValueError):
        return
    if recorded:
        signal.setitimer(signal.ITIMER_REAL, 0)
        print("DROPPED", recorded, flush=True)
        Freed()  # Freed at once: Ctrl-C lands in its __del__.


signal.signal(signal.SIGALRM, tick)
signal.setitimer(signal.ITIMER_REAL, 0.2, 0.2)

(x, y), _ = keras_nas.load_digits()
search = keras_nas.NASSearch(
    max_trials=12, seed=0, directory=scratch, project_name="p",
    space=keras_nas.SearchSpace(max_params=20_000),
    warm_start=False, engine=keras_nas.Ray(workers=2, num_cpus=2))
search.fit(x[:200], y[:200], epochs=3, verbose=0, callbacks=[SlowEpochs()])
print("AFTER FIT", len(search.results()), flush=True)
