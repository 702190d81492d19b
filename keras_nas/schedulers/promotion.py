"""The promotion form of asynchronous successive halving, for every strategy.

Li et al., "A System for Massively Parallel Hyperparameter Tuning" (MLSys
2020), Algorithm 2. Under `Halving(mode="promotion")` every trial stops at
the first rung it reaches (`engine.callbacks.RungCallback(stop_at_rung=
True)`), its weights and optimizer state kept in its `rung.weights.h5`.
Each time the search's oracle is asked for a trial, `Promotions` looks at
the rung table from the top rung down for a candidate in the top `1/eta`
of its rung (`halving.top_count`: `floor(n / eta)` of the `n` there, as in
the paper, so none while fewer than `eta` have arrived) that has not been
continued yet; if there is one, it continues that candidate instead of
asking the oracle it wraps for a new one.

`Promotions` is a wrapper oracle (`_compat.OracleWrapper`), as Ray Tune's
`ConcurrencyLimiter` wraps a searcher: the tuner sees it, the strategy's
oracle inside keeps every trial, continuations included, and the order is
fixed: promotions first, then the queue of first architectures, then the
strategy, `Promotions(Queue(strategy))` (`strategies.wrap`). Its own state
is the rung settings (`start`), saved in `oracle.json`.

How a continuation is a Keras Tuner trial: it is a **new trial** whose
values are the stopped trial's plus `CONTINUES = "halving/continues"`, the
stopped trial's id, as Keras Tuner's own Hyperband makes a round that trains
on from an earlier trial (`tuner/trial_id`). So:

- `max_trials` counts trainings, as Hyperband's do: a promotion uses one.
- Keras Tuner's resume needs nothing more: a continuation killed in flight
  is an ongoing trial that Keras Tuner runs again, from its parent's rung
  checkpoint. The record of what was promoted is the trials themselves
  (a candidate is continued when a trial names it in `CONTINUES`), saved by
  Keras Tuner in `trial.json` and `oracle.json`, which keras_nas writes
  atomically (`_compat`); the rung table is `rungs.json`, written
  atomically under its lock. There is no other state to lose or to
  disagree with them, and the oracle's lock (`create_trial` is
  synchronized) means no candidate is continued twice, whatever the
  number of workers.
- The results table keeps one row per training: a continuation's row has
  the rungs its candidate reached (`rung_<i>` of its parent's rungs and its
  own), its total `epochs` (counted from the first) and `initial_epoch`;
  `TrialRecord.continues` names the trial it continued. Re-opening the
  completed trial instead would rewrite a finished Keras Tuner trial, which
  its oracle, its results and `max_trials` do not expect.

The strategies see continuations as trials with the values of their
parent: `halving.compare` (at the highest rung both reached) keeps working,
since a continuation's rungs include its parent's.
"""

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas.schedulers.halving import top_count
from keras_nas.schedulers.rungs import RungTable

__all__ = ["CONTINUES", "Promotions", "continued", "next_promotion",
           "without_markers"]

#: The value naming the trial a continuation trains on from.
CONTINUES = "halving/continues"


def without_markers(values):
    """`values` without the promotion's bookkeeping, for a new candidate
    that a strategy derived from a continuation's values."""
    return {k: v for k, v in values.items() if k != CONTINUES}


def continued(oracle):
    """The ids of the trials that a trial of `oracle` continues."""
    return {str(t.hyperparameters.values[CONTINUES])
            for t in oracle.trials.values()
            if CONTINUES in t.hyperparameters.values}


def _stopped_at(trial, index):
    metrics = trial.metrics
    if not (metrics.exists("rung") and metrics.exists("stopped")):
        return False
    return (metrics.get_last_value("stopped") == 1.0
            and int(metrics.get_last_value("rung")) == index)


def next_promotion(oracle, table, rungs):
    """The id of the trial to continue now, or `None`.

    Args:
        oracle: The `keras_tuner.Oracle` whose trials are the candidates.
        table: The search's `rungs.RungTable`.
        rungs: The rung epochs (`Halving.rungs(epochs)`).
    """
    done = continued(oracle)
    maximize = table.direction == "max"
    for index in reversed(range(len(rungs))):
        values = table.values(rungs[index])
        # Ties go to the earlier trial, so the choice does not depend on
        # the order the table lists them in.
        ranked = sorted(values, key=lambda t: (
            -values[t] if maximize else values[t], int(t)))
        for trial_id in ranked[:top_count(len(values),
                                          table.reduction_factor)]:
            trial = oracle.trials.get(trial_id)
            if (trial_id not in done and trial is not None
                    and trial.status == TrialStatus.COMPLETED
                    and _stopped_at(trial, index)):
                return trial_id
    return None


class Promotions(_compat.OracleWrapper):
    """An oracle that continues the promotable candidates before the oracle
    it wraps proposes new ones.

    Until `start` gives it the search's rung table and rungs (the tuner
    does, when the search begins), it promotes nothing.

    Args:
        oracle: Any `keras_tuner.Oracle` but Hyperband's, usually the
            search's `strategies.queue.Queue`.
        table: The search's `rungs.RungTable`. Defaults to `None`.
        rungs: The rung epochs (`Halving.rungs(epochs)`). Defaults to `()`.

    Raises:
        ValueError: The strategy is Hyperband, whose brackets decide what
            runs and for how many epochs.
    """

    STATE_KEY = "keras_nas/promotions"
    OWN = ("oracle", "table", "rungs")

    def __init__(self, oracle, table=None, rungs=()):
        strategy = _compat.unwrapped(oracle)
        if isinstance(strategy, keras_tuner.oracles.HyperbandOracle):
            raise ValueError(
                "Promotions cannot be combined with Hyperband, whose "
                "brackets decide what runs. Received: strategy="
                f"{type(strategy).__name__}. Accepted: any other strategy.")
        super().__init__(oracle)
        self.table = None
        self.rungs = []
        if table is not None:
            self.start(table, rungs)

    def start(self, table, rungs):
        """Promote by `table` (a `rungs.RungTable`) at `rungs` (epochs)."""
        self.table = table
        self.rungs = [int(r) for r in rungs]

    def populate_space(self, trial_id):
        parent = None if self.table is None else next_promotion(
            self, self.table, self.rungs)
        if parent is not None:
            values = dict(self.trials[parent].hyperparameters.values)
            values[CONTINUES] = parent
            return {"status": TrialStatus.RUNNING, "values": values}
        response = self.oracle.populate_space(trial_id)
        if response.get("values"):
            response = dict(response,
                            values=without_markers(response["values"]))
        return response

    def own_state(self):
        if self.table is None:
            return {}
        return {"rungs": list(self.rungs),
                "direction": self.table.direction,
                "reduction_factor": self.table.reduction_factor}

    def set_own_state(self, state):
        if state.get("rungs") is not None:
            self.start(RungTable(_compat.project_dir(self),
                                 state["direction"],
                                 state["reduction_factor"]), state["rungs"])
