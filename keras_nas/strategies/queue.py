"""Architectures trained first, before any oracle proposes its own.

Like Optuna's `enqueue_trial`: `enqueue(oracle, values)` makes any
`keras_tuner.Oracle` propose the given values first, in order, then go on
with its own proposals. Nothing about the queue is saved: the next queued
architecture is the first one that no trial of the oracle has tried yet,
so a resumed search picks up where it stopped, and a queued architecture
is never trained twice.

An `EvolutionOracle` counts the queued architectures towards its initial
population, so a warm start replaces its random seeding instead of adding
to it.
"""

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from keras_nas.space.search_space import is_architecture_key

__all__ = ["enqueue", "queued"]


def _same_architecture(a, b):
    keys = {k for k in a if is_architecture_key(k)} | {
        k for k in b if is_architecture_key(k)}
    return all(a.get(k) == b.get(k) for k in keys)


def queued(oracle):
    """The values still waiting in `oracle`'s queue."""
    values = getattr(oracle, "_keras_nas_queue", [])
    tried = [t.hyperparameters.values for t in oracle.trials.values()]
    return [v for v in values
            if not any(_same_architecture(v, t) for t in tried)]


def enqueue(oracle, values):
    """Make `oracle` propose each of `values` (dicts of hyperparameter
    values, e.g. `SearchSpace.encode(ops)`) before its own proposals.

    Raises:
        ValueError: `oracle` is a Hyperband oracle, whose brackets decide
            what runs and for how many epochs.
    """
    if isinstance(oracle, keras_tuner.oracles.HyperbandOracle):
        raise ValueError(
            "Queued architectures cannot be combined with Hyperband, whose "
            "brackets decide what runs. Received: strategy="
            f"{type(oracle).__name__}. Accepted: any other strategy.")
    if getattr(oracle, "_keras_nas_queue", None) is None:
        # Under successive halving's promotions (`promotion.install`) the
        # queue goes between them and the strategy: promotions come first.
        promoting = getattr(oracle, "_keras_nas_proposer", None) is not None
        # The bound method of its class, or the strategy's under promotions.
        own = oracle._keras_nas_proposer if promoting else (
            oracle.populate_space)

        def populate_space(trial_id):
            waiting = queued(oracle)
            if waiting:
                return {"status": TrialStatus.RUNNING,
                        "values": dict(waiting[0])}
            return own(trial_id)

        # An instance attribute: any oracle class, without subclassing it.
        if promoting:
            oracle._keras_nas_proposer = populate_space
        else:
            oracle.populate_space = populate_space
        oracle._keras_nas_queue = []
    oracle._keras_nas_queue.extend(dict(v) for v in values)
