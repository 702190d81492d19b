import math

import keras
import pytest

from keras_nas.scoring import latency


@pytest.fixture(autouse=True)
def _fresh_cache():
    latency.clear_cache()
    yield
    latency.clear_cache()


def test_op_list_is_timed_once_then_cached():
    ops = ["conv3x3-16", "maxpool", "dense-16"]
    ms = latency.measure_latency(ops, (8, 8, 1), repeats=3)
    assert ms > 0 and math.isfinite(ms)
    assert latency.cache_info() == {"hits": 0, "misses": 1, "size": 1}
    assert latency.measure_latency(ops, (8, 8, 1), repeats=3) == ms
    assert latency.cache_info() == {"hits": 1, "misses": 1, "size": 1}
    # Another batch size is another measurement.
    latency.measure_latency(ops, (8, 8, 1), batch_size=4, repeats=3)
    assert latency.cache_info()["misses"] == 2


def test_model_and_builder():
    calls = []

    def builder():
        calls.append(1)
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])

    assert latency.measure_latency(builder(), (5,), repeats=2) > 0
    latency.measure_latency(builder, (5,), repeats=2, key="dense3")
    latency.measure_latency(builder, (5,), repeats=2, key="dense3")
    assert len(calls) == 2  # The cached call never built a model.
    assert latency.cache_info()["hits"] == 1


@pytest.mark.parametrize("args,kwargs,error,match", [
    ((42, (5,)), {}, TypeError, "model_or_builder"),
    ((["dense-8"], "abc"), {}, ValueError, "input_shape"),
    ((["dense-8"], (5,)), {"batch_size": 0}, ValueError, "batch_size"),
    ((lambda: 3, (5,)), {}, TypeError, "keras.Model"),
])
def test_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        latency.measure_latency(*args, **kwargs)


def test_each_meter_has_its_own_cache():
    import pickle

    import keras_nas

    space = keras_nas.SearchSpace(["dense-16", "dense-32"], max_depth=2).bind(
        (5,), output_units=3)
    first, second = latency.LatencyMeter(repeats=2), latency.LatencyMeter(
        repeats=2)
    ms = first(space, ["dense-16"])
    assert first(space, ["dense-16"]) == ms  # Cached: timed once.
    assert first.measured == 1 and first.cache.info() == {
        "hits": 1, "misses": 1, "size": 1}
    # Another meter (another search) measures for itself, and neither
    # fills `measure_latency`'s cache for the process.
    second(space, ["dense-16"])
    assert second.measured == 1 and second.cache.info()["misses"] == 1
    assert first.cache.info()["misses"] == 1
    assert latency.cache_info() == {"hits": 0, "misses": 0, "size": 0}
    # A meter travels to Ray's workers with what it measured.
    copied = pickle.loads(pickle.dumps(first))
    assert copied.cache.info() == first.cache.info()
    assert copied(space, ["dense-16"]) == ms and copied.measured == 1
