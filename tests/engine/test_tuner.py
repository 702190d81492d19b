"""The engine's per-trial rules, each on its own: steps per compiled call
and the frozen heap (`engine.speed`), and the time budget's callback
(`engine.tuner`)."""

import gc

import keras
import numpy as np
import pytest

from keras_nas.engine import budget, speed


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
