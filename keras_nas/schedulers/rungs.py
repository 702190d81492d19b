"""The rung table of successive halving, shared by every process of a search.

`RungTable` keeps, for each rung, the best objective value each trial
reached by then, in the project folder (`rungs.json`). Every read and write
holds a file lock (and a thread lock, for the local chief's threads), and
the file is replaced atomically, so local workers on one machine, hosts on
a shared file system, or the Ray engine's `RungServer` decide against the
same table, and a resumed search keeps it. What the top `1/eta` of a rung
is comes from `halving.top_count`, the one rule both forms of halving use.
"""

import contextlib
import json
import logging
import os
import threading

from keras_nas._atomic import write_text_atomic
from keras_nas.schedulers.halving import top_count

__all__ = ["RungTable"]

_logger = logging.getLogger(__name__)

_TABLE = "rungs.json"
_LOCK = "rungs.lock"
_THREAD_LOCK = threading.Lock()


class RungTable:
    """The values each trial reached at each rung, shared by every process
    of a search through the project folder.

    Args:
        directory: The project folder.
        direction: The objective's direction, `"max"` or `"min"`.
        reduction_factor: `eta`.
    """

    def __init__(self, directory, direction, reduction_factor):
        self.path = os.path.join(directory, _TABLE)
        self.lock_path = os.path.join(directory, _LOCK)
        self.direction = direction
        self.reduction_factor = reduction_factor

    @contextlib.contextmanager
    def _locked(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with _THREAD_LOCK, open(self.lock_path, "a") as lock:
            try:
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - not POSIX
                pass
            yield

    def _read(self):
        if not os.path.exists(self.path):
            return {}
        with open(self.path) as f:
            return json.load(f)

    def values(self, rung):
        """`{trial_id: value}` of every trial that reached `rung` (epochs)."""
        with self._locked():
            return dict(self._read().get(str(rung), {}))

    def report(self, rung, trial_id, value):
        """Record `value` for `trial_id` at `rung` and say whether it is in
        the top `1/eta` of that rung (it then trains on).

        With fewer than `eta` trials at the rung, where the top `1/eta` is
        empty, the best so far goes on, as in Optuna's
        `SuccessiveHalvingPruner`: in this form a stopped trial never
        resumes, so holding the first ones to a full rung would stop them
        all. A value tied with the last one kept goes on too.
        """
        with self._locked():
            table = self._read()
            at_rung = table.setdefault(str(rung), {})
            at_rung[str(trial_id)] = float(value)
            write_text_atomic(self.path, json.dumps(table))
            values = sorted(at_rung.values(),
                            reverse=self.direction == "max")
        keep = max(1, top_count(len(values), self.reduction_factor))
        threshold = values[keep - 1]
        if self.direction == "max":
            goes_on = value >= threshold
        else:
            goes_on = value <= threshold
        _logger.debug("trial %s at rung %s: %.4f against the top %d of %d "
                      "(%.4f): %s", trial_id, rung, value, keep, len(values),
                      threshold, "goes on" if goes_on else "stops")
        return goes_on
