"""A trial's record, read from a real Keras Tuner trial: its ops, plan
figures, value and reason; and the table `summary()` prints."""

import keras_tuner
from keras_tuner.engine import trial as trial_module

import keras_nas
from keras_nas.analysis import records

MAX = keras_tuner.Objective("val_accuracy", "max")


def space():
    return keras_nas.SearchSpace(["dense-16", "dense-32", "dropout"],
                                 max_depth=2).bind((5,), output_units=3)


def trial(trial_id, ops, value=None, status="COMPLETED", message=None):
    s = space()
    hp = s.hyperparameters
    for name, v in s.encode(ops).items():
        hp.values[name] = v
    t = trial_module.Trial(hp, trial_id=trial_id, status=status,
                           message=message)
    if value is not None:
        t.metrics.register("val_accuracy", "max")
        t.metrics.update("val_accuracy", value)
        t.metrics.register("epochs", "max")
        t.metrics.update("epochs", 2)
        t.score = value
    return t


def test_a_completed_trial_is_recorded_with_its_plan():
    r = records.record(trial("3", ["dense-16", "dropout"], 0.75), space())
    plan = space().plan(["dense-16", "dropout"])
    assert (r.trial_id, r.ops, r.value, r.status) == (
        "3", ["dense-16", "dropout"], 0.75, "COMPLETED")
    assert (r.params, r.flops, r.epochs) == (plan.params, plan.flops, 2)
    assert r.reason is None


def test_a_failed_trial_keeps_its_reason_not_its_traceback():
    message = ("Traceback (most recent call last):\n  File x\n"
               "keras_nas.engine.failures.ArchitectureFailure: loss became "
               "nan at epoch 1")
    r = records.record(trial("1", ["dense-32"], status="FAILED",
                             message=message), space())
    assert r.value is None and r.status == "FAILED"
    assert r.reason == "loss became nan at epoch 1"


def test_the_table_marks_the_best_and_the_front():
    recs = [records.record(trial(str(i), ops, v), space()) for i, (ops, v)
            in enumerate([(["dense-16"], 0.6), (["dense-32"], 0.9),
                          (["dense-16", "dense-32"], 0.7)])]
    table = records.format_table(recs, "val_accuracy", "max", front={"0"})
    rows = table.splitlines()[2:]
    marks = {row[4:].split()[0]: row[:4].strip() for row in rows}
    assert marks == {"0": "+", "1": "*", "2": ""}
    # For a minimized objective the lowest value is the best.
    low = records.format_table(recs, "val_loss", "min")
    assert {row[4:].split()[0]: row[:4].strip()
            for row in low.splitlines()[2:]} == {"0": "*", "1": "", "2": ""}
