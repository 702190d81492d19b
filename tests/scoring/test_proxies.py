"""Zero-cost proxies: finite on every input kind, a real property of NASWOT,
deterministic rankings, and the gradient proxies under JAX."""

import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_nas import SearchSpace, build_model
from keras_nas.data.task import Task
from keras_nas.scoring import proxies, ranking

from tests.conftest import SHAPES

OPS = {
    "image": ["conv3x3-16", "maxpool", "dense-32"],
    "sequence": ["conv3-16", "maxpool", "dense-32"],
    "tabular": ["dense-32", "dropout", "dense-16"],
}


def batch(kind, n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + SHAPES[kind]).astype("float32")
    return x, rng.integers(0, 3, n).astype("int32")


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_every_proxy_is_finite_on_every_input_kind(kind):
    model = build_model(OPS[kind], SHAPES[kind], num_classes=3)
    x, y = batch(kind)
    scores = proxies.score(model, x, y, proxies=list(proxies.PROXIES))
    assert set(scores) == set(proxies.PROXIES)
    for name, value in scores.items():
        assert isinstance(value, float) and math.isfinite(value), (name, value)
    assert scores["params"] == model.count_params()


def test_label_proxies_follow_the_task():
    x, y = batch("tabular")
    binary = build_model(OPS["tabular"], SHAPES["tabular"], task="binary")
    regression = build_model(OPS["tabular"], SHAPES["tabular"], task="regression")
    for model, task, labels in ((binary, "binary", y % 2),
                                (regression, "regression", x[:, 0])):
        s = proxies.score(model, x, labels, ["snip", "grad_norm"], task=task)
        assert all(math.isfinite(v) and v > 0 for v in s.values()), (task, s)
    space = SearchSpace().bind(SHAPES["tabular"])
    ranked = ranking.rank(space, x, Task("binary", (0, 1)), y=y % 2,
                          candidates=[OPS["tabular"]], seed=0)
    assert set(ranked.scores[0]) == {"naswot", "jacob_cov"}


def test_scoring_leaves_the_weights_and_head_unchanged():
    model = build_model(OPS["image"], SHAPES["image"], num_classes=3)
    before = [w.copy() for w in model.get_weights()]
    proxies.score(model, *batch("image"), proxies=["synflow", "jacob_cov"])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.layers[-1].activation is keras.activations.softmax


def test_naswot_tells_wide_networks_from_degenerate_ones():
    # A wide ReLU layer gives every sample its own code; a single-unit one
    # gives at most two codes, so the kernel is near rank 2.
    x, _ = batch("tabular", n=32)
    wide = build_model(["dense-256"], SHAPES["tabular"], num_classes=3)
    narrow = keras.Sequential([
        keras.Input(SHAPES["tabular"]),
        keras.layers.Dense(1, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    no_relu = build_model(["dropout"], SHAPES["tabular"], num_classes=3)
    s_wide = proxies.naswot(wide, x)
    s_narrow = proxies.naswot(narrow, x)
    assert s_wide > s_narrow + 50
    assert proxies.naswot(no_relu, x) == 0.0  # log|I|: no ReLU, no code.


def test_vote_averages_rank_fractions():
    scores = [{"a": 1.0, "b": 30.0}, {"a": 2.0, "b": 10.0}, {"a": 3.0, "b": 20.0}]
    assert proxies.vote(scores) == pytest.approx([0.5, 0.25, 0.75])
    assert proxies.vote(scores, ["a"]) == pytest.approx([0.0, 0.5, 1.0])


def test_ranking_is_deterministic_under_a_seed():
    x, y = batch("image", n=40)
    space = SearchSpace(["conv3x3-16", "maxpool", "dense-32", "dense-64"],
                        max_depth=3)
    lists = [["dense-32"], ["conv3x3-16", "dense-64"],
             ["conv3x3-16", "maxpool", "dense-32"], ["maxpool", "dense-64"]]
    space = space.bind(SHAPES["image"], output_units=3)
    task = Task("multiclass", (0, 1, 2))
    first = ranking.rank(space, x, task, y=y, candidates=lists,
                         batch_size=16, seed=3)
    again = ranking.rank(space, x, task, y=y, candidates=lists,
                         batch_size=16, seed=3)
    assert first.ops == again.ops and first.scores == again.scores
    assert sorted(map(tuple, first.ops)) == sorted(map(tuple, lists))
    assert first.votes == sorted(first.votes, reverse=True)
    assert first.votes[0] > first.votes[-1]
    assert all(t > 0 for t in first.times)


def test_time_limit_leaves_the_rest_unscored():
    x, y = batch("tabular", n=20)
    lists = [["dense-32"], ["dense-64"], ["dense-16"]]
    ranked = ranking.rank(SearchSpace().bind(SHAPES["tabular"],
                                             output_units=3),
                          x, Task("multiclass", (0, 1, 2)), y=y,
                          candidates=lists, batch_size=8, time_limit=0.0)
    assert ranked.scored == 1


def test_bad_arguments_name_what_is_accepted():
    model = build_model(["dense-16"], (4,), num_classes=3)
    x = np.ones((4, 4), "float32")
    with pytest.raises(ValueError, match=r"`proxies` must be .*Received: proxies=\('nasbot',\)"):
        proxies.score(model, x, proxies=["nasbot"])
    with pytest.raises(ValueError, match=r"\['snip'\] need labels"):
        proxies.score(model, x, proxies=["snip"])
    with pytest.raises(ValueError, match="`x_batch` must be a batch of at least 2"):
        proxies.score(model, x[:1])
    with pytest.raises(ValueError, match="`batch_size` must be an integer"):
        ranking.rank(SearchSpace().bind((4,), output_units=3), x,
                     Task("multiclass", (0, 1, 2)), y=np.array([0, 1, 2, 0]),
                     candidates=[["dense-16"]], batch_size=1)


def test_gradient_proxies_under_jax_equal_tensorflow(tmp_path):
    # The same weights and batch under both backends give the same scores:
    # JAX's gradients (`jax.grad` over `stateless_call`) are TensorFlow's.
    pytest.importorskip("jax")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 16)
    ops = ["conv3x3-16", "maxpool", "dense-32"]
    model = build_model(ops, (8, 8, 1), num_classes=3)
    np.savez(tmp_path / "w.npz", x=x, y=y, *model.get_weights())
    expected = proxies.score(model, x, y, list(proxies.PROXIES))
    code = f"""
import json, sys
import numpy as np
import keras
from keras_nas import build_model
from keras_nas.scoring import proxies
assert keras.backend.backend() == "jax"
f = np.load({str(tmp_path / "w.npz")!r})
model = build_model({ops!r}, (8, 8, 1), num_classes=3)
model.set_weights([f[f"arr_{{i}}"] for i in range(len(model.weights))])
before = [w.copy() for w in model.get_weights()]
scores = proxies.score(model, f["x"], f["y"], list(proxies.PROXIES))
assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
print(json.dumps(scores))
print("tensorflow" in sys.modules)
"""
    env = dict(os.environ, KERAS_BACKEND="jax")
    out = subprocess.run([sys.executable, "-c", code], env=env, timeout=300,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "False"  # Scoring under JAX needs no TensorFlow.
    got = json.loads(lines[-2])
    for name in proxies.PROXIES:
        assert got[name] == pytest.approx(expected[name], rel=1e-3,
                                          abs=1e-4), name
