"""No sequence holds an idempotent op (`Op.idempotent`: batch
normalization, dropout) twice in a row: not a random draw, not a child of
evolution, not a neighbour of local search, not a proposal of Keras
Tuner's own oracles, and not a user's initial architecture."""

import re

import keras
import keras_tuner
import numpy as np
import pytest

import keras_nas
from keras_nas import _compat
from keras_nas import ops as ops_module
from keras_nas.space import architecture
from keras_nas.strategies import RandomSearchOracle

from tests.conftest import tabular
from tests.strategies.test_local import drive

IDEMPOTENT = ("batchnorm", "dropout", "dropout-0.5")


def repeats(ops):
    return [a for a, b in zip(ops, ops[1:]) if a == b and a in IDEMPOTENT]


def small_space():
    # Three of its five ops are idempotent: repeats would be common.
    return keras_nas.SearchSpace(
        ["dense-16", "dense-32", "batchnorm", "dropout", "dropout-0.5"],
        min_depth=2, max_depth=5).bind((10,), output_units=2)


def test_the_idempotent_ops_are_declared_on_the_op():
    assert {n for n in ops_module.names()
            if ops_module.get(n).idempotent} == set(IDEMPOTENT)
    op = ops_module.make_op("noise", lambda: keras.layers.GaussianNoise(0.1),
                            idempotent=True)
    assert op.idempotent and not ops_module.make_op(
        "same", lambda: keras.layers.Identity()).idempotent


def test_a_repeat_is_invalid_and_the_reason_names_it():
    space = small_space()
    reason = "op 2 ('batchnorm') repeats op 1: a second 'batchnorm' in a row"
    assert reason in space.check(["dense-16", "batchnorm", "batchnorm"])
    assert reason in keras_nas.SearchSpace(["dense-16", "batchnorm"]).check(
        ["dense-16", "batchnorm", "batchnorm"])  # Unbound: the same rule.
    with pytest.raises(keras_nas.InvalidArchitectureError,
                       match=re.escape(reason)):
        architecture.plan(["dense-16", "batchnorm", "batchnorm"], (10,))
    # Different idempotent ops in a row, or a repeat of one with weights.
    for ops in (["batchnorm", "dropout", "batchnorm"],
                ["dropout", "dropout-0.5"], ["dense-16", "dense-16"]):
        assert space.check(ops) is None, ops
    # A custom op says so itself.
    table = {"dense-16": ops_module.get("dense-16"),
             "noise": ops_module.make_op(
                 "noise", lambda: keras.layers.GaussianNoise(0.1),
                 idempotent=True),
             "same": ops_module.make_op("same", keras.layers.Identity)}
    custom = keras_nas.SearchSpace(table, max_depth=3).bind((10,))
    assert "repeats op 0" in custom.check(["noise", "noise"])
    assert custom.check(["same", "same"]) is None


def test_random_draws_never_repeat_an_idempotent_op():
    rng = np.random.default_rng(0)
    image = keras_nas.SearchSpace(max_depth=8).bind((8, 8, 1))
    assert {"batchnorm", "dropout"} <= set(image.ops)
    for space in (small_space(), image, keras_nas.SearchSpace(
            ["batchnorm", "dropout", "dense-16"], min_depth=3, max_depth=6)):
        drawn = [space.random_ops(rng) for _ in range(300)]
        assert not [ops for ops in drawn if repeats(ops)]
        # They are drawn, and next to each other, as often as allowed.
        pairs = {(a, b) for ops in drawn for a, b in zip(ops, ops[1:])}
        assert ("batchnorm", "dropout") in pairs
    # A space of one idempotent op holds a sequence of one only.
    lone = keras_nas.SearchSpace(["batchnorm"], max_depth=3)
    assert {tuple(lone.random_ops(rng)) for _ in range(20)} == {("batchnorm",)}
    with pytest.raises(ValueError, match="No op sequence of depth 2 to 3"):
        keras_nas.SearchSpace(["batchnorm"], min_depth=2,
                              max_depth=3).bind((10,))


@pytest.mark.parametrize("make", [
    lambda space: keras_nas.EvolutionOracle(
        space=space, population_size=6, sample_size=2, seed=1),
    lambda space: keras_nas.LocalSearchOracle(
        space=space, start_size=4, seed=1),
    lambda space: keras_nas.LocalSearchOracle(
        space=space, start_size=4, seed=1, predictor={"min_trials": 4}),
    lambda space: RandomSearchOracle(space=space, seed=1),
])
def test_no_strategy_proposes_a_repeat(tmp_path, make):
    space = small_space()
    oracle = make(space)
    oracle.objective = keras_tuner.Objective("score", "max")
    oracle.max_trials = 80
    _compat.set_project_dir(oracle, str(tmp_path), "p")
    oracle.verbose = 0

    # Longer sequences of dense layers score higher: mutations of the best
    # insert and replace ops next to one another all the time.
    def score(values):
        ops = space.decode(values)
        return float(sum(op.startswith("dense") for op in ops) + len(ops))

    proposed = [space.decode(v) for v in drive(oracle, score, 80)]
    assert len(proposed) >= 40
    assert not [ops for ops in proposed if repeats(ops)]
    assert sum(op in IDEMPOTENT for ops in proposed for op in ops) >= 20


def test_an_initial_architecture_with_a_repeat_is_refused_by_name(tmp_path):
    x, y = tabular(60)
    search = keras_nas.NASSearch(
        space=keras_nas.SearchSpace(["dense-16", "dropout"], max_depth=3),
        max_trials=2, directory=str(tmp_path), project_name="p",
        initial_architectures=[["dense-16"], ["dense-16", "dropout",
                                              "dropout"]])
    with pytest.raises(ValueError, match=(
            r"`initial_architectures\[1\]` is not a valid candidate.*op 2 "
            r"\('dropout'\) repeats op 1: a second 'dropout' in a row adds "
            r"nothing. Received: \['dense-16', 'dropout', 'dropout'\]")):
        search.fit(x, y, epochs=1, verbose=0)
    assert not (tmp_path / "p" / "trial_0").exists()  # Before any trial.
