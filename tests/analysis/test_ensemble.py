"""Greedy ensemble selection (analysis/ensemble.py) on planted validation
predictions: NumPy only, in milliseconds."""

import keras
import numpy as np
import pytest

from keras_nas.analysis.ensemble import score, select


def planted(n=200):
    """Labels of 3 classes and three "models": `a` and `b` complementary
    (each sure on its half, wrong on the other; their average is right
    everywhere), `c` right everywhere but unsure. `a` is the best alone
    by log loss although `c` has the better accuracy."""
    y = np.arange(n) % 3
    half = np.arange(n) < n // 2

    def model(sure_on):
        p = np.full((n, 3), 0.05)
        wrong = (y + 1) % 3
        p[np.arange(n), y] = np.where(sure_on, 0.98, 0.40)
        p[np.arange(n), wrong] = np.where(sure_on, 0.01, 0.55)
        p[sure_on, (y[sure_on] + 2) % 3] = 0.01
        return p

    c = np.full((n, 3), 0.225)
    c[np.arange(n), y] = 0.55
    return y, {"a": model(half), "b": model(~half), "c": c}


def test_the_planted_pair_is_picked_not_the_accurate_single_one():
    y, predictions = planted()
    assert score(predictions["c"], y, "multiclass", "accuracy") == 1.0
    assert score(predictions["a"], y, "multiclass", "accuracy") == 0.5
    chosen = select(predictions, y, size=5, task="multiclass")
    assert chosen.members == ("a", "b")
    assert chosen.weights == {"a": 0.5, "b": 0.5}
    average = (predictions["a"] + predictions["b"]) / 2
    assert score(average, y, "multiclass", "accuracy") == 1.0
    assert chosen.score == pytest.approx(score(average, y, "multiclass"))
    assert chosen.scores[0] == pytest.approx(
        score(predictions["a"], y, "multiclass"))
    assert chosen.scores[1] < chosen.scores[0]


def test_distinct_picks_different_models_even_when_one_makes_it_worse():
    y, predictions = planted()
    chosen = select(predictions, y, size=3, task="multiclass", distinct=True)
    assert chosen.members == ("a", "b", "c")  # `c` raises the loss.
    assert chosen.scores[2] > chosen.scores[1]
    assert chosen.weights == {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}
    assert select(predictions, y, size=5, task="multiclass",
                  distinct=True).members == ("a", "b", "c")  # All there are.
    assert select(predictions, y, size=2, task="multiclass", distinct=True,
                  costs={k: {"params": 10} for k in predictions},
                  budget={"params": 15}).members == ("a",)


def test_with_replacement_a_member_weighs_its_picks_and_weights_sum_to_1():
    # y = 0: one model says 1, the other -2; 2/3 and 1/3 of them make 0.
    y = np.zeros(10)
    chosen = select({"0": np.ones((10, 1)), "1": np.full((10, 1), -2.0)},
                    y, size=10, task="regression")
    assert chosen.members == ("0", "1", "0")  # Stopped early: 0 is perfect.
    assert chosen.weights == pytest.approx({"0": 2 / 3, "1": 1 / 3})
    assert sum(chosen.weights.values()) == pytest.approx(1.0)
    assert chosen.score == 0.0
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 50)
    many = [rng.dirichlet(np.ones(4), 50) for _ in range(6)]
    chosen = select(many, labels, size=20, task="multiclass")
    assert sum(chosen.weights.values()) == pytest.approx(1.0)
    for member, weight in chosen.weights.items():
        assert weight * len(chosen.members) == pytest.approx(
            chosen.members.count(member))
    assert list(chosen.scores) == sorted(chosen.scores, reverse=True)


def test_size_1_is_the_best_single_model_and_ties_go_to_the_first():
    y, predictions = planted()
    assert select(predictions, y, 1, "multiclass").members == ("a",)
    same = {"2": predictions["c"], "1": predictions["c"].copy()}
    assert select(same, y, 3, "multiclass").members == ("2",)


def test_budgets_cap_the_sum_of_the_distinct_members():
    y, predictions = planted()
    costs = {"a": {"params": 100}, "b": {"params": 100},
             "c": {"params": 50}}
    chosen = select(predictions, y, 5, "multiclass", costs=costs,
                    budget={"params": 150})
    assert chosen.members == ("a",) and chosen.costs == {"params": 100.0}
    chosen = select(predictions, y, 5, "multiclass", costs=costs,
                    budget={"params": 200})
    assert chosen.members == ("a", "b") and chosen.costs["params"] == 200
    # Only `c` fits on its own: it is the start, whatever `a` scores.
    assert select(predictions, y, 5, "multiclass", costs=costs,
                  budget={"params": 60}).members == ("c",)
    with pytest.raises(ValueError, match="No single model is within the "
                       r"budget \{'params': 10.0\}: the cheapest costs "
                       "params=50"):
        select(predictions, y, 5, "multiclass", costs=costs,
               budget={"params": 10})
    with pytest.raises(ValueError, match="`costs` must give it"):
        select(predictions, y, 5, "multiclass", budget={"flops": 10})


def test_the_scores_are_keras_losses():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(5), 40).astype("float32")
    y = rng.integers(0, 5, 40)
    expected = float(np.mean(keras.losses.sparse_categorical_crossentropy(
        y, p)))
    assert score(p, y, "multiclass") == pytest.approx(expected, rel=1e-5)
    assert score(p, np.eye(5)[y], "multiclass") == pytest.approx(expected,
                                                                 rel=1e-5)
    q = rng.uniform(0.01, 0.99, (40, 1)).astype("float32")
    b = rng.integers(0, 2, 40)
    expected = float(np.mean(keras.losses.binary_crossentropy(
        b.reshape(-1, 1).astype("float32"), q)))
    assert score(q, b, "binary") == pytest.approx(expected, rel=1e-5)
    assert score(q, b, "binary", "accuracy") == np.mean((q[:, 0] > 0.5) == b)
    assert score(np.ones((4, 1)), np.zeros(4), "regression") == 1.0


@pytest.mark.parametrize("kwargs,message", [
    ({"size": 0}, "`size` must be an integer of at least 1"),
    ({"size": True}, "`size` must be an integer"),
    ({"task": "ranking"}, "`task` must be one of"),
    ({"metric": "f1"}, "`metric` must be 'loss', 'accuracy'"),
    ({"budget": {"weights": 5}}, "keys are among"),
    ({"budget": {"params": -1}}, "positive number"),
])
def test_bad_arguments_are_refused(kwargs, message):
    y, predictions = planted()
    arguments = dict(dict(predictions=predictions, labels=y, size=3,
                          task="multiclass"), **kwargs)
    with pytest.raises(ValueError, match=message):
        select(**arguments)


def test_predictions_of_other_shapes_or_lengths_are_refused():
    y, predictions = planted()
    with pytest.raises(ValueError, match="same shape"):
        select({"a": predictions["a"], "b": predictions["b"][:, :2]}, y, 3,
               "multiclass")
    with pytest.raises(ValueError, match="one row per predicted sample"):
        select(predictions, y[:10], 3, "multiclass")
    with pytest.raises(ValueError, match="empty"):
        select({}, y, 3, "multiclass")
