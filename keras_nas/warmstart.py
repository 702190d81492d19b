"""What a search trains first: the user's trusted architectures, then the
best of a training-free ranking.

- `initial_architectures`: op lists the user already trusts, trained first,
  in order (like Optuna's `enqueue_trial`).
- The warm start: before the first trial, a pool of valid candidates is
  scored on one batch of the training data by zero-cost proxies
  (`proxies.rank`), and the best-ranked seed the search (for evolution,
  its whole initial population). Its cost is bounded by about a tenth of
  the search's expected time.

Both go through `oracles.enqueue`, so they work with every strategy but
Hyperband. The ranking is saved in the project folder (`warm_start.json`),
so a resumed search trains the same candidates, without scoring again.
"""

import json
import os
import time

import numpy as np

from keras_nas import oracles
from keras_nas import proxies as proxies_module
from keras_nas._atomic import write_text_atomic

__all__ = ["WarmStart", "check_initial_architectures", "seed_search"]

_FILE = "warm_start.json"

#: The share of the expected search time a warm start may take.
BUDGET_SHARE = 0.1


class WarmStart:
    """Options of the training-free warm start.

    Args:
        pool_size: Most candidates scored. Defaults to `100`.
        proxies: The proxies that vote (see `proxies.PROXIES`). Defaults to
            `("naswot", "synflow")`.
        count: How many of the best-ranked to train first. `None`: the
            population of an evolution, else a quarter of `max_trials`.
            Defaults to `None`.
    """

    def __init__(self, pool_size=100, proxies=("naswot", "params"),
                 count=None):
        unknown = [p for p in proxies if p not in proxies_module.PROXIES]
        if unknown or not proxies:
            raise ValueError(
                f"`proxies` must be a non-empty list from "
                f"{proxies_module.PROXIES}. Received: proxies={proxies!r}.")
        if not isinstance(pool_size, int) or pool_size < 2:
            raise ValueError(
                "`pool_size` must be an integer of at least 2. Received: "
                f"pool_size={pool_size!r}.")
        self.pool_size = pool_size
        self.proxies = tuple(proxies)
        self.count = count

    def get_config(self):
        return {"pool_size": self.pool_size, "proxies": list(self.proxies),
                "count": self.count}


def check_initial_architectures(architectures, space):
    """The op lists of `initial_architectures`, each valid for the bound
    `space`, or a `ValueError` that names the first that is not."""
    if architectures is None:
        return []
    if isinstance(architectures, str) or not all(
            isinstance(a, (list, tuple)) for a in architectures):
        raise ValueError(
            "`initial_architectures` must be a list of op lists, e.g. "
            "[['conv3x3-32', 'maxpool', 'dense-128']]. Received: "
            f"initial_architectures={architectures!r}.")
    for i, ops in enumerate(architectures):
        reason = space.check(list(ops))
        if reason is not None:
            raise ValueError(
                f"`initial_architectures[{i}]` is not a valid candidate of "
                f"the space for input shape {space.input_shape}: {reason}. "
                f"Received: {list(ops)}. Accepted: op lists of "
                f"{space.min_depth} to {space.max_depth} ops from "
                f"{space.ops}.")
    return [list(ops) for ops in architectures]


def _count(warm, oracle, max_trials):
    if warm.count is not None:
        return warm.count
    if isinstance(oracle, oracles.EvolutionOracle):
        return oracle.population_size
    return max(1, max_trials // 4)


def _time_limit(model_seconds, max_trials, epochs, steps, max_time):
    """About a tenth of the expected search time: `max_time` when given,
    else `max_trials` trials of `epochs` epochs of `steps` steps, each step
    costing about a tenth of scoring one candidate (measured)."""
    if max_time is not None:
        return BUDGET_SHARE * max_time
    expected = max_trials * model_seconds * (1 + epochs * steps / 10)
    return BUDGET_SHARE * expected


def seed_search(tuner, data, *, initial_architectures, warm_start,
                max_trials, epochs, batch_size, max_time=None, seed=None,
                head="auto", progress=None):
    """Queue the initial architectures and the warm start on the tuner's
    oracle (for a fresh search, or the rest of them on resume).

    Returns:
        The warm start's `proxies.Ranking`, or `None` when none ran now.
    """
    space = tuner.hypermodel.space
    oracle = tuner.oracle
    queue = [space.encode(ops) for ops in
             check_initial_architectures(initial_architectures, space)]
    path = os.path.join(tuner.project_dir, _FILE)
    ranking = None
    if warm_start is not None and not data.is_dataset:
        if os.path.exists(path):
            with open(path) as f:
                ranked = json.load(f)["ops"]
        elif oracle.trials:
            ranked = []  # A search that ran without one goes on without.
        else:
            ranking = _rank(space, data, tuner.hypermodel.task, warm_start,
                            max_trials, epochs, batch_size, max_time, seed,
                            head)
            ranked = ranking.ops[:_count(warm_start, oracle, max_trials)]
            write_text_atomic(path, json.dumps(
                {"ops": ranked, "scored": ranking.scored,
                 "seconds": ranking.seconds,
                 "scores": ranking.scores[:len(ranked)]}))
            if progress is not None:
                progress.print(
                    f"warm start: scored {ranking.scored} candidates with "
                    f"{', '.join(warm_start.proxies)} in "
                    f"{ranking.seconds:.1f} s; training the best "
                    f"{len(ranked)} first")
        queue += [space.encode(ops) for ops in ranked]
    if queue:
        oracles.enqueue(oracle, queue)
    return ranking


def _rank(space, data, task, warm, max_trials, epochs, batch_size,
          max_time, seed, head):
    start = time.perf_counter()
    first = proxies_module.rank(space, data.x, task, pool_size=2,
                                proxies=warm.proxies, head=head, seed=seed)
    per_model = first.seconds / max(1, first.scored)
    steps = int(np.ceil(len(data.x) / batch_size))
    limit = _time_limit(per_model, max_trials, epochs, steps, max_time)
    ranking = proxies_module.rank(
        space, data.x, task, pool_size=warm.pool_size, proxies=warm.proxies,
        head=head, seed=seed,
        time_limit=max(0.0, limit - (time.perf_counter() - start)))
    ranking.seconds = time.perf_counter() - start
    return ranking
