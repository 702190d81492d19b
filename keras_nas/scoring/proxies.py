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

import math

import keras
import numpy as np

from keras_nas.data import task as task_module
from keras_nas.space import builder  # noqa: F401 (the docstring example)

__all__ = [
    "PROXIES",
    "score",
    "vote",
    "naswot",
    "synflow",
    "snip",
    "grad_norm",
    "jacob_cov",
]

#: The proxy names `score` accepts, and whether each needs labels.
PROXIES = {
    "naswot": False,
    "synflow": False,
    "snip": True,
    "grad_norm": True,
    "jacob_cov": False,
    "params": False,
}


def check_proxies(proxies, y):
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
    proxies = check_proxies(proxies, y_batch)
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
