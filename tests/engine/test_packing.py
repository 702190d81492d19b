"""Packed training (`engine.packing`, `pack_runner`, `pack_loop`): several
candidates in one compiled model, each still its own trial."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas.engine import packing
from keras_nas.engine.pack_size import PackSize

from tests.conftest import digits


def _dataset(x, y, batch):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


def search_outcome(directory, pack_size, trials=3, epochs=5, patience=1,
                   seed=3, **search_options):
    """Each trial's ops, epochs, value and checkpoint weights, from a
    random search over unshuffled datasets (the same batches packed or
    alone)."""
    (x, y), _ = digits(240)
    search = keras_nas.NASSearch(
        strategy="random", max_trials=trials, seed=seed,
        directory=str(directory), project_name=f"pack{pack_size}",
        halving=search_options.pop("halving", False), warm_start=False,
        initial_architectures=[],
        training=keras_nas.Training(patience=patience),
        engine=keras_nas.KerasTunerEngine(pack_size=pack_size),
        **search_options)
    # 80 validation samples in batches of 32: a smaller last batch, which
    # Keras' own per-output loss log would weigh as a whole one.
    search.fit(_dataset(x[:160], y[:160], 32), epochs=epochs, verbose=0,
               validation_data=_dataset(x[160:], y[160:], 32))
    out = {}
    for record in search.results():
        trial = search.tuner.oracle.get_trial(record.trial_id)
        weights = ([w.tolist() for w in search.tuner.load_model(
            trial).get_weights()] if record.status == "COMPLETED" else None)
        out[record.trial_id] = {
            "ops": list(record.ops), "status": record.status,
            "epochs": record.epochs, "value": record.value,
            "weights": weights}
    return out


def assert_same_training(packed, alone):
    assert packed.keys() == alone.keys()
    for trial_id, a in alone.items():
        p = packed[trial_id]
        assert p["ops"] == a["ops"] and p["status"] == a["status"]
        assert p["epochs"] == a["epochs"], trial_id
        if a["value"] is not None:
            assert p["value"] == pytest.approx(a["value"], abs=1e-4)
        for wp, wa in zip(p["weights"] or [], a["weights"] or []):
            np.testing.assert_allclose(wp, wa, rtol=1e-3, atol=1e-4)


def test_a_pack_trains_each_candidate_as_it_trains_alone(tmp_path):
    alone = search_outcome(tmp_path, 1, trials=4, epochs=6, patience=0)
    packed = search_outcome(tmp_path, 4, trials=4, epochs=6, patience=0)
    assert_same_training(packed, alone)
    # Early stopping decided for each: not every candidate ran as long.
    assert len({r["epochs"] for r in alone.values()}) > 1, alone


def test_a_pack_trains_as_alone_on_jax(tmp_path):
    pytest.importorskip("jax")
    code = f"""
import json, sys
sys.path.insert(0, {os.getcwd()!r})
import keras
assert keras.backend.backend() == "jax"
from tests.engine.test_packing import search_outcome
print(json.dumps([search_outcome({str(tmp_path)!r}, size, trials=3,
                                 epochs=3) for size in (1, 3)]))
"""
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, timeout=300,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    alone, packed = json.loads(out.stdout.strip().splitlines()[-1])
    assert_same_training(packed, alone)


def test_halving_decides_for_each_candidate_of_a_pack(tmp_path):
    halving = keras_nas.Halving(min_epochs=1, reduction_factor=2)
    alone = search_outcome(tmp_path / "a", 1, trials=4, epochs=4,
                           patience=3, halving=halving)
    packed = search_outcome(tmp_path / "p", 4, trials=4, epochs=4,
                            patience=3, halving=halving)
    assert_same_training(packed, alone)
    assert len({r["epochs"] for r in packed.values()}) > 1, packed


class Diverge(keras.layers.Layer):
    """An op whose loss is NaN from the first batch."""

    def call(self, x):
        return x * float("nan")


def test_a_diverging_candidate_fails_alone_and_the_pack_goes_on(tmp_path):
    from tests.conftest import tabular

    x, y = tabular(120)
    space = keras_nas.SearchSpace({"nan": Diverge, "dense-16": None,
                                   "dense-32": None}, max_depth=1)
    search = keras_nas.NASSearch(
        space=space, strategy="random", max_trials=3, seed=0,
        directory=str(tmp_path), warm_start=False, halving=False,
        initial_architectures=[["dense-16"], ["nan"], ["dense-32"]],
        engine=keras_nas.KerasTunerEngine(pack_size=3))
    search.fit(x, y, epochs=2, verbose=0)
    records = {tuple(r.ops): r for r in search.results()}
    assert records[("nan",)].status == "FAILED"
    assert "loss became nan" in records[("nan",)].reason
    for ops in (("dense-16",), ("dense-32",)):
        assert records[ops].status == "COMPLETED"
        assert records[ops].epochs == 2


def test_pack_size_is_checked_and_saved():
    with pytest.raises(ValueError, match=r"`pack_size` must be 'auto' or an "
                       r"integer of at least 1.*Received: pack_size=0"):
        keras_nas.KerasTunerEngine(pack_size=0)
    with pytest.raises(ValueError, match="pack_size='big'"):
        PackSize("big")
    engine = keras_nas.KerasTunerEngine(pack_size=3)
    assert keras_nas.KerasTunerEngine.from_config(
        engine.get_config()) == engine
    assert keras_nas.KerasTunerEngine().pack_size == "auto"


def test_auto_fills_a_pack_by_flops_on_this_cpu():
    from keras_nas.engine import pack_size as module

    kind, cores = module.device()
    assert kind == "cpu" and cores >= 1
    auto = PackSize("auto")
    small = {"params": 1e3, "flops": 1e3}
    assert auto.most() == module.MOST["cpu"]
    assert auto.has_room([small] * (auto.most() - 1))
    assert not auto.has_room([small] * auto.most())
    big = {"params": 1e5, "flops": module.CPU_FLOPS_PER_CORE * cores}
    assert not auto.has_room([big])
    assert PackSize(2).has_room([big]) and not PackSize(2).has_room([big] * 2)


def test_branch_logs_are_a_candidates_own():
    logs = {"loss": 3.0, "p0_loss": 1.0, "p1_loss": 2.0, "p1_accuracy": 0.5,
            "val_p1_loss": 2.5, "val_p1_accuracy": 0.4, "val_loss": 3.5}
    assert packing.branch_logs(logs, "p1") == {
        "loss": 2.0, "accuracy": 0.5, "val_loss": 2.5, "val_accuracy": 0.4}


def test_optimizer_state_follows_the_weights():
    keras.utils.set_random_seed(0)
    a = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    b = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    for m in (a, b):
        m.compile("adam", "mse")
    pack = packing.pack_model([a, b])
    pack.compile("adam", loss={"p0": "mse", "p1": "mse"})
    x = np.random.rand(16, 4).astype("float32")
    pack.fit(x, {"p0": np.zeros((16, 3)), "p1": np.ones((16, 2))}, epochs=1,
             verbose=0)
    b.optimizer.build(b.trainable_variables)
    packing.copy_optimizer_state(pack.optimizer, b.optimizer)
    assert int(b.optimizer.iterations) == int(pack.optimizer.iterations) == 1
    moments = {v.name: np.asarray(v) for v in pack.optimizer.variables}
    for v in b.optimizer.variables:
        if "kernel" in v.name or "bias" in v.name:
            np.testing.assert_array_equal(np.asarray(v), moments[v.name])
            assert np.any(np.asarray(v) != 0)


def test_promoted_candidates_train_on_alone_beside_packs(tmp_path):
    (x, y), _ = digits(200)
    search = keras_nas.NASSearch(
        strategy="random", max_trials=8, seed=1, directory=str(tmp_path),
        warm_start=False, initial_architectures=[],
        halving=keras_nas.Halving(min_epochs=1, reduction_factor=2,
                                  mode="promotion"),
        engine=keras_nas.KerasTunerEngine(pack_size=4))
    search.fit(x, y, epochs=4, verbose=0)
    records = search.results()
    assert len(records) == 8 and all(r.status == "COMPLETED"
                                     for r in records)
    children = [r for r in records if r.continues is not None]
    assert children  # Each went on from its parent's rung, alone.
    by_id = {r.trial_id: r for r in records}
    assert all(r.epochs > by_id[r.continues].epochs for r in children)
