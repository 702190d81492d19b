"""Architectures trained first, before the strategy proposes its own.

Like Optuna's `enqueue_trial`: `Queue(oracle, values)` is an oracle that
proposes the given values first, in order, then goes on with the
proposals of the `keras_tuner.Oracle` it wraps.

Why a wrapper oracle (`_compat.OracleWrapper`), as Ray Tune's
`ConcurrencyLimiter` wraps a searcher, and not a `populate_space` patched
onto the strategy's oracle: nothing is installed on the strategy, the order
of the wrappers is fixed by how they nest, `Promotions(Queue(strategy))`
(`wrap`, the one place a search's oracle is put together), and the queue's
state is its own. The tuner sees the outermost wrapper; the strategy's
oracle keeps every trial, the queued ones included, so an `EvolutionOracle`
counts them towards its initial population (a warm start replaces its
random seeding instead of adding to it) and a `LocalSearchOracle` starts
from the best of them.

The queued values are saved in `oracle.json` (`get_state`), so a resumed
search restores its queue. The next queued architecture is the first that
no trial of the oracle has tried yet: a queued architecture is never
trained twice, whether it was queued again on resume or the strategy
proposed it first.
"""

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas.schedulers import promotion
from keras_nas.space.search_space import is_architecture_key

__all__ = ["Queue", "enqueue", "wrap"]


def _same_architecture(a, b):
    keys = {k for k in a if is_architecture_key(k)} | {
        k for k in b if is_architecture_key(k)}
    return all(a.get(k) == b.get(k) for k in keys)


def _refuse_hyperband(oracle, what):
    strategy = _compat.unwrapped(oracle)
    if isinstance(strategy, keras_tuner.oracles.HyperbandOracle):
        raise ValueError(
            f"{what} cannot be combined with Hyperband, whose brackets "
            "decide what runs. Received: strategy="
            f"{type(strategy).__name__}. Accepted: any other strategy.")


class Queue(_compat.OracleWrapper):
    """An oracle that proposes queued values first, then those of the
    oracle it wraps.

    Args:
        oracle: Any `keras_tuner.Oracle` but Hyperband's.
        values: Dicts of hyperparameter values to propose first, in order
            (e.g. `SearchSpace.encode(ops)`). Defaults to `()`.

    Raises:
        ValueError: `oracle` is a Hyperband oracle, whose brackets decide
            what runs and for how many epochs.
    """

    STATE_KEY = "keras_nas/queue"
    OWN = ("oracle", "values")

    def __init__(self, oracle, values=()):
        _refuse_hyperband(oracle, "Queued architectures")
        super().__init__(oracle)
        self.values = []
        self.enqueue(values)

    def enqueue(self, values):
        """Queue each of `values` after those already queued; one whose
        architecture is already in the queue is left out."""
        for value in values:
            value = dict(value)
            if not any(_same_architecture(value, v) for v in self.values):
                self.values.append(value)

    def waiting(self):
        """The queued values that no trial has tried yet, in order."""
        tried = [t.hyperparameters.values for t in self.trials.values()]
        return [v for v in self.values
                if not any(_same_architecture(v, t) for t in tried)]

    def populate_space(self, trial_id):
        waiting = self.waiting()
        if waiting:
            return {"status": TrialStatus.RUNNING, "values": dict(waiting[0])}
        return self.oracle.populate_space(trial_id)

    def own_state(self):
        return {"values": [dict(v) for v in self.values]}

    def set_own_state(self, state):
        self.values = []
        self.enqueue(state.get("values", []))


def wrap(oracle, promotions=False):
    """The oracle a search runs: the strategy's `oracle` behind the queue
    of first architectures, and behind ASHA's promotions if `promotions`:
    `Promotions(Queue(oracle))`. The one place they are put together.

    Args:
        oracle: The strategy's `keras_tuner.Oracle` (`strategies.get`).
        promotions: Whether successive halving promotes
            (`Halving(mode="promotion")`); the tuner starts them
            (`NASTuner.start_promotions`). Defaults to `False`.

    Returns:
        The oracle for the tuner. A Hyperband oracle, which takes neither,
        is returned as it is.
    """
    if isinstance(oracle, keras_tuner.oracles.HyperbandOracle):
        if promotions:
            _refuse_hyperband(oracle, "Promotions")
        return oracle
    oracle = Queue(oracle)
    if promotions:
        oracle = promotion.Promotions(oracle)
    return oracle


def enqueue(oracle, values):
    """Queue `values` on the `Queue` inside `oracle` (a search's oracle,
    from `wrap`).

    Raises:
        ValueError: `oracle` has no queue: Hyperband's, whose brackets
            decide what runs, or one not made by `wrap`.
    """
    _refuse_hyperband(oracle, "Queued architectures")
    found = oracle
    while isinstance(found, _compat.OracleWrapper) and not isinstance(
            found, Queue):
        found = found.oracle
    if not isinstance(found, Queue):
        raise ValueError(
            "`oracle` has no queue of first architectures. Received: "
            f"oracle={type(oracle).__name__}. Accepted: an oracle from "
            "`strategies.wrap(oracle)`, or a `strategies.queue.Queue`.")
    found.enqueue(values)
