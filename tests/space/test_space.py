import keras
import keras_tuner
import numpy as np
import pytest

import keras_nas
from keras_nas import _compat
from keras_nas.space import builder

from tests.conftest import SHAPES


def test_encode_decode_round_trip(rng):
    space = keras_nas.SearchSpace(min_depth=2, max_depth=5, input_shape=(8, 8, 1))
    for _ in range(50):
        seq = space.random_ops(rng)
        values = space.encode(seq)
        assert space.decode(values) == seq
        hp = space.hyperparameters
        hp.values.update(values)
        assert space.decode(hp) == seq


def test_hyperparameters_are_conditional_on_depth():
    space = keras_nas.SearchSpace(["dense-16", "dropout"], min_depth=1, max_depth=3)
    hp = space.hyperparameters
    names = [p.name for p in hp.space]
    assert names == ["depth", "op_0", "op_1", "op_2"]
    hp.values = {"depth": 2, "op_0": "dense-16", "op_1": "dropout"}
    assert hp.is_active("op_1") and not hp.is_active("op_2")
    assert hp.is_active("op_0")


def test_learning_rate_is_switchable():
    off = keras_nas.SearchSpace(["dense-16"], max_depth=2)
    on = keras_nas.SearchSpace(["dense-16"], max_depth=2, learning_rate=True)
    custom = keras_nas.SearchSpace(["dense-16"], max_depth=2, learning_rate=[0.1, 0.01])
    assert "learning_rate" not in [p.name for p in off.hyperparameters.space]
    assert "learning_rate" in [p.name for p in on.hyperparameters.space]
    assert custom.encode(["dense-16"], learning_rate=0.01)["learning_rate"] == 0.01


@pytest.mark.parametrize(
    "oracle_cls",
    [
        keras_tuner.oracles.RandomSearchOracle,
        keras_tuner.oracles.BayesianOptimizationOracle,
    ],
)
def test_keras_tuner_oracles_propose_sequences_that_decode_and_build(
    oracle_cls, tmp_path
):
    for kind, shape in SHAPES.items():
        space = keras_nas.SearchSpace(max_depth=4, input_shape=shape)
        oracle = oracle_cls(
            objective=keras_tuner.Objective("score", "max"), max_trials=8, seed=1,
            hyperparameters=space.hyperparameters,
        )
        _compat.set_project_dir(oracle, str(tmp_path),
                                f"{oracle_cls.__name__}_{kind}")
        built = 0
        for i in range(8):
            trial = oracle.create_trial(f"tuner{i}")
            seq = space.decode(trial.hyperparameters)
            assert 1 <= len(seq) <= 4 and set(seq) <= set(space.ops)
            if space.check(seq) is None:
                model = builder.build_model(seq, shape, num_classes=3)
                assert isinstance(model, keras.Sequential)
                built += 1
            else:
                with pytest.raises(keras_nas.InvalidArchitectureError):
                    builder.build_model(seq, shape, num_classes=3)
            oracle.update_trial(trial.trial_id, {"score": float(len(seq))})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
        assert built > 0


def test_hyperband_oracle_searches_the_space_unchanged(tmp_path):
    space = keras_nas.SearchSpace(max_depth=3, input_shape=(30,))
    oracle = keras_tuner.oracles.HyperbandOracle(
        objective=keras_tuner.Objective("score", "max"), max_epochs=4, seed=1,
        hyperparameters=space.hyperparameters,
    )
    _compat.set_project_dir(oracle, str(tmp_path), "hb")
    trial = oracle.create_trial("t0")
    assert trial.status == "RUNNING"
    assert space.check(space.decode(trial.hyperparameters)) is None


def test_custom_ops_by_mapping_and_by_registry():
    space = keras_nas.SearchSpace(
        {"gelu": lambda: keras.layers.Activation("gelu"), "dense-32": None},
        max_depth=3,
        input_shape=(30,),
    )
    assert space.ops == ["gelu", "dense-32"]
    model = builder.build_model(["gelu", "dense-32", "gelu"], (30,), num_classes=3,
                                op_table=space.op_table)
    plan = keras_nas.SearchSpace(
        {"gelu": lambda: keras.layers.Activation("gelu"), "dense-32": None},
        max_depth=3, input_shape=(30,), output_units=3,
    ).plan(["gelu", "dense-32", "gelu"])
    assert model.count_params() == plan.params


def test_max_params_makes_large_candidates_invalid(rng):
    space = keras_nas.SearchSpace(
        ["dense-16", "dense-512"], max_depth=3, input_shape=(30,), max_params=2000
    )
    assert "exceed max_params=2000" in space.check(["dense-512"])
    assert space.check(["dense-16"]) is None
    for _ in range(20):
        assert space.plan(space.random_ops(rng)).params <= 2000


def test_default_vocabulary_follows_the_data():
    space = keras_nas.SearchSpace()
    with pytest.raises(ValueError, match="has met no data yet"):
        space.ops
    assert "conv3x3-32" in space.bind((8, 8, 1)).ops
    assert "conv3-32" in space.bind((50, 3)).ops
    assert all(n.startswith(("dense", "dropout", "batchnorm"))
               for n in space.bind((30,)).ops)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(ops=["conv9x9-1"]), ValueError, r"Unknown op name 'conv9x9-1' in `ops`"),
        (dict(ops=[]), ValueError, r"`ops` is empty"),
        (dict(ops={}), ValueError, r"`ops` is empty"),
        (dict(ops="dense-16"), TypeError, r"wrap it in a list"),
        (dict(min_depth=3, max_depth=2), ValueError, r"min_depth=3, max_depth=2"),
        (dict(min_depth=0), ValueError, r"`min_depth` must be an integer of at least 1. Received: min_depth=0"),
        (dict(max_depth=0), ValueError, r"`max_depth` must be an integer of at least 1. Received: max_depth=0"),
        (dict(max_depth=2.0), ValueError, r"max_depth=2.0"),
        (dict(ops={"x": lambda: 42}), TypeError, r"must return a `keras.layers.Layer`.*Received: 42"),
        (dict(input_shape=(2, 2, 2, 2)), ValueError, r"Received: input_shape=\(2, 2, 2, 2\)"),
        (dict(ops=["conv3x3-16"], input_shape=(30,)), ValueError, r"No op sequence.*tabular"),
        (dict(learning_rate=[-1]), ValueError, r"learning_rate=\[-1\]"),
    ],
)
def test_bad_input_names_argument_value_and_what_is_accepted(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        keras_nas.SearchSpace(**kwargs)


def test_decode_and_encode_reject_unknown_ops():
    space = keras_nas.SearchSpace(["dense-16"], max_depth=2)
    with pytest.raises(ValueError, match="Unknown op name"):
        space.encode(["dense-32"])
    with pytest.raises(ValueError, match="1 to 2 ops"):
        space.encode(["dense-16"] * 3)
    with pytest.raises(ValueError, match="no 'op_1'"):
        space.decode({"depth": 2, "op_0": "dense-16"})


def test_a_search_leaves_the_users_space_as_it_was(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 30, (40, 6)).astype("float32")
    y = rng.integers(0, 2, 40)
    mine = keras_nas.SearchSpace(kind="text", max_depth=1)
    before = mine.get_config()
    search = keras_nas.NASSearch(space=mine, max_trials=1, seed=0,
                                 directory=str(tmp_path), warm_start=False)
    search.fit(x, y, epochs=1, verbose=0)
    # The vocabulary size was inferred for this fit, in a copy.
    assert search.space_.vocabulary_size == int(x.max()) + 1
    assert mine.vocabulary_size is None and mine.get_config() == before
    assert search.config.space is mine
    # The project folder keeps what the search ran with.
    again = keras_nas.NASSearch.load(str(tmp_path))
    assert again.space_.vocabulary_size == int(x.max()) + 1
