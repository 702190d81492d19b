"""The promotion form of successive halving (`Halving(mode="promotion")`):
the top-`1/eta` rule from the top rung down, for every strategy through
Keras Tuner's trial protocol, and on real Keras models: a stopped candidate
trains on from its rung checkpoint, once, and a resumed search keeps the
promotions."""

import json

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas import Halving, NASSearch
from keras_nas.front.config import SearchConfig
from keras_nas.schedulers import promotion
from keras_nas.schedulers.promotion import CONTINUES, Promotions
from keras_nas.schedulers.rungs import RungTable
from keras_nas.strategies.queue import Queue

from tests.conftest import digits
from tests.strategies.test_strategies import MAX, make, space

RUNGS = [1, 3]  # Epochs of the two rungs; the top is a third level.


def drive(oracle, table, n, value_of):
    """Run `n` trials through Keras Tuner's protocol as the tuner would
    under promotions: a new candidate stops at the first rung with
    `value_of(trial)`, a continuation one rung higher, 0.01 better."""
    for _ in range(n):
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            break
        values = trial.hyperparameters.values
        parent = values.get(CONTINUES)
        if parent is None:
            index, reached = 0, {0: value_of(trial)}
        else:
            metrics = oracle.trials[parent].metrics
            index = int(metrics.get_last_value("rung")) + 1
            reached = {i: metrics.get_last_value(f"rung_{i}")
                       for i in range(index)}
            if index < len(RUNGS):
                reached[index] = reached[index - 1] + 0.01
        value = reached[max(reached)] + (0.0 if index < len(RUNGS) else 0.01)
        if index < len(RUNGS):
            table.report(RUNGS[index], trial.trial_id, value)
        metrics = {f"rung_{i}": v for i, v in reached.items()}
        metrics.update(score=value, rung=float(min(index, len(RUNGS) - 1)),
                       stopped=float(index < len(RUNGS)))
        oracle.update_trial(trial.trial_id, metrics)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)


def promoted(oracle):
    """`{trial_id: the trial it continues}`."""
    return {t: trial.hyperparameters.values[CONTINUES]
            for t, trial in oracle.trials.items()
            if CONTINUES in trial.hyperparameters.values}


def test_top_of_each_rung_goes_on_from_the_top_rung_down(tmp_path):
    table = RungTable(str(tmp_path), "max", 3)
    oracle = Promotions(make("random", tmp_path, max_trials=13), table,
                        RUNGS)
    new = iter([0.5, 0.9, 0.2, 0.4, 0.3, 0.8, 0.1, 0.05, 0.15])
    drive(oracle, table, 13, lambda trial: next(new))
    # 3 at rung 0: the best (01) goes on. 6: the top 2 (01, 06). 9: the
    # top 3, so 00, stopped long ago, goes on now. Then rung 1 has 3 and
    # its best (03, from 01) goes on to the top before anything else.
    assert promoted(oracle) == {"03": "01", "07": "06", "11": "00",
                                "12": "03"}
    assert oracle.trials["12"].metrics.get_last_value("stopped") == 0.0
    for child, parent in promoted(oracle).items():
        assert oracle.trials[child].hyperparameters.values[CONTINUES] == (
            parent)
        assert promotion.without_markers(
            oracle.trials[child].hyperparameters.values) == (
            promotion.without_markers(
                oracle.trials[parent].hyperparameters.values))


def test_fewer_than_eta_at_a_rung_promote_none(tmp_path):
    table = RungTable(str(tmp_path), "max", 3)
    oracle = Promotions(make("random", tmp_path, max_trials=4), table,
                        RUNGS)
    values = iter([0.9, 0.1])
    drive(oracle, table, 2, lambda trial: next(values))
    assert promotion.next_promotion(oracle, table, RUNGS) is None


@pytest.mark.parametrize("strategy", ["evolution", "local", "random",
                                      "bayesian"])
def test_every_strategy_promotes_each_candidate_once(strategy, tmp_path):
    strategy = make(strategy, tmp_path, max_trials=16)
    table = RungTable(str(tmp_path), "max", 2)
    bound = getattr(strategy, "space", None)
    # Queued architectures come after the promotions.
    oracle = Promotions(Queue(strategy, [{"depth": 1, "op_0": "dense-16"}]),
                        table, RUNGS)

    def value_of(trial):
        ops = trial.hyperparameters.values
        return 0.1 * ops.get("depth", 1) + 0.001 * int(trial.trial_id)

    drive(oracle, table, 16, value_of)
    children = promoted(oracle)
    assert len(children) >= 3
    assert len(set(children.values())) == len(children)  # Never twice.
    for child, parent in children.items():
        assert int(parent) < int(child)
    for trial in oracle.trials.values():
        if CONTINUES not in trial.hyperparameters.values and bound:
            # A strategy's proposal never carries the bookkeeping.
            assert bound.check(bound.decode(trial.hyperparameters)) is None
    assert oracle.trials["00"].hyperparameters.values["op_0"] == "dense-16"
    # The strategy's own oracle holds every trial, continuations included.
    assert strategy.trials is oracle.trials and len(strategy.trials) == 16


def test_promotions_come_before_the_queue_and_both_are_refused_for_hyperband(
        tmp_path):
    table = RungTable(str(tmp_path), "max", 2)
    first = [{"depth": 1, "op_0": "dense-16"}, {"depth": 1, "op_0": "maxpool"},
             {"depth": 1, "op_0": "dropout"}]
    oracle = keras_nas.strategies.wrap(make("random", tmp_path,
                                            max_trials=6), promotions=True)
    assert isinstance(oracle, Promotions)
    assert isinstance(oracle.oracle, Queue)
    keras_nas.strategies.enqueue(oracle, first)
    oracle.start(table, RUNGS)
    values = iter([0.9, 0.1, 0.5, 0.2])
    drive(oracle, table, 4, lambda trial: next(values))
    # Two at rung 0 promote the better (0) before the third queued one.
    assert promoted(oracle) == {"2": "0"}
    assert oracle.trials["3"].hyperparameters.values["op_0"] == "dropout"
    hyperband = keras_nas.strategies.get(
        "hyperband", space=space(), objective=MAX, max_trials=4, epochs=3)
    with pytest.raises(ValueError, match="Promotions cannot be combined "
                       "with Hyperband"):
        Promotions(hyperband)
    with pytest.raises(ValueError, match="Hyperband"):
        keras_nas.strategies.wrap(hyperband, promotions=True)


def test_the_rung_settings_are_saved_with_the_oracle(tmp_path):
    table = RungTable(str(tmp_path / "p"), "min", 4)
    oracle = Promotions(make("evolution", tmp_path), table, [2, 8])
    drive(oracle, table, 2, lambda trial: 0.5)
    oracle.save()
    assert json.loads((tmp_path / "p" / "oracle.json").read_text())[
        Promotions.STATE_KEY] == {"rungs": [2, 8], "direction": "min",
                                  "reduction_factor": 4}
    # A resumed search's oracle knows its rungs before the search starts.
    again = Promotions(make("evolution", tmp_path))
    assert again.table is None and again.own_state() == {}
    again.reload()
    assert again.rungs == [2, 8]
    assert (again.table.direction, again.table.reduction_factor) == (
        "min", 4)
    assert again.table.path == table.path
    assert sorted(again.trials) == ["0", "1"]


def test_mode_is_checked_and_round_trips():
    with pytest.raises(ValueError, match=r"`mode` must be one of \('stopping"
                       r"', 'promotion'\). Received: mode='promote'"):
        Halving(mode="promote")
    h = Halving(min_epochs=1, reduction_factor=2, mode="promotion")
    assert Halving.from_config(h.get_config()) == h and h.promotes
    assert Halving().mode == "stopping" and not Halving().promotes
    assert Halving.from_config({"min_epochs": 2, "reduction_factor": 3}
                               ).mode == "stopping"  # An older folder.
    config = SearchConfig(halving=h)
    again = SearchConfig.from_config(json.loads(json.dumps(
        config.get_config())))
    assert again.halving == h
    with pytest.raises(ValueError, match="Ray"):
        SearchConfig(halving=h, engine=keras_nas.Ray())


class Log(keras.callbacks.Callback):
    """What each `fit` began from and reached at each epoch's end (a class
    list: the tuner deep-copies its callbacks)."""

    events = []
    interrupt = False

    def _state(self):
        weights = sum(float(np.abs(w).sum()) for w in self.model.get_weights())
        return weights, int(self.model.optimizer.iterations.numpy())

    def on_train_begin(self, logs=None):
        Log.events.append(["begin", *self._state()])

    def on_epoch_begin(self, epoch, logs=None):
        Log.events.append(["epoch", epoch])
        if Log.interrupt and epoch > 0:  # The first continuation.
            Log.interrupt = False
            raise KeyboardInterrupt  # As a Ctrl-C: the trial stays open.

    def on_epoch_end(self, epoch, logs=None):
        Log.events.append(["end", *self._state()])


def _fits(events):
    """Each `fit`: its first epoch, its state at the start and at its last
    epoch's end (the rung checkpoint's state for one stopped at a rung)."""
    fits = []
    for event in events:
        if event[0] == "begin":
            fits.append({"begin": tuple(event[1:]), "first": None,
                         "end": None})
        elif event[0] == "epoch" and fits[-1]["first"] is None:
            fits[-1]["first"] = event[1]
        elif event[0] == "end":
            fits[-1]["end"] = tuple(event[1:])
    return fits


def test_a_stopped_candidate_trains_on_from_its_rung_and_resumes(tmp_path):
    (x, y), _ = digits(300)
    # One candidate at a time: the test follows each fit's events in turn.
    arguments = dict(
        seed=1, directory=str(tmp_path), strategy="random", warm_start=False,
        halving=Halving(min_epochs=1, reduction_factor=2, mode="promotion"),
        engine=keras_nas.KerasTunerEngine(pack_size=1))
    Log.events, Log.interrupt = [], True
    with pytest.raises(SystemExit):  # What a Ctrl-C ends a search with.
        NASSearch(max_trials=8, **arguments).fit(
            x, y, epochs=4, verbose=0, callbacks=[Log()])
    before = _fits(Log.events)
    search = NASSearch(max_trials=8, **arguments)  # Resumes the folder.
    search.fit(x, y, epochs=4, verbose=0, callbacks=[Log()])
    fits = before[:-1] + _fits(Log.events)[len(before):]  # Drop the cut one.
    records = search.results()
    assert len(records) == len(fits) == 8
    assert all(r.status == "COMPLETED" for r in records)
    by_id = {r.trial_id: r for r in records}
    children = [r for r in records if r.continues is not None]
    assert len(children) >= 2
    assert len({r.continues for r in children}) == len(children)
    # The interrupted continuation ran again from its parent's rung.
    cut = len(before) - 1
    assert records[cut].continues is not None
    assert fits[cut]["begin"] == before[cut]["begin"]
    for r in children:
        parent = by_id[r.continues]
        i, j = records.index(parent), records.index(r)
        trial = search.tuner.oracle.trials[r.trial_id]
        # It goes on at the epoch where its parent stopped, from the
        # parent's weights and optimizer state at that rung.
        assert parent.stopped and fits[j]["first"] == parent.epochs
        assert trial.metrics.get_last_value("initial_epoch") == parent.epochs
        assert fits[j]["begin"][1] == fits[i]["end"][1]  # Optimizer steps.
        assert fits[j]["begin"][0] == pytest.approx(fits[i]["end"][0],
                                                    rel=1e-5)
        assert r.epochs > parent.epochs
        # The next rung (rungs at 1 and 2 epochs), or on to the end from
        # the last one.
        assert r.rung == parent.rung + 1 or (
            r.rung == parent.rung == 1 and r.epochs == 4 and not r.stopped)
        assert r.hyperparameters == parent.hyperparameters
        parent_trial = search.tuner.oracle.trials[parent.trial_id]
        assert trial.metrics.get_last_value("rung_0") == (
            parent_trial.metrics.get_last_value("rung_0"))
    again = NASSearch.load(str(tmp_path))
    assert again.config.halving.mode == "promotion"
