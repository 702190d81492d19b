"""`task.Task`: the one owner of head, loss, metrics and objective rules."""

import keras
import keras_tuner
import numpy as np
import pytest

from keras_nas.data.task import (Task, check_objective_argument, head,
                                 needs_one_hot, objective_direction)


def test_rules_per_kind():
    multi = Task("multiclass", ("a", "b", "c"))
    assert (multi.output_units, multi.activation, multi.loss) == (
        3, "softmax", "sparse_categorical_crossentropy")
    assert Task("multiclass", (0, 1, 2), one_hot=True).loss == (
        "categorical_crossentropy")
    binary = Task("binary", (0, 1))
    assert (binary.output_units, binary.activation, binary.loss) == (
        1, "sigmoid", "binary_crossentropy")
    reg = Task("regression", None, 2)
    assert (reg.output_units, reg.activation, reg.loss) == (2, "linear", "mse")
    assert reg.metrics() == ["mae"] and binary.metrics() == ["accuracy"]
    assert binary.metrics(["accuracy", "auc"]) == ["accuracy", "auc"]


def test_head_rejects_bad_kinds():
    with pytest.raises(ValueError, match="task="):
        head("ranking")
    with pytest.raises(ValueError, match="num_classes"):
        head("multiclass", 1)


def test_objective_defaults_and_checks():
    multi = Task("multiclass", (0, 1, 2))
    assert multi.objective().name == "val_accuracy"
    assert multi.objective().direction == "max"
    assert Task("regression").objective().name == "val_loss"
    f1 = keras.metrics.F1Score(average="macro")
    assert multi.objective("val_f1_score", [f1]).direction == "max"
    with pytest.raises(ValueError, match="never produced"):
        multi.objective("val_auc")
    with pytest.raises(ValueError, match="maximize or minimize"):
        multi.objective("val_custom", [_named("custom")])
    given = keras_tuner.Objective("val_custom", "max")
    assert multi.objective(given, [_named("custom")]) is given


def _named(name):
    def metric(y_true, y_pred):
        return 0.0

    metric.__name__ = name
    return metric


@pytest.mark.parametrize("name,direction", [
    ("val_accuracy", "max"), ("val_loss", "min"), ("val_mae", "min"),
    ("val_f1_score", "max"), ("r2_score", "max"), ("val_auc", "max")])
def test_directions(name, direction):
    assert objective_direction(name) == direction


def test_encode_and_config_round_trip():
    task = Task("multiclass", ("cat", "dog", "eel"), one_hot=True)
    np.testing.assert_array_equal(task.encode(["eel", "cat"]),
                                  [[0, 0, 1], [1, 0, 0]])
    again = Task.from_config(task.get_config())
    assert again == task
    with pytest.raises(ValueError, match="never saw"):
        task.encode(["fox"])
    assert needs_one_hot([keras.metrics.F1Score()])
    assert not needs_one_hot(["accuracy"])


def test_objective_argument_checks_types_only():
    # Whether a strategy takes several objectives is the strategies' to
    # say (`strategies.check_strategy`): the data stage knows none.
    several = ["val_accuracy", keras_tuner.Objective("params", "min")]
    assert check_objective_argument(several) is several
    assert check_objective_argument(None) is None
    for bad in (3, ["val_accuracy", None], ["val_accuracy", 3.0]):
        with pytest.raises(TypeError, match="`objective` must be a metric"):
            check_objective_argument(bad)
    with pytest.raises(TypeError):
        check_objective_argument(several, "local")
