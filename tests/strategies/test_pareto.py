import numpy as np
import pytest

from keras_nas.strategies import pareto


def test_hand_made_fronts_max_min():
    # (accuracy max, params min)
    pts = [(0.9, 100), (0.8, 50), (0.85, 200), (0.7, 40), (0.9, 100), (0.6, 300)]
    fronts = pareto.non_dominated_sort(pts, ["max", "min"])
    assert fronts[0] == [0, 1, 3, 4]  # Equal points share a front.
    assert fronts[1] == [2]
    assert fronts[2] == [5]
    assert pareto.pareto_front(pts, ["max", "min"]) == [0, 1, 3, 4]
    assert pareto.dominates((0.9, 100), (0.85, 200), ["max", "min"])
    assert not pareto.dominates((0.9, 100), (0.9, 100), ["max", "min"])


def test_no_front_member_is_dominated(rng):
    for m in (2, 3):
        pts = rng.normal(size=(60, m))
        dirs = ["min", "max", "min"][:m]
        fronts = pareto.non_dominated_sort(pts, dirs)
        assert sorted(i for f in fronts for i in f) == list(range(60))
        for k, front in enumerate(fronts):
            for i in front:
                # Nothing dominates a front-0 member; a front-k member is
                # dominated by some member of front k-1.
                assert not any(pareto.dominates(pts[j], pts[i], dirs)
                               for j in range(60) if j not in
                               [x for f in fronts[:k] for x in f])
                if k:
                    assert any(pareto.dominates(pts[j], pts[i], dirs)
                               for j in fronts[k - 1])


def test_crowding_distance_ends_infinite_and_middle_gap():
    pts = np.array([[0.0, 4.0], [1.0, 2.0], [2.0, 1.0], [4.0, 0.0]])
    d = pareto.crowding_distance(pts, [0, 1, 2, 3])
    assert np.isinf(d[0]) and np.isinf(d[3])
    assert d[1] == pytest.approx(2 / 4 + 3 / 4)
    assert d[2] == pytest.approx(3 / 4 + 2 / 4)
    rank, crowd = pareto.nsga2_rank(np.vstack([pts, [[5.0, 5.0]]]), ["min", "min"])
    assert list(rank) == [0, 0, 0, 0, 1]
    assert np.isinf(crowd[4])


def test_hypervolume_known_values():
    # Two objectives, minimised, reference (4, 4): a staircase of 3 boxes.
    pts = [(1, 3), (2, 2), (3, 1)]
    assert pareto.hypervolume(pts, ["min", "min"], (4, 4)) == pytest.approx(6.0)
    # A dominated point and a point beyond the reference change nothing.
    assert pareto.hypervolume(pts + [(3, 3), (5, 0)], ["min", "min"],
                              (4, 4)) == pytest.approx(6.0)
    # Maximised accuracy against minimised params.
    assert pareto.hypervolume([(0.9, 10)], ["max", "min"],
                              (0.0, 20)) == pytest.approx(9.0)
    # Three objectives: one point is a box; two boxes overlap.
    assert pareto.hypervolume([(1, 1, 1)], ["min"] * 3, (2, 3, 4)) == pytest.approx(6)
    two = pareto.hypervolume([(0, 0, 1), (1, 1, 0)], ["min"] * 3, (2, 2, 2))
    assert two == pytest.approx(4 + 2 - 1)  # 2*2*1 + 1*1*2 - overlap 1*1*1
    assert pareto.hypervolume([], ["min", "min"], (1, 1)) == 0.0


def test_hypervolume_3d_matches_monte_carlo(rng):
    pts = rng.uniform(size=(15, 3))
    exact = pareto.hypervolume(pts, ["min"] * 3, (1, 1, 1))
    samples = rng.uniform(size=(200000, 3))
    covered = np.zeros(len(samples), bool)
    for p in pts:
        covered |= np.all(samples >= p, axis=1)
    assert exact == pytest.approx(covered.mean(), abs=0.01)


@pytest.mark.parametrize("kwargs,match", [
    (dict(points=[[1, 2]], directions=["min"]), "directions"),
    (dict(points=[[1, 2]], directions=["min", "up"]), "directions"),
    (dict(points=[1, 2], directions=["min"]), "2-D"),
    (dict(points=[[1, float("nan")]], directions=["min", "min"]), "finite"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pareto.pareto_front(**kwargs)
