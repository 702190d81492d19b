"""`space/genotype.py`: the op list as Keras Tuner's hyperparameters
(`depth`, `op_0` ... `op_{max-1}`, each position active only below the
depth) and back, on a real space bound to a tiny input."""

import itertools

import keras_tuner
import numpy as np
import pytest
from keras_tuner.engine import hyperparameters as hp_module

import keras_nas
from keras_nas.space import genotype

OPS = ["dense-32", "dense-16", "dropout"]


def space(min_depth=1, max_depth=3, learning_rate=False):
    return keras_nas.SearchSpace(
        OPS, min_depth=min_depth, max_depth=max_depth,
        learning_rate=learning_rate).bind((6,), output_units=2)


def declared(s):
    return genotype.declare(s, keras_tuner.HyperParameters())


def active_names(hp, values):
    return [h.name for h in hp.space
            if all(c.is_active(values) for c in h.conditions)]


def test_declare_a_depth_and_one_choice_of_the_ops_per_position():
    hp = declared(space(min_depth=2, max_depth=4))
    by_name = {h.name: h for h in hp.space}
    assert list(by_name) == ["depth", "op_0", "op_1", "op_2", "op_3"]
    depth = by_name["depth"]
    assert isinstance(depth, hp_module.Int)
    assert (depth.min_value, depth.max_value) == (2, 4)
    for i in range(4):
        assert isinstance(by_name[f"op_{i}"], hp_module.Choice)
        assert by_name[f"op_{i}"].values == OPS
    # Positions below the least depth are always there; the others only
    # while the depth reaches them.
    assert not by_name["op_0"].conditions and not by_name["op_1"].conditions
    for d in (2, 3, 4):
        assert active_names(hp, {"depth": d}) == (
            ["depth"] + [f"op_{i}" for i in range(d)])


def test_one_depth_is_fixed_and_a_learning_rate_is_a_choice():
    hp = declared(space(min_depth=2, max_depth=2, learning_rate=[0.1, 0.01]))
    by_name = {h.name: h for h in hp.space}
    assert list(by_name) == ["depth", "op_0", "op_1", "learning_rate"]
    assert isinstance(by_name["depth"], hp_module.Fixed)
    assert by_name["depth"].value == 2
    assert by_name["learning_rate"].values == [0.1, 0.01]
    # Declared on an existing `HyperParameters`, beside what it holds.
    hp = keras_tuner.HyperParameters()
    hp.Boolean("extra")
    genotype.declare(space(), hp)
    assert [h.name for h in hp.space] == [
        "extra", "depth", "op_0", "op_1", "op_2"]


def test_encode_and_decode_are_inverses_over_every_op_list():
    s = space(min_depth=1, max_depth=3, learning_rate=[0.1, 0.01])
    hp = s.hyperparameters
    lists = [list(ops) for depth in (1, 2, 3)
             for ops in itertools.product(OPS, repeat=depth)]
    assert len(lists) == 3 + 9 + 27
    for ops in lists:
        values = genotype.encode(s, ops)
        assert values == {"depth": len(ops),
                          **{f"op_{i}": op for i, op in enumerate(ops)},
                          "learning_rate": 0.1}  # The first rate.
        # Exactly the hyperparameters active at that depth.
        assert sorted(values) == sorted(active_names(hp, values))
        assert genotype.decode(s, values) == ops
    assert genotype.encode(s, ["dropout"], learning_rate=0.01)[
        "learning_rate"] == 0.01


def test_decode_reads_a_trials_hyperparameters_and_ignores_inactive_ones():
    s = space()
    hp = s.hyperparameters
    hp.values = {"depth": 2, "op_0": "dense-16", "op_1": "dropout",
                 "op_2": "dense-32"}  # op_2 is left over, inactive.
    assert genotype.decode(s, hp) == ["dense-16", "dropout"]
    # Without a depth (a space of one depth), every position is read.
    assert genotype.decode(space(min_depth=3, max_depth=3), {
        "op_0": "dense-32", "op_1": "dense-32", "op_2": "dropout"}) == [
        "dense-32", "dense-32", "dropout"]


def test_random_values_decode_to_lists_of_the_space():
    # Keras Tuner's own draws, as its oracles make them: seeded, and each
    # decoded list is of the space and encodes back to the active values.
    s = space(min_depth=1, max_depth=3)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(30):
        hp = s.hyperparameters
        for h in hp.space:
            if hp.is_active(h):
                hp.values[h.name] = h.random_sample(int(rng.integers(2**31)))
        values = {k: v for k, v in hp.values.items()
                  if k in active_names(hp, hp.values)}
        ops = genotype.decode(s, values)
        assert 1 <= len(ops) <= 3 and set(ops) <= set(OPS)
        assert genotype.encode(s, ops) == values
        seen.add(tuple(ops))
    assert len(seen) > 10


@pytest.mark.parametrize("values,error,message", [
    (["op_0"], TypeError, r"`values` must be a `keras_tuner.HyperParameters` "
     r"or a dict\. Received: \['op_0'\] \(of type list\)"),
    ({"depth": 4, "op_0": "dense-32"}, ValueError,
     r"`depth` must be between 1 and 3\. Received: depth=4\."),
    ({"depth": 0}, ValueError,
     r"`depth` must be between 1 and 3\. Received: depth=0\."),
    ({"depth": 2, "op_0": "dense-32"}, ValueError,
     r"The values have no 'op_1', yet depth=2"),
    ({"depth": 1, "op_0": "conv3x3-8"}, ValueError,
     r"Unknown op name\(s\) \['conv3x3-8'\] in `values`\. Accepted: the "
     r"space's ops \['dense-32', 'dense-16', 'dropout'\]\."),
])
def test_decode_refuses_values_that_are_no_op_list(values, error, message):
    with pytest.raises(error, match=message):
        genotype.decode(space(), values)


def test_encode_refuses_lists_outside_the_space():
    s = space(min_depth=2, max_depth=3)
    with pytest.raises(ValueError, match=r"An op list must hold 2 to 3 ops\. "
                       r"Received 1: ops=\['dense-32'\]\."):
        genotype.encode(s, ["dense-32"])
    with pytest.raises(ValueError, match=r"Received 4"):
        genotype.encode(s, ["dense-32"] * 4)
    with pytest.raises(ValueError, match=r"Unknown op name\(s\) \['gap'\] in "
                       r"`ops`"):
        genotype.encode(s, ["dense-32", "gap"])


def test_check_names_names_every_unknown_op_and_the_argument():
    s = space()
    genotype.check_names(s, OPS, "ops")  # All known: nothing raised.
    with pytest.raises(ValueError, match=r"Unknown op name\(s\) \['a', 'b'\] "
                       r"in `initial_architectures`"):
        genotype.check_names(s, ["a", "dense-32", "b"], "initial_architectures")
