"""Ranking candidates without training them: the one proxy ranker.

Each candidate is built untrained, scored on one seeded batch by the
zero-cost proxies of `proxies`, and the candidates are ordered by the
proxies' vote. The warm start ranks a pool drawn from the space; a
benchmark or a user ranks the candidates it names (`candidates=`).
"""

import logging
import time

import keras
import numpy as np

from keras_nas.space import builder
from keras_nas.scoring.proxies import check_proxies, score, vote

__all__ = ["Ranking", "rank"]

_logger = logging.getLogger(__name__)


class Ranking:
    """Candidates ordered best first by a proxy vote.

    Attributes:
        ops: The op lists, best first.
        scores: Their `{proxy: value}`, in the same order.
        votes: Their vote, the mean over the proxies of the candidate's rank
            fraction, in [0, 1]; 1 is first under every proxy.
        times: Seconds to build and score each.
        seconds: Wall time of the whole ranking.
        scored: How many candidates were scored.
    """

    def __init__(self, ops, scores, seconds, votes=(), times=()):
        self.ops = ops
        self.scores = scores
        self.seconds = seconds
        self.votes = list(votes)
        self.times = list(times)

    @property
    def scored(self):
        return len(self.ops)


def rank(space, x, task, *, y=None, candidates=None, pool_size=100,
         proxies=("naswot", "jacob_cov"), batch_size=64, head="auto",
         seed=None, time_limit=None):
    """Score candidates of a bound `space` on one batch of `x`, and order
    them by the proxies' vote.

    Args:
        space: A bound `SearchSpace`.
        x: Training samples (an array); the first `batch_size` of a seeded
            shuffle are the batch.
        task: The `data.task.Task` (for the head, and the loss of `snip`
            and `grad_norm`).
        y: The targets of `x` (as `task.encode` gives them), for the
            proxies that need labels. Defaults to `None`.
        candidates: The op lists to rank, in order. Defaults to `None`:
            draw up to `pool_size` distinct valid candidates of the space.
        pool_size: Candidates to draw when `candidates` is `None`.
            Defaults to `100`.
        proxies: Proxies that vote. Defaults to `("naswot", "jacob_cov")`,
            the best vote measured on digits (`benchmarks/proxies.py`).
        batch_size: Samples in the batch, at least 2. Defaults to `64`.
        head: As in `NASSearch`. Defaults to `"auto"`.
        seed: Optional seed of the draws and the batch (and, for named
            `candidates`, of each one's initial weights), so that the
            ranking is deterministic.
        time_limit: Optional seconds after which no new candidate is
            scored (two are, at least, of a drawn pool; one of given
            candidates).

    Returns:
        A `Ranking`.
    """
    start = time.perf_counter()
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or (
            batch_size < 2):
        raise ValueError(
            "`batch_size` must be an integer of at least 2. Received: "
            f"batch_size={batch_size!r}.")
    proxies = check_proxies(proxies, y)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(x))[:batch_size]
    batch = np.asarray(x, dtype="float32")[pick]
    y_batch = None if y is None else np.asarray(y)[pick]
    given = candidates is not None
    pending = iter([list(c) for c in candidates]) if given else None
    least = 1 if given else 2
    seen, pool, scores, times = set(), [], [], []
    attempts = 0
    while given or (len(pool) < pool_size and attempts < 20 * pool_size):
        attempts += 1
        if (time_limit is not None and len(pool) >= least
                and time.perf_counter() - start > time_limit):
            break
        ops = next(pending, None) if given else space.random_ops(rng)
        if ops is None:
            break
        if tuple(ops) in seen and not given:
            continue
        seen.add(tuple(ops))
        began = time.perf_counter()
        keras.backend.clear_session()
        if given and seed is not None:
            # Named candidates are each scored from the same initial
            # weights' seed; a drawn pool keeps the draws' random state.
            keras.utils.set_random_seed(seed)
        try:
            model = builder.build_from_plan(space.plan(ops, head=head),
                                            task.activation,
                                            op_table=space.op_table)
            scores.append(score(model, batch, y_batch, proxies, task=task))
        except Exception as e:  # Its trial would fail too; not ours to stop.
            if given:
                raise
            _logger.debug("not scored: %s (%s: %s)", ops, type(e).__name__, e)
            continue
        pool.append(ops)
        times.append(time.perf_counter() - began)
    keras.backend.clear_session()
    if not pool:
        return Ranking([], [], time.perf_counter() - start)
    votes = vote(scores, proxies)
    order = np.argsort(-np.array(votes), kind="stable")
    return Ranking([pool[i] for i in order], [scores[i] for i in order],
                   time.perf_counter() - start,
                   votes=[votes[i] for i in order],
                   times=[times[i] for i in order])
