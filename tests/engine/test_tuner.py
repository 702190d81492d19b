"""The engine's per-trial rules, each on its own: steps per compiled call
and the frozen heap (`engine.speed`), the time budget's callback
(`engine.tuner`), and what the tuner offers the rest of the engine."""

import gc
import os

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas import strategies
from keras_nas.engine import budget, speed
from keras_nas.schedulers.promotion import Promotions

from tests.conftest import tabular


def test_steps_per_execution_default_and_checks():
    assert speed.resolve_steps_per_execution(None) == (
        speed.DEFAULT_STEPS_PER_EXECUTION)
    assert speed.resolve_steps_per_execution(4) == 4
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=r"`steps_per_execution` must be "
                           rf"a positive integer or None. Received: "
                           rf"steps_per_execution={bad!r}"):
            speed.resolve_steps_per_execution(bad)


def test_frozen_heap_freezes_inside_and_unfreezes_after():
    assert gc.get_freeze_count() == 0
    with speed.frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_frozen_heap_leaves_a_users_freeze_alone():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with speed.frozen_heap():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_the_deadline_stops_training_at_the_next_epoch():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((8, 2), "float32")
    past = budget.StopAtDeadline(deadline=0.0)  # Long gone.
    history = model.fit(x, x[:, :1], epochs=5, verbose=0, callbacks=[past])
    assert len(history.history["loss"]) == 1


def test_the_tuner_starts_the_promotions_of_its_wrapped_oracle(tmp_path):
    x, y = tabular(60)
    search = keras_nas.NASSearch(
        max_trials=2, seed=0, directory=str(tmp_path), strategy="random",
        warm_start=False, initial_architectures=[],
        halving=keras_nas.Halving(min_epochs=1, reduction_factor=2,
                                  mode="promotion"))
    search.fit(x, y, epochs=2, verbose=0)
    tuner = search.tuner
    # `Promotions(Queue(strategy))`, its rungs those of a 2-epoch search.
    assert isinstance(tuner.oracle, Promotions)
    assert isinstance(tuner.oracle.oracle, strategies.Queue)
    assert type(strategies.strategy_of(tuner.oracle)) is (
        strategies.RandomSearchOracle)
    assert tuner.oracle.rungs == [1]
    assert tuner.rung_table().path == os.path.join(tuner.project_dir,
                                                   "rungs.json")
    assert tuner.rung_checkpoint("0") == os.path.join(
        tuner.get_trial_dir("0"), "rung.weights.h5")
    assert tuner.architecture_failed is False
    # Trial 0 stopped at its rung and kept its checkpoint: it loads.
    model = tuner.hypermodel.build(tuner.oracle.trials["0"].hyperparameters)
    tuner.load_weights(model, checkpoint=tuner.rung_checkpoint("0"))
    tuner.oracle = tuner.oracle.oracle  # Not wrapped for promotions.
    with pytest.raises(ValueError, match=r"strategies.wrap\(oracle, "
                       r"promotions=True\)"):
        tuner.start_promotions(2)
