"""What a search prints while it runs.

At `verbose=1`, one line per trial, which reads the same in a terminal and
in a log file (plain text, no escape codes, flushed at once):

    [3/15 0:42 ~2:06 left] trial 2: conv3x3-32 > maxpool > dense-64 | 12,906 params | val_accuracy 0.9512 | best 0.9612

the trials done of the budget, the time elapsed and the estimated time
left, then the trial's op sequence, size and outcome, and the best value so
far. Keras' own output appears only at `verbose=2`: its progress bar in a
terminal, a plain line per epoch in a pipe. `verbose=0` prints nothing.
"""

import sys
import time

from keras_nas.analysis import records as results_module
from keras_nas.data.task import primary_objective

__all__ = ["Progress", "format_seconds", "keras_verbosity"]


def keras_verbosity(verbose, stream=None):
    """The `verbose` of `keras.Model.fit` for a search's `verbose`: none
    below 2; at 2, Keras' progress bar in a terminal, and its plain line per
    epoch elsewhere (the bar is drawn with escape codes)."""
    if verbose < 2:
        return 0
    stream = sys.stdout if stream is None else stream
    return 1 if getattr(stream, "isatty", lambda: False)() else 2


def format_seconds(seconds):
    """`0:42`, `12:05`, `1:02:03`."""
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


class Progress:
    """A trial hook (`NASTuner(trial_hooks=[...])`) that prints a line per
    trial.

    Args:
        max_trials: The search's budget of trials.
        verbose: `0` silent, `1` or `2` a line per trial.
        max_time_s: Optional time budget in seconds; the estimate of the
            time left never exceeds what is left of it.
        stream: Optional file to write to. Defaults to standard output.
    """

    def __init__(self, max_trials, verbose=1, max_time_s=None, stream=None):
        self.max_trials = max_trials
        self.verbose = verbose
        self.max_time_s = max_time_s
        self.stream = stream
        self.start = time.monotonic()
        self._done_before = None

    def begin(self):
        """Restart the clock (at the start of `fit`)."""
        self.start = time.monotonic()
        self._done_before = None

    def print(self, text):
        if self.verbose:
            print(text, file=self.stream, flush=True)

    def status(self, done):
        """`[done/max elapsed ~left]` for `done` trials of the budget."""
        elapsed = time.monotonic() - self.start
        if self._done_before is None:
            self._done_before = done - 1  # Trials of earlier runs (resume).
        ran = done - self._done_before
        left = ""
        if 0 < ran and done < self.max_trials:
            estimate = elapsed / ran * (self.max_trials - done)
            if self.max_time_s is not None:
                estimate = min(estimate, max(0.0, self.max_time_s - elapsed))
            left = f" ~{format_seconds(estimate)} left"
        return (f"[{done}/{self.max_trials} {format_seconds(elapsed)}"
                f"{left}]")

    def __call__(self, tuner, trial):
        if not self.verbose:
            return
        oracle = tuner.oracle
        objective = primary_objective(oracle.objective)
        # The oracle's record: on a worker, only the chief scored the trial.
        r = results_module.record(oracle.get_trial(trial.trial_id),
                                  tuner.hypermodel.space,
                                  tuner.hypermodel.head, oracle.objective)
        done = int(r.trial_id) + 1
        ops = " > ".join(r.ops)
        params = "invalid" if r.params is None else f"{r.params:,} params"
        if r.status == "COMPLETED":
            outcome = f"{objective.name} {r.value:.4f}"
            outcome += "".join(
                f", {name} {value:.4g}" for name, value in r.objectives.items()
                if name not in (objective.name, "params") and value is not None)
            if r.stopped:
                outcome += f" (stopped at rung {r.rung}, {r.epochs} epochs)"
        else:
            outcome = f"{r.status}: {(r.reason or r.status)[:80]}"
        values = [x.value for x in results_module.collect(
            oracle, tuner.hypermodel.space, tuner.hypermodel.head)
            if x.value is not None]
        best = "best -" if not values else (
            f"best {(max if objective.direction == 'max' else min)(values):.4f}")
        self.print(f"{self.status(done)} trial {r.trial_id}: {ops} | "
                   f"{params} | {outcome} | {best}")
