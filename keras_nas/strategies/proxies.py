"""Zero-cost proxies: score an untrained candidate in milliseconds.

Training a candidate for a few epochs costs seconds; a proxy computed on one
mini-batch of an untrained model costs milliseconds. If a proxy ranks
candidates roughly as their trained accuracy does, a search can start from
the best-scored ones instead of random ones (a "warm start"). Whether it does
on a given data set is an empirical question: `benchmarks/proxies.py`
measures it, and only the proxies that beat the parameter count there are
worth using.

The proxies, each "higher is better":

- `naswot` (Mellor et al. 2021, "Neural Architecture Search without
  Training"): the log-determinant of the kernel `K[i, j] = units - hamming(
  c_i, c_j)` of the binary ReLU codes `c_i` of the mini-batch's samples.
  Forward only; needs no labels.
- `synflow` (Tanaka et al. 2020, used by Abdelfattah et al. 2021, "Zero-Cost
  Proxies for Lightweight NAS"): with every weight replaced by its absolute
  value and an all-ones input, `sum(theta * dR/dtheta)` where `R` is the sum
  of the head's pre-activation outputs. Returned as its logarithm, since it
  grows geometrically with depth. Needs no data and no labels.
- `snip` (Lee et al. 2019, in Abdelfattah et al.): `sum |theta * dL/dtheta|`
  for the task's loss `L` on the mini-batch. Needs labels.
- `grad_norm` (Abdelfattah et al.): the Euclidean norm of `dL/dtheta`.
  Needs labels.
- `jacob_cov` (Mellor et al. 2020, v1 of NASWOT, in Abdelfattah et al.):
  minus a penalty on the eigenvalues of the correlation matrix of the
  per-sample input Jacobians; higher when samples' Jacobians are less
  correlated.
- `params`: the number of weights, the baseline a proxy must beat.

Several proxies combine by "vote" (Abdelfattah et al.): each candidate's rank
under each proxy, averaged, so no proxy's scale dominates. On digits
(`benchmarks/proxies.py`, 120 architectures) NASWOT and jacob_cov, and their
vote (the default), rank trained accuracy better than the parameter count;
synflow, snip and grad_norm do not.

Where gradients are needed, the one backend-specific piece is
`_value_and_grads`: `tf.GradientTape` under TensorFlow, `jax.grad` over
`stateless_call` under JAX, `.backward()` under torch.
"""

import collections
import logging
import math
import time

import keras
import numpy as np

from keras_nas.space import builder
from keras_nas.data.prepare import infer_task
from keras_nas.data import task as task_module

__all__ = [
    "PROXIES",
    "Ranked",
    "score",
    "rank_architectures",
    "vote",
    "naswot",
    "synflow",
    "snip",
    "grad_norm",
    "jacob_cov",
    "Ranking",
    "rank",
]

_logger = logging.getLogger(__name__)

#: The proxy names `score` accepts, and whether each needs labels.
PROXIES = {
    "naswot": False,
    "synflow": False,
    "snip": True,
    "grad_norm": True,
    "jacob_cov": False,
    "params": False,
}


class Ranked(collections.namedtuple("Ranked", "ops scores vote seconds")):
    """One scored candidate.

    Attributes:
        ops: The op list.
        scores: Mapping from proxy name to its score (higher is better).
        vote: The mean, over the proxies, of the candidate's rank fraction,
            in [0, 1]; 1 is first under every proxy.
        seconds: Wall time to build and score the candidate.
    """


def _check_proxies(proxies, y):
    if isinstance(proxies, str):
        proxies = (proxies,)
    proxies = tuple(proxies)
    unknown = [p for p in proxies if p not in PROXIES]
    if not proxies or unknown:
        raise ValueError(
            f"`proxies` must be a non-empty list of names from "
            f"{sorted(PROXIES)}. Received: proxies={proxies!r}."
        )
    needs = [p for p in proxies if PROXIES[p]]
    if needs and y is None:
        raise ValueError(
            f"The proxies {needs} need labels, but `y_batch` is None. Pass "
            "the labels, or use only label-free proxies "
            f"{[p for p in PROXIES if not PROXIES[p]]}."
        )
    return proxies


def _is_relu(layer):
    """Whether the layer's output is a ReLU's (its last step is a ReLU)."""
    if isinstance(layer, keras.layers.ReLU):
        return True
    activation = getattr(layer, "activation", None)
    return activation is keras.activations.relu or (
        getattr(activation, "__name__", None) == "relu"
    )


def naswot(model, x_batch):
    """NASWOT: log|K| of the Hamming kernel of the ReLU codes of `x_batch`.

    The codes are read after each ReLU-like layer (a layer with
    `activation="relu"` or a `keras.layers.ReLU`), by calling `model.layers`
    one by one in inference mode. A unit's code `relu(z) > 0` is the same as
    the pre-activation's `z > 0`, which is Mellor et al.'s definition, so
    reading the outputs loses nothing and needs no re-traced sub-model.

    `K + I` is used instead of `K`: `K` is singular when two samples share a
    code (or when the model has no ReLU at all), and `log|K|` would be
    `-inf`; against entries of the order of the number of units, `I` changes
    nothing else. A model without ReLU units scores 0.
    """
    x = keras.ops.convert_to_tensor(x_batch)
    n = int(x.shape[0])
    kernel = keras.ops.zeros((n, n), dtype="float32")
    for layer in model.layers:
        x = layer(x, training=False)
        if _is_relu(layer):
            codes = keras.ops.cast(
                keras.ops.reshape(x, (n, -1)) > 0, "float32"
            )
            # Agreements = both on + both off = units - Hamming distance.
            kernel = (
                kernel
                + keras.ops.matmul(codes, keras.ops.transpose(codes))
                + keras.ops.matmul(1.0 - codes, keras.ops.transpose(1.0 - codes))
            )
    # The 64x64 log-determinant in float64: float32 loses it for wide nets.
    kernel = np.asarray(keras.ops.convert_to_numpy(kernel), dtype="float64")
    sign, logdet = np.linalg.slogdet(kernel + np.eye(n))
    return float(logdet) if sign > 0 else float("-inf")


def _value_and_grads(model, fn, x, wrt="weights"):
    """`fn(model(x))` and its gradients, on whatever backend Keras runs.

    Args:
        fn: Maps the model's output tensor to a scalar tensor.
        wrt: `"weights"` for one gradient per trainable variable, or
            `"input"` for the gradient with respect to `x`.

    Returns:
        `(value, grads)` as NumPy: a float and a list of arrays (one per
        trainable variable, or one for the input).
    """
    backend = keras.backend.backend()
    x = keras.ops.convert_to_tensor(x)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            if wrt == "input":
                tape.watch(x)
            value = fn(model(x, training=False))
        sources = [x] if wrt == "input" else model.trainable_variables
        grads = tape.gradient(value, sources)
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def f(tv, inputs):
            out, _ = model.stateless_call(tv, frozen, inputs, training=False)
            return fn(out)

        argnums = 1 if wrt == "input" else 0
        value, grads = jax.value_and_grad(f, argnums=argnums)(trainable, x)
        grads = [grads] if wrt == "input" else grads
    elif backend == "torch":
        import torch

        if wrt == "input":
            x = x.detach().clone().requires_grad_(True)
        for v in model.trainable_variables:
            v.value.grad = None
        value = fn(model(x, training=False))
        sources = [x] if wrt == "input" else [v.value for v in model.trainable_variables]
        grads = torch.autograd.grad(value, sources, allow_unused=True)
    else:
        raise NotImplementedError(
            f"The gradient-based proxies (synflow, snip, grad_norm, "
            f"jacob_cov) need gradients, which keras_nas computes under the "
            f"tensorflow, jax and torch backends. Received: backend "
            f"{backend!r}. Use `proxies=('naswot', 'params')`, or another "
            "backend."
        )
    sizes = [v.shape for v in model.trainable_variables]
    out = []
    for i, g in enumerate(grads):
        if g is None:  # A variable that does not reach the output.
            out.append(np.zeros(sizes[i] if wrt == "weights" else x.shape))
        else:
            out.append(np.asarray(keras.ops.convert_to_numpy(g), "float64"))
    return float(keras.ops.convert_to_numpy(value)), out


class _LinearHead:
    """Within the block, the last layer's activation is linear.

    The gradient proxies use the head's pre-activation output: the sum of a
    softmax is 1 whatever the weights, so its gradient is zero.
    """

    def __init__(self, model):
        self.layer = model.layers[-1] if model.layers else None
        self.saved = getattr(self.layer, "activation", None)

    def __enter__(self):
        if self.saved is not None:
            self.layer.activation = keras.activations.linear

    def __exit__(self, *exc):
        if self.saved is not None:
            self.layer.activation = self.saved


def synflow(model, x_batch):
    """log synflow: `log sum(theta * dR/dtheta)` with |weights|, ones input.

    The weights are restored afterwards. BatchNormalization and Dropout run
    in inference mode, so an untrained model's are (near) identities.
    """
    variables = model.trainable_variables
    saved = [keras.ops.convert_to_numpy(v.value) for v in variables]
    ones = np.ones((1,) + tuple(np.shape(x_batch)[1:]), dtype="float32")
    try:
        for v, w in zip(variables, saved):
            v.assign(np.abs(w))
        with _LinearHead(model):
            _, grads = _value_and_grads(model, keras.ops.sum, ones)
        total = sum(
            float(np.sum(np.abs(w).astype("float64") * g))
            for w, g in zip(saved, grads)
        )
    finally:
        for v, w in zip(variables, saved):
            v.assign(w)
    if not math.isfinite(total):
        return float("inf")  # Overflowed float32: larger than any finite one.
    return math.log(total) if total > 0 else float("-inf")


def _loss_fn(y_batch, task):
    """The task's loss of the model's output, as `fn(output) -> scalar`."""
    kind = task.kind if isinstance(task, task_module.Task) else task
    if kind not in task_module.KINDS:
        raise ValueError(
            f"`task` must be one of {sorted(task_module.KINDS)} or a "
            f"`keras_nas.task.Task`. Received: task={task!r}."
        )
    loss = keras.losses.get(task_module.KINDS[kind][1])
    y = np.asarray(y_batch)
    if kind != "multiclass":
        # The plain loss functions do not align (n,) targets with an (n, 1)
        # output; they would broadcast to (n, n).
        y = y.astype("float32").reshape(len(y), -1)
    y = keras.ops.convert_to_tensor(y)
    return lambda out: keras.ops.mean(loss(y, out))


def snip(model, x_batch, y_batch, task="multiclass"):
    """SNIP: `sum |theta * dL/dtheta|` for the task's loss on the batch."""
    _, grads = _value_and_grads(model, _loss_fn(y_batch, task), x_batch)
    weights = [keras.ops.convert_to_numpy(v.value) for v in model.trainable_variables]
    return float(sum(np.sum(np.abs(w * g)) for w, g in zip(weights, grads)))


def grad_norm(model, x_batch, y_batch, task="multiclass"):
    """grad_norm: the Euclidean norm of `dL/dtheta` on the batch."""
    _, grads = _value_and_grads(model, _loss_fn(y_batch, task), x_batch)
    return float(math.sqrt(sum(float(np.sum(g * g)) for g in grads)))


def jacob_cov(model, x_batch):
    """jacob_cov: `-sum(log(v + k) + 1 / (v + k))`, `v` the eigenvalues of
    the correlation matrix of the per-sample input Jacobians, `k = 1e-5`.

    In inference mode each output depends on its own sample only, so the
    gradient of the summed (pre-activation) outputs holds every sample's
    Jacobian. A sample whose Jacobian is constant (a dead network) counts as
    fully correlated with every other: the worst case, not a NaN.
    """
    with _LinearHead(model):
        _, (jac,) = _value_and_grads(model, keras.ops.sum, x_batch, wrt="input")
    jac = jac.reshape(len(jac), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(jac)
    corr = np.where(np.isfinite(corr), corr, 1.0)
    v = np.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-np.sum(np.log(np.maximum(v, 0) + k) + 1.0 / (np.maximum(v, 0) + k)))


def score(model, x_batch, y_batch=None, proxies=("naswot", "jacob_cov"),
          task="multiclass"):
    """Score one untrained model under each proxy.

    Args:
        model: A built Keras model, e.g. from `keras_nas.build_model`.
        x_batch: One mini-batch of inputs, shape `(batch,) + input_shape`.
        y_batch: Its labels, as the model's targets (class indices for a
            classifier). Needed by `snip` and `grad_norm` only. Defaults to
            `None`.
        proxies: Names from `PROXIES`. Defaults to `("naswot", "jacob_cov")`, the
            best vote measured on digits (`benchmarks/proxies.py`).
        task: The model's task, for the loss of `snip` and `grad_norm`: a
            name of `keras_nas.task.KINDS` or a `keras_nas.task.Task`.
            Defaults to `"multiclass"`.

    Returns:
        A dict from proxy name to a float; higher is better for each.

    >>> model = builder.build_model(["dense-16"], (4,), num_classes=3)
    >>> s = score(model, np.ones((8, 4), "float32"), proxies=["params"])
    >>> s["params"]
    131.0
    """
    proxies = _check_proxies(proxies, y_batch)
    x_batch = np.asarray(x_batch, dtype="float32")
    if x_batch.ndim < 2 or len(x_batch) < 2:
        raise ValueError(
            "`x_batch` must be a batch of at least 2 samples, of shape "
            f"(batch,) + input_shape. Received: shape {x_batch.shape}."
        )
    out = {}
    for name in proxies:
        if name == "naswot":
            out[name] = naswot(model, x_batch)
        elif name == "synflow":
            out[name] = synflow(model, x_batch)
        elif name == "snip":
            out[name] = snip(model, x_batch, y_batch, task)
        elif name == "grad_norm":
            out[name] = grad_norm(model, x_batch, y_batch, task)
        elif name == "jacob_cov":
            out[name] = jacob_cov(model, x_batch)
        else:
            out[name] = float(model.count_params())
    return out


def vote(score_dicts, proxies=None):
    """The mean rank fraction of each candidate across the proxies.

    Args:
        score_dicts: One dict of scores per candidate, as `score` returns.
        proxies: The proxies to combine. Defaults to every key of the first
            dict.

    Returns:
        A list of floats in [0, 1], one per candidate; 1 means best under
        every proxy. Ties share their mean rank.
    """
    if not score_dicts:
        return []
    proxies = list(proxies or score_dicts[0])
    n = len(score_dicts)
    if n == 1:
        return [1.0]
    total = np.zeros(n)
    for name in proxies:
        values = np.array([d[name] for d in score_dicts], dtype="float64")
        values = np.where(np.isnan(values), -np.inf, values)
        total += _average_ranks(values) / (n - 1)
    return (total / len(proxies)).tolist()


def _average_ranks(values):
    """Ranks from 0 (lowest) to n-1, ties sharing their mean."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    for v in np.unique(values):
        tied = values == v
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def rank_architectures(space, ops_lists, x, y=None, task=None,
                       proxies=("naswot", "jacob_cov"), batch_size=64, seed=0,
                       time_limit=None):
    """Build each op list untrained, score it, and sort by the vote.

    Args:
        space: A `SearchSpace`; its op table resolves the names. Bound to
            `x`'s sample shape here if it is not yet.
        ops_lists: The candidates, each a list of op names.
        x: Inputs, shape `(n,) + input_shape`; a seeded mini-batch of
            `batch_size` of them is scored (the same for every candidate).
        y: Labels of `x`, for the task and the head size. Defaults to `None`
            (then `task` must be `"regression"` or the proxies label-free,
            and a multiclass head needs `y`).
        task: `None` (inferred from `y`), `"multiclass"`, `"binary"` or
            `"regression"`. Defaults to `None`.
        proxies: Names from `PROXIES`. Defaults to `("naswot", "jacob_cov")`, the
            best vote measured on digits (`benchmarks/proxies.py`).
        batch_size: Samples in the mini-batch. Defaults to `64`.
        seed: Seeds the mini-batch and each candidate's initial weights, so
            the ranking is deterministic. Defaults to `0`.
        time_limit: Seconds after which the remaining candidates are left
            unscored (and left out of the result); the first candidate is
            always scored. Defaults to `None`.

    Returns:
        A list of `Ranked(ops, scores, vote, seconds)`, best vote first.
    """
    x = np.asarray(x, dtype="float32")
    if y is None and task != "regression":
        raise ValueError(
            "`y` is needed to size the head of a classifier. Received: "
            f"y=None with task={task!r}. Pass the labels, or "
            "task='regression'."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
        raise ValueError(
            "`batch_size` must be an integer of at least 2. Received: "
            f"batch_size={batch_size!r}."
        )

    t = (infer_task(y, task) if y is not None
         else task_module.Task("regression"))
    proxies = _check_proxies(proxies, y)
    if space.input_shape is None:
        space = space.bind(x.shape[1:], output_units=t.output_units)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(x), size=min(batch_size, len(x)), replace=False)
    x_batch = x[pick]
    y_batch = t.encode(np.asarray(y)[pick]) if y is not None else None
    start = time.perf_counter()
    scored = []
    for ops in ops_lists:
        # The first is always scored, so a warm start never comes back empty.
        if (scored and time_limit is not None
                and time.perf_counter() - start > time_limit):
            break
        t0 = time.perf_counter()
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = builder.build_model(
            list(ops), space.input_shape, task=t.kind,
            num_classes=t.num_classes, num_targets=t.num_targets,
            op_table=space.op_table,
        )
        s = score(model, x_batch, y_batch, proxies, task=t)
        scored.append((list(ops), s, time.perf_counter() - t0))
    votes = vote([s for _, s, _ in scored], proxies)
    ranked = [Ranked(o, s, v, sec) for (o, s, sec), v in zip(scored, votes)]
    return sorted(ranked, key=lambda r: -r.vote)


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


def rank(space, x, task, *, y=None, pool_size=100,
         proxies=("naswot", "jacob_cov"), batch_size=64, head="auto",
         seed=None, time_limit=None):
    """Draw up to `pool_size` distinct valid candidates of a bound `space`,
    score each on one batch of `x`, and order them by the proxies' vote.

    Args:
        space: A bound `SearchSpace`.
        x: Training samples (an array); the first `batch_size` of a seeded
            shuffle are the batch.
        task: The `task.Task` (for the head, and the loss of `snip` and
            `grad_norm`).
        y: The targets of `x` (as `task.encode` gives them), for the
            proxies that need labels. Defaults to `None`.
        pool_size: Candidates to draw. Defaults to `100`.
        proxies: Proxies that vote. Defaults to `("naswot", "jacob_cov")`.
        batch_size: Samples in the batch. Defaults to `64`.
        head: As in `NASSearch`. Defaults to `"auto"`.
        seed: Optional seed of the draws and the batch.
        time_limit: Optional seconds after which no new candidate is
            scored (at least two are).

    Returns:
        A `Ranking`.
    """
    start = time.perf_counter()
    proxies = _check_proxies(proxies, y)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(x))[:batch_size]
    batch = np.asarray(x, dtype="float32")[pick]
    y_batch = None if y is None else np.asarray(y)[pick]
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
            scores.append(score(model, batch, y_batch, proxies, task=task))
        except Exception as e:  # Its trial would fail too; not ours to stop.
            _logger.debug("not scored: %s (%s: %s)", ops, type(e).__name__, e)
            continue
        pool.append(ops)
    keras.backend.clear_session()
    if not pool:
        return Ranking([], [], time.perf_counter() - start)
    order = np.argsort(-np.array(vote(scores, proxies)), kind="stable")
    return Ranking([pool[i] for i in order], [scores[i] for i in order],
                   time.perf_counter() - start)
