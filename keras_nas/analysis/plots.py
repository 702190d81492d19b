"""Plots of a search: its history, its accuracy/size trade-off, and why the
winner won (`importance.analyze`).

matplotlib is an optional extra (`pip install keras-nas[plots]`); these
functions say so when it is missing.
"""

__all__ = ["plot_history", "plot_tradeoff", "plot_importance"]


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
    from keras_nas.data.task import primary_objective

    objective = primary_objective(search.tuner.oracle.objective)
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


def plot_tradeoff(search, path=None):
    """The trade-off of a search, with its Pareto front
    (`search.pareto_front()`) marked: the objective against the number of
    parameters (log scale), or, with several objectives, the first two.
    Returns the Figure; saves a PNG at `path` if given."""
    plt = _pyplot()
    objectives = search.objectives()
    name, _ = _objective(search)
    others = [o.name for o in objectives if o.name != name]
    names = [name, others[0] if others else "params"]
    records = [r for r in search.results() if r.value is not None]

    def point(r):
        if len(objectives) > 1:
            return r.objectives.get(names[1]), r.objectives.get(names[0])
        return r.params, r.value

    points = [point(r) for r in records]
    points = [p for p in points if None not in p]
    front = search.pareto_front()
    fig, ax = plt.subplots(figsize=(7, 4))
    if points:
        ax.scatter([x for x, _ in points], [y for _, y in points], s=18,
                   color="tab:blue", label="trials")
        ends = sorted((point(r) + (r,) for r in front),
                      key=lambda t: t[0])
        ax.plot([x for x, _, _ in ends], [y for _, y, _ in ends], "-o",
                color="tab:orange", label="Pareto front")
        for x, y, r in ends:
            ax.annotate(" > ".join(r.ops)[:40], (x, y), fontsize=6,
                        alpha=0.7, xytext=(3, 3), textcoords="offset points")
        if names[1] in ("params", "flops"):
            ax.set_xscale("log")
    ax.set_xlabel({"params": "parameters", "flops": "multiply-adds",
                   "latency_ms": "latency (ms)"}.get(names[1], names[1]))
    ax.set_ylabel(names[0])
    ax.set_title(f"{names[0]} against {names[1]}"
                 + (f" ({len(objectives)} objectives)"
                    if len(objectives) > 2 else ""))
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
