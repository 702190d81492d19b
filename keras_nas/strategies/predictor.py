"""Predictor-guided proposals: a surrogate of the completed trials ranks
many candidates, and only the best is trained.

The mechanism of BANANAS (White et al., 2021) and NPENAS (Wei et al.,
2022). A surrogate (`strategies.surrogates`: bootstrapped ridge
regressions in closed form, the trees of a scikit-learn extra-trees
forest, or a Gaussian process) is fitted on an encoding of each completed
trial (the value at each position, the count of each op or value, the
depth, and, with a `SearchSpace`, the parameters and FLOPs), and its
spread (the members', or the process's posterior standard deviation) is
the uncertainty that an upper confidence bound or a Thompson sample
reads. With `cost_aware=True` the acquisition is the predicted
improvement per predicted second of training (Snoek et al., 2012), from a
second regression on the trials' `seconds` per epoch. Until `min_trials`
trials have completed, the order is left as it is, so the strategy falls
back to its plain proposals. Under successive halving the targets are
like with like (`halving.common_scale`): each trial's value at the
highest rung two trials reached, a curve that stopped below it extended
by the mean gain between rungs. The trials are fitted in the order they
ended, so a resumed search proposes what the uninterrupted one would.

The time spent fitting and ranking is kept on the oracle
(`cost(oracle)`) and logged, so that it can be checked against a trained
epoch.
"""

import dataclasses
import logging
import math
import time
import weakref
from typing import Optional

import numpy as np
from keras_tuner.engine import hyperparameters as hp_module
from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas.ops import InvalidArchitectureError
from keras_nas.space.search_space import is_architecture_key
from keras_nas.strategies import hp_values, surrogates
from keras_nas.schedulers.halving import common_scale

__all__ = ["ACQUISITIONS", "MODELS", "Predictor", "cost", "encode",
           "from_argument"]

_logger = logging.getLogger(__name__)

#: `(calls, seconds, candidates ranked)` by oracle (`cost`).
_COSTS = weakref.WeakKeyDictionary()

#: Surrogates (`strategies.surrogates`): a Gaussian process,
#: bootstrapped ridge regressions, or an extra-trees forest.
MODELS = surrogates.KINDS
#: How the ensemble's mean and spread make one score per candidate.
ACQUISITIONS = ("ucb", "thompson", "mean")


@dataclasses.dataclass(frozen=True)
class Predictor:
    """Options of predictor-guided proposals.

    Args:
        model: One of `MODELS`: `"ridge"` (additive in the features),
            `"trees"`, or `"gp"` (a Gaussian process whose kernel sees
            interactions between positions). Defaults to `"ridge"`, which
            measured best on NAS-Bench-201 (benchmarks/README.md).
        members: Ensemble members (bootstraps, or trees; a Gaussian process
            has none). Defaults to `20`.
        acquisition: One of `ACQUISITIONS`. Defaults to `"ucb"`.
        kappa: Weight of the spread in the upper confidence bound.
            Defaults to `1.0`.
        min_trials: Completed trials before the predictor is used.
            Defaults to `10`.
        children: Candidates an evolution ranks per proposal, mutations of
            its best `parents`. Defaults to `100`.
        parents: The best completed trials an evolution mutates. Defaults
            to `10`.
        cost_aware: Rank by predicted improvement per predicted second of
            training. Defaults to `False`.
        prune: In local search, the neighbours whose acquisition (before
            any cost) falls more than `prune` standard deviations of the
            completed trials' scores below the incumbent's score are not
            tried: the incumbent is taken for a local optimum sooner, and
            the evaluations go to a restart. The best-ranked neighbour is
            always tried. `None` tries them all. Defaults to `0.1`.
        rerank: In local search, order (and prune) the neighbours left
            again after each one that ends without improving, with the
            predictor refitted on it, as Bayesian optimization updates its
            model after every observation. Defaults to `False`.
    """

    model: str = "ridge"
    members: int = 20
    acquisition: str = "ucb"
    kappa: float = 1.0
    min_trials: int = 10
    children: int = 100
    parents: int = 10
    cost_aware: bool = False
    prune: Optional[float] = 0.1
    rerank: bool = False

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"`model` must be one of {MODELS}. Received: "
                             f"model={self.model!r}.")
        if self.acquisition not in ACQUISITIONS:
            raise ValueError(
                f"`acquisition` must be one of {ACQUISITIONS}. Received: "
                f"acquisition={self.acquisition!r}.")
        for name, low in (("members", 2), ("min_trials", 2), ("children", 1),
                          ("parents", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or (
                    value < low):
                raise ValueError(f"`{name}` must be an integer >= {low}. "
                                 f"Received: {name}={value!r}.")
        if not (isinstance(self.kappa, (int, float)) and self.kappa >= 0
                and math.isfinite(self.kappa)):
            raise ValueError("`kappa` must be a finite number >= 0. "
                             f"Received: kappa={self.kappa!r}.")
        if self.prune is not None and not (
                isinstance(self.prune, (int, float))
                and not isinstance(self.prune, bool)
                and math.isfinite(self.prune) and self.prune >= 0):
            raise ValueError("`prune` must be None or a finite number >= 0. "
                             f"Received: prune={self.prune!r}.")
        for name in ("cost_aware", "rerank"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"`{name}` must be a bool. Received: "
                                 f"{name}={getattr(self, name)!r}.")

    def get_config(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # -- use -----------------------------------------------------------

    def order(self, oracle, candidates, rng, incumbent=None):
        """`candidates` (dicts of values) best first by the acquisition, or
        unchanged before `min_trials` trials have completed.

        With an `incumbent` (local search's: its trial id, whose value is
        read on the scale of the targets, or a score) and `prune`, those
        whose acquisition falls more than `prune` standard deviations of
        the completed trials' values below it are left out, all but the
        first.
        """
        start = time.perf_counter()
        fitted = self._fit(oracle, rng)
        if fitted is None or not candidates:
            return list(candidates)
        raw, scores = self._acquire(oracle, fitted, candidates, rng)
        ranked = np.argsort(-scores, kind="stable")
        if isinstance(incumbent, str):
            incumbent = fitted.values.get(incumbent)
        if incumbent is not None and self.prune is not None:
            floor = fitted.sign * incumbent - self.prune * fitted.spread
            ranked = [i for n, i in enumerate(ranked)
                      if n == 0 or raw[i] >= floor]
        _record(oracle, time.perf_counter() - start, len(candidates))
        return [candidates[i] for i in ranked]

    def _fit(self, oracle, rng):
        done = [t for t in oracle.trials.values()
                if t.status == TrialStatus.COMPLETED and t.score is not None
                and math.isfinite(t.score)]
        if len(done) < self.min_trials:
            return None
        # In the order they ended, which the oracle's state keeps: a
        # reloaded oracle lists its trials in the folder's order, and the
        # bootstraps draw rows by position, so a resumed search would
        # otherwise fit other members and propose otherwise.
        ended = {t: i for i, t in enumerate(_compat.end_order(oracle))}
        done.sort(key=lambda t: (ended.get(t.trial_id, len(ended)),
                                 t.trial_id))
        # A trial's features never change: encode each once per oracle.
        cache = oracle.__dict__.setdefault("_predictor_features", {})
        for t in done:
            if t.trial_id not in cache:
                cache[t.trial_id] = encode(oracle, t.hyperparameters.values)
        x = np.array([cache[t.trial_id] for t in done])
        # Like with like under successive halving (`common_scale`).
        values = common_scale(done)
        sign = 1.0 if oracle.objective.direction == "max" else -1.0
        y = sign * np.array([values[t.trial_id] for t in done])
        model = surrogates.make(self.model, self.members,
                                int(rng.integers(2**31 - 1))).fit(x, y)
        cost_model = None
        if self.cost_aware:
            per_epoch = [_seconds_per_epoch(t) for t in done]
            known = [i for i, c in enumerate(per_epoch) if c is not None]
            if len(known) >= 2:
                cost_model = surrogates.make("ridge", 2, 0).fit(
                    x[known], np.log([per_epoch[i] for i in known]))
        return _Fitted(model, cost_model, float(y.max()), sign,
                       float(y.std()), values)

    def _acquire(self, oracle, fitted, candidates, rng):
        """The acquisition of each candidate, before and after its cost."""
        model, cost_model, best = fitted.model, fitted.cost_model, fitted.best
        x = np.array([encode(oracle, v) for v in candidates])
        mean, spread = model.predict(x)
        if self.acquisition == "ucb":
            score = mean + self.kappa * spread
        elif self.acquisition == "thompson":
            score = rng.normal(mean, spread + 1e-12)
        else:
            score = mean
        if cost_model is None:
            return score, score
        seconds = np.exp(cost_model.predict(x)[0])
        # Improvement per second; below the best, the least-bad first.
        gain = score - best
        return score, np.where(gain > 0, gain / seconds, gain * seconds)


@dataclasses.dataclass
class _Fitted:
    """A fitted predictor: the ensemble, the cost model (or `None`), the
    best target, the objective's sign, the targets' spread, and each
    trial's value on the targets' scale."""

    model: object
    cost_model: object
    best: float
    sign: float
    spread: float
    values: dict


def encode(oracle, values):
    """The features of one candidate of `oracle`'s space: one-hot values
    (by position for op sequences), counts of each op or value, the depth,
    numbers scaled to [0, 1], and log parameters and FLOPs with a bound
    `SearchSpace`."""
    space = getattr(oracle, "space", None)
    features, counted = [], {}
    if space is not None:
        ops = space.decode(values)
        names = list(space.ops)
        for i in range(space.max_depth):
            features.extend(float(i < len(ops) and ops[i] == n) for n in names)
        features.extend(float(ops.count(n)) for n in names)
        features.append(float(len(ops)))
        features += _size_features(space, ops)
    for hp in oracle.hyperparameters.space:
        if space is not None and is_architecture_key(hp.name):
            continue
        value = values.get(hp.name)
        choices = hp_values.domain(hp)
        if isinstance(hp, (hp_module.Choice, hp_module.Boolean)):
            features.extend(float(value == c) for c in choices)
            if isinstance(value, str):
                counted[value] = counted.get(value, 0) + 1
        elif isinstance(hp, (hp_module.Int, hp_module.Float)):
            features.append(_scaled(hp, value))
    features.extend(float(counted.get(k, 0)) for k in sorted(_all_strings(oracle)))
    return features


def _size_features(space, ops):
    """Log parameters and FLOPs of `ops`, or zeros where there are none to
    count: a space not bound to an input shape yet (an oracle used before
    its search binds it), or a sequence the space rejects. Both are
    expected, not errors: a rejected neighbour is ranked like any other and
    refused when it comes up, as before the predictor. Anything else a
    shape rule raises is a defect and propagates."""
    if space.input_shape is None:
        return [0.0, 0.0]
    try:
        plan = space.plan(ops)
    except InvalidArchitectureError:
        return [0.0, 0.0]
    return [math.log1p(plan.params), math.log1p(plan.flops)]


def _all_strings(oracle):
    found = set()
    for hp in oracle.hyperparameters.space:
        if isinstance(hp, hp_module.Choice):
            found.update(v for v in hp.values if isinstance(v, str))
    if getattr(oracle, "space", None) is not None:
        found -= {v for hp in oracle.hyperparameters.space
                  if is_architecture_key(hp.name) and isinstance(
                      hp, hp_module.Choice) for v in hp.values}
    return found


def _scaled(hp, value):
    if value is None or hp.max_value == hp.min_value:
        return 0.0
    low, high, v = float(hp.min_value), float(hp.max_value), float(value)
    if getattr(hp, "sampling", "linear") == "log" and low > 0:
        low, high, v = math.log(low), math.log(high), math.log(v)
    return (v - low) / (high - low)


def _seconds_per_epoch(trial):
    m = trial.metrics
    if not (m.exists("seconds") and m.exists("epochs")):
        return None
    seconds, epochs = m.get_last_value("seconds"), m.get_last_value("epochs")
    if not seconds or not epochs or seconds <= 0:
        return None
    return seconds / epochs


def _record(oracle, seconds, ranked):
    # Kept here, by oracle, rather than as an attribute set on the oracle.
    spent = _COSTS.get(oracle, (0, 0.0, 0))
    _COSTS[oracle] = (spent[0] + 1, spent[1] + seconds, spent[2] + ranked)
    _logger.debug("predictor: %d candidates ranked in %.1f ms", ranked,
                  1000 * seconds)


def cost(oracle):
    """`(calls, seconds, candidates ranked)` the predictor has cost
    `oracle` (a strategy's, or a search's around it) in this process."""
    return _COSTS.get(_compat.unwrapped(oracle), (0, 0.0, 0))


def from_argument(predictor):
    """A `Predictor` from a strategy's `predictor` argument: `None` or
    `False` (none), `True` (the defaults), a dict of options, or one."""
    if predictor is None or predictor is False:
        return None
    if predictor is True:
        return Predictor()
    if isinstance(predictor, dict):
        return Predictor.from_config(predictor)
    if isinstance(predictor, Predictor):
        return predictor
    raise TypeError(
        "`predictor` must be None, a bool, a dict of `Predictor` options or "
        f"a `Predictor`. Received: predictor={predictor!r} (of type "
        f"{type(predictor).__name__}).")
