"""The rung table of successive halving, shared through the project
folder: the top `1/eta` of a rung (`halving.top_count`) goes on, the best
so far while the rung has fewer than `eta`."""

import json
import os

import numpy as np

from keras_nas.schedulers import halving
from keras_nas.schedulers.rungs import RungTable


def test_the_table_is_shared_and_keeps_the_top_of_each_rung(tmp_path):
    table = RungTable(str(tmp_path), "max", 3)
    other = RungTable(str(tmp_path), "max", 3)  # Another process.
    assert table.report(1, "0", 0.5)  # Alone: the best so far goes on.
    assert not other.report(1, "1", 0.4)
    assert other.report(1, "2", 0.6)
    assert not table.report(1, "3", 0.55)  # Top third of 4 is 1 trial.
    for i, v in enumerate([0.1, 0.2]):
        table.report(1, str(4 + i), v)
    assert table.report(1, "6", 0.58)  # Now the top 2 of 7 go on.
    assert table.values(1)["2"] == 0.6
    assert table.values(3) == {}
    with open(os.path.join(tmp_path, "rungs.json")) as f:
        assert len(json.load(f)["1"]) == 7


def test_the_stopping_form_keeps_the_top_count_of_each_rung(tmp_path):
    # The same rule as the promotions' (`top_count`, a floor), so that a
    # trial goes on exactly when it ranks within floor(n / eta) of the n
    # at its rung, and the best goes on while n < eta.
    for eta in (2, 3, 4):
        table = RungTable(str(tmp_path / str(eta)), "max", eta)
        order = np.random.default_rng(eta).permutation(20) / 20.0
        seen = []
        for n, value in enumerate(order):
            seen.append(value)
            rank = sorted(seen, reverse=True).index(value)  # 0: the best.
            keep = max(1, halving.top_count(len(seen), eta))
            assert table.report(1, str(n), value) == (rank < keep)


def test_below_eta_only_the_best_so_far_goes_on(tmp_path):
    # Where `top_count` is 0 (promotions wait for `eta`), the stopping
    # form, which never resumes a stopped trial, lets the best go on.
    table = RungTable(str(tmp_path), "min", 4)
    assert halving.top_count(3, 4) == 0
    assert table.report(1, "0", 0.5)
    assert table.report(1, "1", 0.4)
    assert not table.report(1, "2", 0.45)
