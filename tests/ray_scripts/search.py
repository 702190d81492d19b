"""A search on the Ray engine, run from standard input by the tests
(`python - < search.py`, where no program can be run again), in a network
namespace with loopback only.

Its first trial's worker kills itself (SIGKILL) at its first epoch end, once
(a marker file says it happened): Ray must run that trial again. Argument:
the project folder.
"""

import os
import signal
import sys

import keras

import keras_nas

directory = sys.argv[1]
marker = os.path.join(os.path.dirname(directory), "worker_killed")


class KillOnce(keras.callbacks.Callback):
    """Kills its worker process at the first epoch end of the search."""

    def on_epoch_end(self, epoch, logs=None):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)


(x, y), _ = keras_nas.load_digits()
search = keras_nas.NASSearch(
    max_trials=4, seed=0, directory=directory, project_name="p",
    space=keras_nas.SearchSpace(max_params=20_000),
    engine=keras_nas.Ray(workers=2, num_cpus=2, max_retries=1,
                         resources_per_trial={"cpu": 1, "gpu": 0}))
search.fit(x[:240], y[:240], epochs=2, callbacks=[KillOnce()], verbose=1)
print("AFTER FIT", len(search.results()), flush=True)
