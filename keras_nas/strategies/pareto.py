"""Pareto fronts, crowding and hypervolume for trade-offs between objectives.

A search that weighs accuracy against size or speed has no single best
model: it has a front of models none of which is worse on every objective
than another. This module holds the few pure-numpy pieces that both the
multi-objective `EvolutionOracle` (NSGA-II selection, Deb et al. 2002) and
the reports need, so that the oracle, the plots and the benchmarks agree on
what "dominated" means. It imports nothing from Keras.

Every function takes `points`, an `(n, m)` array-like of objective values,
and `directions`, a sequence of `m` strings `"min"` or `"max"`. Internally
values are turned into "smaller is better" by negating the maximised columns.
"""

import numpy as np

__all__ = [
    "non_dominated_sort",
    "crowding_distance",
    "pareto_front",
    "hypervolume",
    "nsga2_rank",
    "dominates",
]


def _as_min(points, directions):
    """`points` as a float (n, m) array where smaller is better in each column."""
    pts = np.asarray(points, dtype=float)
    if pts.ndim == 1 and pts.size == 0:
        pts = pts.reshape(0, len(directions))
    if pts.ndim != 2:
        raise ValueError(
            "`points` must be a 2-D array-like of shape (n, m). Received: "
            f"points with shape {pts.shape}."
        )
    directions = list(directions)
    bad = [d for d in directions if d not in ("min", "max")]
    if bad or len(directions) != pts.shape[1]:
        raise ValueError(
            f"`directions` must hold one of 'min'/'max' per column of `points` "
            f"({pts.shape[1]} columns). Received: directions={directions!r}."
        )
    if not np.all(np.isfinite(pts)):
        raise ValueError(
            "`points` must be finite (drop failed trials first). Received: "
            f"points={pts.tolist()!r}."
        )
    sign = np.array([1.0 if d == "min" else -1.0 for d in directions])
    return pts * sign, sign


def dominates(a, b, directions):
    """Whether point `a` Pareto-dominates point `b`.

    `a` dominates `b` when it is no worse in every objective and strictly
    better in at least one.

    Args:
        a: The first point, a sequence of `m` values.
        b: The second point, a sequence of `m` values.
        directions: `m` strings, `"min"` or `"max"`.
    """
    pts, _ = _as_min([a, b], directions)
    return bool(np.all(pts[0] <= pts[1]) and np.any(pts[0] < pts[1]))


def _dominance_matrix(pts):
    le = np.all(pts[:, None, :] <= pts[None, :, :], axis=2)
    lt = np.any(pts[:, None, :] < pts[None, :, :], axis=2)
    return le & lt  # [i, j]: i dominates j.


def non_dominated_sort(points, directions):
    """Fast non-dominated sort (Deb et al. 2002).

    Args:
        points: `(n, m)` array-like of objective values.
        directions: `m` strings, `"min"` or `"max"`.

    Returns:
        A list of fronts, each a sorted list of point indices. Front 0 holds
        the points no other point dominates; front k those dominated only by
        points of fronts before it. Equal points share a front.
    """
    pts, _ = _as_min(points, directions)
    n = len(pts)
    if n == 0:
        return []
    dom = _dominance_matrix(pts)
    counts = dom.sum(axis=0)  # How many points dominate each point.
    fronts = []
    current = [i for i in range(n) if counts[i] == 0]
    while current:
        fronts.append(sorted(current))
        nxt = []
        for i in current:
            for j in np.flatnonzero(dom[i]):
                counts[j] -= 1
                if counts[j] == 0:
                    nxt.append(int(j))
        current = nxt
    return fronts


def pareto_front(points, directions):
    """Indices of the non-dominated points, in increasing order.

    Args:
        points: `(n, m)` array-like of objective values.
        directions: `m` strings, `"min"` or `"max"`.
    """
    fronts = non_dominated_sort(points, directions)
    return fronts[0] if fronts else []


def crowding_distance(points, front, directions=None):
    """NSGA-II crowding distance of each member of one front.

    For each objective the members are sorted, the two ends get infinity and
    every other member the gap between its neighbours, divided by the range
    of that objective over the front; the distances add up over objectives.
    Direction does not change the distance, so `directions` is optional.

    Args:
        points: `(n, m)` array-like of objective values.
        front: Indices into `points` of the front's members.
        directions: Optional, only checked. Defaults to `None`.

    Returns:
        A float array aligned with `front`.
    """
    pts = np.asarray(points, dtype=float)
    if directions is not None:
        pts, _ = _as_min(pts, directions)
    front = list(front)
    dist = np.zeros(len(front))
    if len(front) <= 2:
        dist[:] = np.inf
        return dist
    sub = pts[front]
    for k in range(sub.shape[1]):
        order = np.argsort(sub[:, k], kind="stable")
        lo, hi = sub[order[0], k], sub[order[-1], k]
        dist[order[0]] = dist[order[-1]] = np.inf
        if hi == lo:
            continue
        gaps = (sub[order[2:], k] - sub[order[:-2], k]) / (hi - lo)
        dist[order[1:-1]] += gaps
    return dist


def nsga2_rank(points, directions):
    """Pareto rank and crowding distance of each point, for selection.

    A point beats another when its rank is lower, or the ranks are equal and
    its crowding distance is larger (it sits in a less crowded part of the
    front, which keeps the front spread out).

    Args:
        points: `(n, m)` array-like of objective values.
        directions: `m` strings, `"min"` or `"max"`.

    Returns:
        `(rank, crowding)`: an int array and a float array of length `n`.
    """
    fronts = non_dominated_sort(points, directions)
    n = sum(len(f) for f in fronts)
    rank = np.zeros(n, dtype=int)
    crowd = np.zeros(n)
    for r, front in enumerate(fronts):
        rank[front] = r
        crowd[front] = crowding_distance(points, front)
    return rank, crowd


def hypervolume(points, directions, reference):
    """The volume dominated by `points` and bounded by `reference`.

    Exact for any number of objectives, by slicing along the last objective
    (the "hypervolume by slicing objectives" recursion), which is fast for
    the small fronts a search produces (2 and 3 objectives, up to a few
    hundred points). Points that do not strictly dominate the reference add
    nothing.

    Args:
        points: `(n, m)` array-like of objective values.
        directions: `m` strings, `"min"` or `"max"`.
        reference: `m` values, a point worse than every point of interest in
            every objective (e.g. accuracy 0, the largest parameter count).

    Returns:
        A float, in the product of the objectives' units.
    """
    pts, sign = _as_min(points, directions)
    ref = np.asarray(reference, dtype=float)
    if ref.shape != (pts.shape[1],):
        raise ValueError(
            f"`reference` must hold {pts.shape[1]} values, one per objective. "
            f"Received: reference={reference!r}."
        )
    ref = ref * sign
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[pareto_front(pts, ["min"] * pts.shape[1])]
    return float(_hv(pts, ref))


def _hv(pts, ref):
    m = pts.shape[1]
    if m == 1:
        return ref[0] - pts[:, 0].min()
    if m == 2:
        order = np.argsort(pts[:, 0], kind="stable")
        total, best_y = 0.0, ref[1]
        for i in order:
            x, y = pts[i]
            if y < best_y:
                total += (ref[0] - x) * (best_y - y)
                best_y = y
        return total
    # Slice along the last objective: between consecutive values, the
    # dominated region is the (m-1)-volume of the points at or below it.
    order = np.argsort(pts[:, -1], kind="stable")
    pts = pts[order]
    levels = list(pts[:, -1]) + [ref[-1]]
    total = 0.0
    for i in range(len(pts)):
        height = levels[i + 1] - levels[i]
        if height <= 0:
            continue
        below = pts[: i + 1, :-1]
        below = below[pareto_front(below, ["min"] * (m - 1))]
        total += _hv(below, ref[:-1]) * height
    return total
