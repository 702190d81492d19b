"""Plots of a search: its history and its accuracy/size trade-off.

matplotlib is an optional extra (`pip install keras-nas[plots]`); these
functions say so when it is missing.
"""

__all__ = ["plot_history", "plot_tradeoff", "pareto_front"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "Plots need matplotlib: `pip install matplotlib` (or "
            "`pip install keras-nas[plots]`)."
        ) from e
    return plt


def _objective(search):
    objective = search.tuner.oracle.objective
    return objective.name, objective.direction


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_history(search, path=None):
    """The objective of each trial and the best so far, against the trial
    number. Failed trials are marked on the axis. Returns the Figure; saves a
    PNG at `path` if given."""
    plt = _pyplot()
    name, direction = _objective(search)
    records = search.results()
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [int(r.trial_id) + 1 for r in records if r.value is not None]
    ys = [r.value for r in records if r.value is not None]
    ax.scatter(xs, ys, s=18, color="tab:blue", label=f"trial {name}")
    best, running = [], None
    for y in ys:
        if running is None or (y > running if direction == "max" else y < running):
            running = y
        best.append(running)
    if xs:
        ax.step(xs, best, where="post", color="tab:orange", label="best so far")
    failed = [int(r.trial_id) + 1 for r in records if r.value is None]
    if failed:
        lo = min(ys) if ys else 0.0
        ax.scatter(failed, [lo] * len(failed), marker="x", color="tab:red",
                   label=f"failed ({len(failed)})")
    ax.set_xlabel("trial")
    ax.set_ylabel(name)
    ax.set_title(f"Search history ({len(records)} trials)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def pareto_front(points, direction="max"):
    """Indices of the points `(params, value)` that no other point beats:
    as good or better in both, and strictly better in one."""
    sign = 1 if direction == "max" else -1
    front = []
    for i, (p, v) in enumerate(points):
        dominated = any(
            (q <= p and sign * w >= sign * v) and (q < p or sign * w > sign * v)
            for j, (q, w) in enumerate(points) if j != i
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def plot_tradeoff(search, path=None):
    """The objective against the number of parameters (log scale), with the
    Pareto front marked. Returns the Figure; saves a PNG at `path` if
    given."""
    plt = _pyplot()
    name, direction = _objective(search)
    records = [r for r in search.results() if r.value is not None]
    points = [(r.params, r.value) for r in records]
    fig, ax = plt.subplots(figsize=(7, 4))
    if points:
        ax.scatter([p for p, _ in points], [v for _, v in points], s=18,
                   color="tab:blue", label="trials")
        front = pareto_front(points, direction)
        ax.plot([points[i][0] for i in front], [points[i][1] for i in front],
                "-o", color="tab:orange", label="Pareto front")
        for i in front:
            ax.annotate(" > ".join(records[i].ops)[:40], points[i],
                        fontsize=6, alpha=0.7, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel(name)
    ax.set_title("Objective against model size")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return _finish(fig, path)
