"""What a search trains first: the user's trusted architectures, then the
best of a training-free ranking.

- `initial_architectures`: op lists the user already trusts, trained first,
  in order (like Optuna's `enqueue_trial`); by default, the conventional
  model of the data's kind (`DEFAULT_ARCHITECTURES`).
- The warm start: before the first trial, a pool of valid candidates is
  scored on one batch of the training data by zero-cost proxies
  (`ranking.rank`), and the best-ranked seed the search (for evolution,
  its whole initial population). Its cost is bounded by about a tenth of
  the search's expected time.

Both go through `oracles.enqueue`, so they work with every strategy but
Hyperband. The ranking is saved in the project folder (`warm_start.json`),
so a resumed search trains the same candidates, without scoring again.
"""

import dataclasses
import json
import logging
import os
import time
import warnings
from typing import Optional

import keras
import keras_tuner
import numpy as np

from keras_nas.space import builder
from keras_nas import strategies as oracles
from keras_nas.scoring import proxies as proxies_module
from keras_nas.scoring import ranking as ranking_module
from keras_nas._atomic import write_text_atomic
from keras_nas._checks import check_int
from keras_nas.ops import RANK_KINDS

__all__ = ["WarmStart", "check_initial_architectures", "seed_search",
           "DEFAULT_ARCHITECTURES"]

_logger = logging.getLogger(__name__)

_FILE = "warm_start.json"

#: The share of the expected search time a warm start may take.
BUDGET_SHARE = 0.1

#: What a Keras user writes by hand for each kind of data: trained first
#: unless `initial_architectures` is given, so a search is never worse than
#: the conventional model for long. Those the space cannot run (other ops,
#: a too small input) are skipped.
DEFAULT_ARCHITECTURES = {
    "image": [
        ["conv3x3-32", "maxpool", "conv3x3-64", "maxpool", "dense-128"],
        ["conv3x3-32", "conv3x3-64", "maxpool", "dropout", "dense-128"]],
    "sequence": [
        ["conv5-32", "maxpool", "conv3-64", "maxpool", "dense-64"],
        ["conv3-32", "conv3-32", "maxpool", "dense-128"]],
    # A convolution over word n-grams, max-pooled over positions, and the
    # bag of embeddings (fastText): both read a word wherever it stands.
    "text": [
        ["conv3-64", "gmp", "dense-64"],
        ["gap", "dense-64"]],
    "tabular": [
        ["dense-128", "dropout", "dense-64"],
        ["dense-64"]],
}


@dataclasses.dataclass(frozen=True)
class WarmStart:
    """Options of the training-free warm start, checked when made.

    `NASSearch(warm_start=WarmStart(...))` turns it on with these options;
    `warm_start=None` (the default) runs `WarmStart()` wherever it applies.

    Args:
        pool_size: Most candidates scored. Defaults to `100`.
        proxies: The proxies that vote (see `proxies.PROXIES`). Defaults to
            `("naswot", "jacob_cov")`.
        count: How many of the best-ranked to train first: `None` for the
            population of an evolution, the start of a local search, else a
            quarter of `max_trials`; or an integer of at least 1. Defaults
            to `None`.
        budget_share: The share of the search's expected time (measured
            from one training step, or `max_time_s`) that the warm start
            may take; when timing that step has used it up already, as in a
            search of a few short trials, no candidate is scored. `None`
            scores the whole pool. Defaults to `0.1`.
    """

    pool_size: int = 100
    proxies: tuple = ("naswot", "jacob_cov")
    count: Optional[int] = None
    budget_share: Optional[float] = BUDGET_SHARE

    def __post_init__(self):
        proxies = self.proxies
        if isinstance(proxies, (str, bytes)) or not isinstance(
                proxies, (list, tuple)) or not proxies or any(
                p not in proxies_module.PROXIES for p in proxies):
            raise ValueError(
                f"`proxies` must be a non-empty list from "
                f"{proxies_module.PROXIES}. Received: proxies={proxies!r}.")
        object.__setattr__(self, "proxies", tuple(proxies))
        object.__setattr__(self, "pool_size",
                           check_int("pool_size", self.pool_size, 2))
        if self.count is not None:
            object.__setattr__(self, "count",
                               check_int("count", self.count, 1))
        share = self.budget_share
        if share is not None and not (
                isinstance(share, (int, float)) and not isinstance(share, bool)
                and 0 < share <= 1):
            raise ValueError(
                "`budget_share` must be a fraction in (0, 1] or None. "
                f"Received: budget_share={share!r}.")

    def get_config(self):
        return {"pool_size": self.pool_size, "proxies": list(self.proxies),
                "count": self.count, "budget_share": self.budget_share}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def check_initial_architectures(architectures, space=None):
    """The op lists of `initial_architectures`, or a `ValueError`. With a
    bound `space`, each must be a valid candidate of it; the error names
    the first that is not."""
    if architectures is None:
        return []
    if isinstance(architectures, str) or not all(
            isinstance(a, (list, tuple)) for a in architectures):
        raise ValueError(
            "`initial_architectures` must be a list of op lists, e.g. "
            "[['conv3x3-32', 'maxpool', 'dense-128']]. Received: "
            f"initial_architectures={architectures!r}.")
    for i, ops in enumerate(architectures if space is not None else ()):
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
    if isinstance(oracle, oracles.LocalSearchOracle):
        return oracle.start_size  # Its first incumbent is their best.
    return max(1, max_trials // 4)


def _trial_seconds(space, data, task, epochs, batch_size, head, rng):
    """A trial's expected seconds, measured on a random candidate: its first
    training step (tracing, the fixed cost of a trial) plus half its
    `epochs` of steps (early stopping and halving end most trials early).
    `None` if no candidate of a few could be built."""
    x, y = data.x[:batch_size], data.y[:batch_size]
    for _ in range(10):
        ops = space.random_ops(rng)
        if ops is None:
            return None
        keras.backend.clear_session()
        try:
            model = builder.build_from_plan(
                space.plan(ops, head=head), task.activation,
                op_table=space.op_table)
            model.compile("adam", task.loss)
            start = time.perf_counter()
            model.train_on_batch(x, y)
            traced = time.perf_counter()
            model.train_on_batch(x, y)
            step = time.perf_counter() - traced
        except Exception as e:  # This candidate's trial would fail too.
            _logger.debug("no timing from %s: %s", ops, e)
            continue
        finally:
            keras.backend.clear_session()
        steps = int(np.ceil(len(data.x) / batch_size))
        return (traced - start) + 0.5 * epochs * steps * step
    return None


def seed_search(tuner, data, *, initial_architectures, warm_start,
                max_trials, epochs, batch_size, max_time=None, seed=None,
                head="auto", progress=None, asked=False):
    """Queue the initial architectures and the warm start on the tuner's
    oracle (for a fresh search, or the rest of them on resume).

    A warm start cannot run on a `tf.data.Dataset`; if the user `asked`
    for one explicitly, they are warned.

    Returns:
        The warm start's `ranking.Ranking`, or `None` when none ran now.
    """
    space = tuner.hypermodel.space
    oracle = tuner.oracle
    strategy = oracles.strategy_of(oracle)  # Inside the queue (`wrap`).
    if initial_architectures is None:
        # Hyperband's brackets decide what runs: no defaults to queue.
        hyperband = isinstance(strategy,
                               keras_tuner.oracles.HyperbandOracle)
        kind = space.kind or RANK_KINDS[len(space.input_shape)]
        initial = [] if hyperband else [
            ops for ops in DEFAULT_ARCHITECTURES.get(kind, [])
            if space.check(ops) is None]
    else:
        initial = check_initial_architectures(initial_architectures, space)
    queue = [space.encode(ops) for ops in initial]
    path = os.path.join(tuner.project_dir, _FILE)
    ranking = None
    if warm_start is not None and data.is_dataset:
        if asked:
            warnings.warn(
                "The warm start scores candidates on a batch of array data; "
                "with a tf.data.Dataset it is skipped. Pass warm_start=False "
                "to say so.", stacklevel=3)
    elif warm_start is not None:
        if os.path.exists(path):
            with open(path) as f:
                ranked = json.load(f)["ops"]
        elif oracle.trials:
            ranked = []  # A search that ran without one goes on without.
        elif len(queue) >= max_trials:
            # The initial architectures fill every trial: no pick would be
            # trained, so none is scored (nor a step timed to bound it).
            ranked = []
            if progress is not None:
                progress.print(
                    f"warm start: skipped; the {len(queue)} initial "
                    f"architectures fill all {max_trials} trials")
        else:
            ranking = _rank(space, data, tuner.hypermodel.task, warm_start,
                            max_trials, epochs, batch_size, max_time, seed,
                            head)
            ranked = ranking.ops[:_count(warm_start, strategy, max_trials)]
            write_text_atomic(path, json.dumps(
                {"ops": ranked, "scored": ranking.scored,
                 "seconds": ranking.seconds,
                 "scores": ranking.scores[:len(ranked)]}))
            _logger.info("warm start ranking: %s", list(zip(
                ranked, ranking.scores[:len(ranked)])))
            if progress is not None and not ranking.scored:
                progress.print(
                    "warm start: skipped; scoring candidates would take more "
                    "than its share of this short search "
                    f"({ranking.seconds:.1f} s spent timing a step)")
            elif progress is not None:
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
    limit = None
    if warm.budget_share is not None:
        trial = _trial_seconds(space, data, task, epochs, batch_size, head,
                               np.random.default_rng(seed))
        if trial is None:
            return ranking_module.Ranking([], [], time.perf_counter() - start)
        expected = max_trials * trial
        if max_time is not None:
            expected = min(expected, max_time)
        limit = warm.budget_share * expected - (time.perf_counter() - start)
        if limit <= 0:
            # Timing one step spent the share of a search this short:
            # scoring candidates too would break the bound.
            return ranking_module.Ranking([], [],
                                          time.perf_counter() - start)
    ranking = ranking_module.rank(
        space, data.x, task, y=data.y, pool_size=warm.pool_size,
        proxies=warm.proxies,
        head=head, seed=seed, time_limit=limit)
    ranking.seconds = time.perf_counter() - start
    return ranking
