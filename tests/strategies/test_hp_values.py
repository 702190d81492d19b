"""`strategies/hp_values.py`: the values of a Keras Tuner space as the
strategies read and change them: only active values, one drawn anew, a
small space in full; seeded, on a real space bound to a tiny input."""

import keras_tuner
import numpy as np
import pytest

import keras_nas
from keras_nas.strategies import hp_values

OPS = ["dense-16", "dense-32"]


def space(min_depth=1, max_depth=3):
    return keras_nas.SearchSpace(OPS, min_depth=min_depth,
                                 max_depth=max_depth).bind((6,),
                                                           output_units=2)


def with_extras(s=None):
    """The space's hyperparameters and one of each other kind."""
    extra = keras_tuner.HyperParameters()
    extra.Choice("units", [8, 16, 32])
    extra.Boolean("batchnorm")
    extra.Float("rate", 1e-4, 1e-1, sampling="log")
    extra.Fixed("epochs", 3)
    extra.Choice("only", ["x"])
    return (s or space()).hyperparameters_with(extra)


def by_name(hp):
    return {h.name: h for h in hp.space}


def names(hps):
    return [h.name for h in hps]


def test_seed_from_draws_a_keras_tuner_seed_from_the_generator():
    seeds = [hp_values.seed_from(np.random.default_rng(3)) for _ in range(2)]
    assert seeds[0] == seeds[1] and isinstance(seeds[0], int)
    rng = np.random.default_rng(3)
    drawn = [hp_values.seed_from(rng) for _ in range(50)]
    assert all(0 <= s < 2**31 - 1 for s in drawn) and len(set(drawn)) == 50


def test_which_hyperparameters_can_change_and_over_what():
    hp = keras_tuner.HyperParameters()
    cases = {
        "fixed": (hp.Fixed("fixed", 4), False, [4]),
        "one": (hp.Choice("one", [2]), False, [2]),
        "choice": (hp.Choice("choice", ["a", "b"]), True, ["a", "b"]),
        "flag": (hp.Boolean("flag"), True, [False, True]),
        "ints": (hp.Int("ints", 2, 8, step=3), True, [2, 5, 8]),
        "same": (hp.Int("same", 5, 5), False, [5]),
        "log": (hp.Int("log", 1, 64, sampling="log"), True, None),
        "wide": (hp.Int("wide", 0, 5000), True, None),
        "float": (hp.Float("float", 0.0, 1.0), True, None),
        "point": (hp.Float("point", 0.5, 0.5), False, None),
    }
    for name, (_, choice, values) in cases.items():
        declared = by_name(hp)[name]
        assert hp_values.has_choice(declared) is choice, name
        assert hp_values.domain(declared) == values, name
    declared = by_name(hp)
    assert hp_values.other_values_of(declared["choice"], "a") == ["b"]
    assert hp_values.other_values_of(declared["flag"], True) == [False]
    assert hp_values.other_values_of(declared["ints"], 5) == [2, 8]
    # Too many to list: the caller draws one (`resample_one`).
    assert hp_values.other_values_of(declared["float"], 0.3) is None


def test_active_mutable_and_other_hyperparameters():
    hp = with_extras()
    values = {"depth": 2, "op_0": "dense-16", "op_1": "dense-32",
              "units": 8, "batchnorm": False, "rate": 0.01, "epochs": 3,
              "only": "x"}
    assert names(hp_values.active_hps(hp, values)) == [
        "depth", "op_0", "op_1", "units", "batchnorm", "rate", "epochs",
        "only"]
    # `op_2` is inactive at depth 2; `epochs` and `only` have one value.
    mutable = hp_values.mutable_hps(hp, values)
    assert names(mutable) == ["depth", "op_0", "op_1", "units", "batchnorm",
                              "rate"]
    others = ["units", "batchnorm", "rate"]
    assert names(hp_values.other_hps(hp, values)) == others
    assert names(hp_values.other_hps(hp, values, mutable)) == others
    assert names(hp_values.active_hps(hp, {**values, "depth": 3}))[:4] == [
        "depth", "op_0", "op_1", "op_2"]


def test_complete_keeps_the_active_values_and_draws_the_missing_ones():
    hp = with_extras(space(max_depth=3))
    given = {"depth": 3, "op_0": "dense-32", "units": 16}
    first = hp_values.complete(hp, given, np.random.default_rng(5))
    again = hp_values.complete(hp, given, np.random.default_rng(5))
    assert first == again  # The generator alone decides the draws.
    assert list(first) == ["depth", "op_0", "op_1", "op_2", "units",
                           "batchnorm", "rate", "epochs", "only"]
    assert {k: first[k] for k in given} == given
    assert first["op_1"] in OPS and first["op_2"] in OPS
    assert 1e-4 <= first["rate"] <= 1e-1 and first["epochs"] == 3
    # A value whose condition no longer holds is dropped.
    shallow = hp_values.complete(hp, {**first, "depth": 1},
                                 np.random.default_rng(5))
    assert "op_1" not in shallow and "op_2" not in shallow
    assert {k: v for k, v in shallow.items() if k != "depth"} == {
        k: v for k, v in first.items()
        if k not in ("depth", "op_1", "op_2")}
    # Over many seeds, every op is drawn at a missing position.
    drawn = {hp_values.complete(hp, given, np.random.default_rng(s))["op_1"]
             for s in range(20)}
    assert drawn == set(OPS)


def test_resample_one_changes_one_candidate_to_another_value():
    hp = with_extras()
    values = hp_values.complete(hp, {"depth": 2}, np.random.default_rng(0))
    assert hp_values.resample_one(hp, values, [], np.random.default_rng(0)) \
        is None
    candidates = hp_values.other_hps(hp, values)
    changed_names = set()
    for seed in range(30):
        new = hp_values.resample_one(hp, values, candidates,
                                     np.random.default_rng(seed))
        assert new == hp_values.resample_one(
            hp, values, candidates, np.random.default_rng(seed))
        changed = [k for k in values if new[k] != values[k]]
        assert len(changed) == 1 and changed[0] in names(candidates)
        assert set(new) == set(values)
        changed_names.add(changed[0])
    assert changed_names == {"units", "batchnorm", "rate"}
    # A new depth: the positions it opens are drawn, those it closes go.
    deeper = hp_values.resample_one(
        hp, {**values, "depth": 1}, [by_name(hp)["depth"]],
        np.random.default_rng(1))
    assert deeper["depth"] in (2, 3)
    assert all(deeper[f"op_{i}"] in OPS for i in range(deeper["depth"]))
    assert f"op_{deeper['depth']}" not in deeper


def test_enumerate_values_walks_a_small_space_in_full():
    hp = space(max_depth=2).hyperparameters
    every = hp_values.enumerate_values(hp)
    # 2 lists of depth 1 and 4 of depth 2, each with only its active values.
    assert len(every) == 2 + 4
    assert sorted(tuple(sorted(v.items())) for v in every) == sorted(
        tuple(sorted(({"depth": len(ops)} | {
            f"op_{i}": op for i, op in enumerate(ops)}).items()))
        for ops in [["dense-16"], ["dense-32"]] + [
            [a, b] for a in OPS for b in OPS])
    # Over the limit, or a value without a finite domain: nothing.
    assert hp_values.enumerate_values(hp, limit=5) == []
    assert hp_values.enumerate_values(hp, limit=6) != []
    assert hp_values.enumerate_values(with_extras(space(max_depth=2))) == []


@pytest.mark.parametrize("seed", [0, 1])
def test_enumerated_values_are_what_complete_keeps(seed):
    # Each enumerated dict is already complete: nothing dropped, nothing
    # drawn.
    hp = space(max_depth=3).hyperparameters
    for values in hp_values.enumerate_values(hp):
        assert hp_values.complete(hp, values,
                                  np.random.default_rng(seed)) == values
