"""`strategies/mutations.py`: the edits of an op sequence that evolution
draws and local search walks, each checked against its definition on
small inputs; seeded, and the input is never changed."""

import itertools

import numpy as np
import pytest

import keras_nas
from keras_nas.strategies import hp_values, mutations

NAMES = ["dense-16", "dense-32", "dense-64"]
A, B, C = NAMES


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[:], i
        for j, y in enumerate(b, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (x != y))
    return d[-1]


def test_applicable_lists_the_edits_that_change_the_sequence():
    assert mutations.OP_MUTATIONS == ("replace", "insert", "delete", "swap")
    assert mutations.applicable([A, B], NAMES, 1, 3) == [
        "replace", "insert", "delete", "swap"]
    assert mutations.applicable([A, B, C], NAMES, 1, 3) == [
        "replace", "delete", "swap"]  # At the most depth.
    assert mutations.applicable([A], NAMES, 1, 3) == ["replace", "insert"]
    assert mutations.applicable([A, A], NAMES, 2, 2) == ["replace"]
    assert mutations.applicable([A, A], [A], 1, 3) == ["insert", "delete"]


@pytest.mark.parametrize("kind", mutations.OP_MUTATIONS)
def test_each_edit_is_what_it_says_and_leaves_its_input(kind):
    ops = [A, B, B, C]
    for seed in range(20):
        before = list(ops)
        child = mutations.mutate(ops, kind, NAMES, np.random.default_rng(seed))
        assert ops == before
        assert child == mutations.mutate(ops, kind, NAMES,
                                         np.random.default_rng(seed))
        assert set(child) <= set(NAMES)
        if kind == "replace":
            assert len(child) == 4
            assert sum(x != y for x, y in zip(child, ops)) == 1
        elif kind == "insert":
            assert len(child) == 5
            assert any(child[:i] + child[i + 1:] == ops for i in range(5))
        elif kind == "delete":
            assert len(child) == 3
            assert any(ops[:i] + ops[i + 1:] == child for i in range(4))
        else:  # Two neighbours that differ trade places.
            assert sorted(child) == sorted(ops) and child != ops
            i = next(i for i in range(4) if child[i] != ops[i])
            assert (child[i], child[i + 1]) == (ops[i + 1], ops[i])
            assert child[i + 2:] == ops[i + 2:]


def test_edits_reach_every_place_and_name_over_seeds():
    ops = [A, B]
    replaced = {tuple(mutations.mutate(ops, "replace", NAMES,
                                       np.random.default_rng(s)))
                for s in range(60)}
    assert replaced == {(B, B), (C, B), (A, A), (A, C)}
    inserted = {tuple(mutations.mutate(ops, "insert", NAMES,
                                       np.random.default_rng(s)))
                for s in range(200)}
    # 3 places x 3 names, of which (A, A, B) and (A, B, B) are made twice.
    assert len(inserted) == 7
    with pytest.raises(ValueError, match=r"Unknown mutation 'flip'\. "
                       r"Accepted: \('replace', 'insert', 'delete', 'swap'\)"):
        mutations.mutate(ops, "flip", NAMES, np.random.default_rng(0))


def test_crossover_mixes_positions_or_joins_a_head_and_a_tail():
    a, b = [A, A, A], [B, B, B]
    children = set()
    for seed in range(30):
        child = mutations.crossover(a, b, 3, np.random.default_rng(seed))
        assert child == mutations.crossover(a, b, 3,
                                            np.random.default_rng(seed))
        assert len(child) == 3
        children.add(tuple(child))
    assert len(children) == 8  # Each position from either parent.
    long_, short = [C, C, C, C], [A]
    for seed in range(30):
        child = mutations.crossover(long_, short, 3,
                                    np.random.default_rng(seed))
        assert len(child) <= 3  # Cut to the most depth.
        # A head of the first and a tail of the second.
        assert any(child == (long_[:i] + short[j:])[:3]
                   for i in range(5) for j in range(2))
    assert long_ == [C, C, C, C] and short == [A]


@pytest.mark.parametrize("ops,min_depth,max_depth", [
    ([A, B], 1, 3), ([A], 1, 3), ([A, A, B], 1, 3), ([A, B], 2, 2)])
def test_neighbours_are_every_sequence_one_edit_away(ops, min_depth,
                                                     max_depth):
    found = mutations.neighbours(ops, NAMES, min_depth, max_depth)
    assert found == mutations.neighbours(ops, NAMES, min_depth, max_depth)
    assert len({tuple(n) for n in found}) == len(found)  # No repeats.
    # What a search of every sequence in the depth limits finds.
    every = [list(s) for depth in range(min_depth, max_depth + 1)
             for s in itertools.product(NAMES, repeat=depth)]
    expected = {tuple(s) for s in every if edit_distance(s, ops) == 1}
    assert {tuple(n) for n in found} == expected


def test_with_ops_puts_a_list_into_values_and_keeps_the_rest():
    space = keras_nas.SearchSpace(NAMES, max_depth=3,
                                  learning_rate=[0.1, 0.01]).bind(
        (6,), output_units=2)
    hp = space.hyperparameters
    values = {"depth": 3, "op_0": A, "op_1": B, "op_2": C,
              "learning_rate": 0.01}
    new = mutations.with_ops(space, hp, values, [C, A],
                             np.random.default_rng(0))
    assert new == {"depth": 2, "op_0": C, "op_1": A, "learning_rate": 0.01}
    assert space.decode(new) == [C, A]
    assert values["depth"] == 3  # The input is left as it was.
    rng = np.random.default_rng(0)
    assert mutations.with_ops(space, hp, values, [], rng) is None
    assert mutations.with_ops(space, hp, values, [A] * 4, rng) is None
    # A value the list does not give is drawn, as `hp_values.complete` does.
    drawn = mutations.with_ops(space, hp, {"depth": 1, "op_0": A}, [B],
                               np.random.default_rng(4))
    assert drawn == hp_values.complete(hp, {"depth": 1, "op_0": B},
                                       np.random.default_rng(4))
    assert drawn["learning_rate"] in (0.1, 0.01)
