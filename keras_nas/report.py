"""Plots of a search: its history, its accuracy/size trade-off, and why the
winner won (`importance.analyze`).

matplotlib is an optional extra (`pip install keras-nas[plots]`); these
functions say so when it is missing.
"""

__all__ = ["plot_history", "plot_tradeoff", "pareto_front",
           "plot_importance"]


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


def plot_importance(result, path=None, top=12):
    """The `top` effects of an `importance.Importance` as horizontal bars
    with their intervals; green helps, red hurts, grey is noise. Returns the
    Figure; saves a PNG at `path` if given.

    Args:
        result: An `Importance` from `keras_nas.importance.analyze`.
        path: Where to save a PNG. Defaults to `None` (not saved).
        top: Most effects shown. Defaults to `12`.
    """
    plt = _pyplot()
    effects = list(result.effects[:top])[::-1]  # Largest at the top.
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(effects), 4) + 1.2))
    if effects:
        ys = range(len(effects))
        colors = [("tab:green" if e.helps else "tab:red")
                  if e.distinguishable else "tab:gray" for e in effects]
        ax.barh(ys, [e.effect for e in effects], color=colors, alpha=0.7)
        ax.errorbar([e.effect for e in effects], ys,
                    xerr=[[e.effect - e.low for e in effects],
                          [e.high - e.effect for e in effects]],
                    fmt="none", ecolor="black", capsize=3, lw=1)
        ax.set_yticks(list(ys))
        ax.set_yticklabels([f"{e.feature} ({e.n_with})" for e in effects],
                           fontsize=7)
        ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel(f"effect on {result.objective} (with minus without, "
                  f"{int(round(result.confidence * 100))}% interval)")
    ax.set_title(result.message if len(result.message) < 90
                 else result.message[:87] + "...", fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    return _finish(fig, path)
