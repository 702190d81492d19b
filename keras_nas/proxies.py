"""Zero-cost proxies: score an untrained candidate on one batch.

Training is what a search pays for; a proxy ranks candidates before any
training, from one forward (and backward) pass at initialization:

- `naswot` (Mellor et al., "Neural Architecture Search without Training",
  ICML 2021): the log-determinant of the kernel of binary ReLU activation
  codes over a mini-batch. Networks that give different inputs different
  activation patterns score higher. Forward pass only.
- `synflow` (Tanaka et al. 2020; evaluated as a NAS proxy by Abdelfattah et
  al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021): with every
  weight replaced by its absolute value and an all-ones input, the sum over
  weights of |weight x gradient| of the summed output. Reported as a log.
- `params`: the number of weights, the baseline any proxy must beat.

`rank()` draws a pool of valid candidates of a space, scores each, and
orders them by the mean of their ranks under the chosen proxies (the
"vote" of Abdelfattah et al.). `NASSearch(warm_start=True)` trains the best
of them first. Which proxies earn their place on which data is measured in
`benchmarks/proxies.py`.

The math is `keras.ops`, so every backend runs it; only the gradient of
`synflow` needs the backend, in `_gradients()`.
"""

import logging
import math
import time

import keras
import numpy as np
from keras import ops as K

from keras_nas import builder

__all__ = ["PROXIES", "naswot", "synflow", "score", "rank", "Ranking"]

_logger = logging.getLogger(__name__)

#: The proxies `score()` knows.
PROXIES = ("naswot", "synflow", "params")

_RELU_LAYERS = ("relu",)


def _is_relu(layer):
    if isinstance(layer, keras.layers.ReLU):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) in _RELU_LAYERS


def naswot(model, x):
    """The NASWOT score of `model` on the batch `x` (higher is better).

    The codes are the signs of the outputs of every ReLU layer of the
    model (`Dense`/`Conv` layers with `activation="relu"`, and `ReLU`
    layers), concatenated per sample. A model without any has no code;
    it scores `-inf`.
    """
    h = K.convert_to_tensor(x)
    codes = []
    for layer in model.layers:
        h = layer(h, training=False) if _takes_training(layer) else layer(h)
        if _is_relu(layer):
            codes.append(K.cast(K.reshape(h, (K.shape(h)[0], -1)) > 0,
                                "float32"))
    if not codes:
        return -math.inf
    c = K.concatenate(codes, axis=1)
    kernel = K.matmul(c, K.transpose(c)) + K.matmul(1.0 - c,
                                                    K.transpose(1.0 - c))
    kernel = K.convert_to_numpy(kernel).astype("float64")
    sign, logdet = np.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else -math.inf


def _takes_training(layer):
    # Sequential's layers: Dropout and BatchNormalization take `training`.
    return isinstance(layer, (keras.layers.Dropout,
                              keras.layers.BatchNormalization))


def synflow(model, input_shape):
    """The log synflow score of `model` (higher is better). Replaces the
    model's weights by their absolute values: score a throwaway model."""
    for variable in model.trainable_variables:
        variable.assign(K.abs(variable))
    # On logits: a softmax head sums to one whatever the weights, so its
    # gradient would be zero.
    model.layers[-1].activation = keras.activations.linear
    ones = K.ones((1,) + tuple(input_shape), dtype="float32")
    grads = _gradients(model, ones)
    total = 0.0
    for variable, grad in zip(model.trainable_variables, grads):
        if grad is None:
            continue
        total += float(K.convert_to_numpy(K.sum(K.abs(variable * grad))))
    if not math.isfinite(total) or total <= 0:
        return -math.inf if total <= 0 else math.inf
    return math.log(total)


def _gradients(model, x):
    """Gradients of `sum(model(x))` with respect to the model's trainable
    weights, on the current backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            out = K.sum(model(x, training=False))
        return tape.gradient(out, model.trainable_variables)
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def total(weights):
            out, _ = model.stateless_call(weights, non_trainable, x,
                                          training=False)
            return K.sum(out)

        return jax.grad(total)(trainable)
    if backend == "torch":
        out = K.sum(model(x, training=False))
        out.backward()
        return [v.value.grad for v in model.trainable_variables]
    raise NotImplementedError(
        f"The synflow proxy needs gradients, which keras_nas computes for "
        f"the tensorflow, jax and torch backends. Received: backend "
        f"{backend!r}. Use proxies=('naswot', 'params').")


def score(model, x, proxies=("naswot", "synflow")):
    """`{proxy: value}` of an untrained `model` on the batch `x`; higher is
    better for each. `synflow` changes the model's weights."""
    unknown = [p for p in proxies if p not in PROXIES]
    if unknown or not proxies:
        raise ValueError(
            f"Unknown proxies {unknown or proxies!r}. Accepted: a non-empty "
            f"list from {PROXIES}.")
    scores = {}
    if "params" in proxies:
        scores["params"] = float(model.count_params())
    if "naswot" in proxies:
        scores["naswot"] = naswot(model, x)
    if "synflow" in proxies:  # Last: it replaces the weights.
        scores["synflow"] = synflow(model, x.shape[1:])
    return scores


class Ranking:
    """Candidates ordered best first by a proxy vote.

    Attributes:
        ops: The op lists, best first.
        scores: Their `{proxy: value}`, in the same order.
        seconds: Wall time of the scoring.
        scored: How many candidates were scored.
    """

    def __init__(self, ops, scores, seconds):
        self.ops = ops
        self.scores = scores
        self.seconds = seconds

    @property
    def scored(self):
        return len(self.ops)


def _vote(scores, proxies):
    """Mean rank (0 is best) of each candidate under `proxies`."""
    n = len(scores)
    total = np.zeros(n)
    for proxy in proxies:
        values = np.array([s[proxy] for s in scores], dtype="float64")
        values = np.nan_to_num(values, nan=-np.inf)
        order = np.argsort(-values, kind="stable")
        ranks = np.empty(n)
        ranks[order] = np.arange(n)
        total += ranks
    return total / len(proxies)


def rank(space, x, task, *, pool_size=100, proxies=("naswot", "synflow"),
         batch_size=64, head="auto", seed=None, time_limit=None):
    """Draw up to `pool_size` distinct valid candidates of a bound `space`,
    score each on one batch of `x`, and order them by the proxies' vote.

    Args:
        space: A bound `SearchSpace`.
        x: Training samples (an array); the first `batch_size` of a seeded
            shuffle are the batch.
        task: The `task.Task` (for the head).
        pool_size: Candidates to draw. Defaults to `100`.
        proxies: Proxies that vote. Defaults to `("naswot", "synflow")`.
        batch_size: Samples in the batch. Defaults to `64`.
        head: As in `NASSearch`. Defaults to `"auto"`.
        seed: Optional seed of the draws and the batch.
        time_limit: Optional seconds after which no new candidate is
            scored (at least two are).

    Returns:
        A `Ranking`.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    batch = np.asarray(x)[rng.permutation(len(x))[:batch_size]]
    seen, pool, scores = set(), [], []
    attempts = 0
    while len(pool) < pool_size and attempts < 20 * pool_size:
        attempts += 1
        if (time_limit is not None and len(pool) >= 2
                and time.perf_counter() - start > time_limit):
            break
        ops = space.random_ops(rng)
        if ops is None:
            break
        if tuple(ops) in seen:
            continue
        seen.add(tuple(ops))
        keras.backend.clear_session()
        try:
            model = builder.build_from_plan(space.plan(ops, head=head),
                                            task.activation,
                                            op_table=space.op_table)
            scores.append(score(model, batch, proxies))
        except Exception as e:  # Its trial would fail too; not ours to stop.
            _logger.debug("not scored: %s (%s: %s)", ops, type(e).__name__, e)
            continue
        pool.append(ops)
    keras.backend.clear_session()
    if not pool:
        return Ranking([], [], time.perf_counter() - start)
    order = np.argsort(_vote(scores, proxies), kind="stable")
    return Ranking([pool[i] for i in order], [scores[i] for i in order],
                   time.perf_counter() - start)
