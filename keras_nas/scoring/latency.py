"""Latency of one forward pass, measured once per architecture.

Parameter counts and FLOPs are exact but only proxies for speed: a depthwise
convolution has few FLOPs and can still be slow, and a pooling op has none.
When a search trades accuracy against speed it needs the time itself, on the
backend and machine at hand. Training does not change the time of a forward
pass, so an untrained model built from the ops is timed, and each
architecture is timed once (a `LatencyCache` keyed by its ops, input shape,
batch size, backend and runtime: each `LatencyMeter`'s own, so two
searches in one process do not share measurements; `measure_latency`
alone uses one for the process), which keeps the cost out of all but the
first trial of each architecture.

Timing goes through `model.predict_on_batch`, not `model(x)`: it runs the
compiled predict function (`tf.function` or `jax.jit`, as `predict()` and
serving do), where a plain call would time Python's per-layer dispatch in
eager mode instead of the model. Its result is a NumPy array, so each timed
call has finished on the device before the clock stops. The first call
traces and compiles; it is the warm-up and is not timed.
"""

import dataclasses
import os
import shutil
import statistics
import tempfile
import threading
import time

import keras
import numpy as np

from keras_nas._checks import check_int

__all__ = ["measure_latency", "cache_info", "clear_cache",
           "conversion_seconds", "Latency", "LatencyCache",
           "LatencyMeter", "LatencyBudget", "RUNTIMES"]

#: Where a candidate can be timed, and the export format each one runs.
RUNTIMES = {"keras": "keras", "onnxruntime": "onnx", "litert": "litert"}



class LatencyCache:
    """Measurements by architecture, and what they cost; thread-safe.

    `measure_latency` without a `cache` uses one for the process
    (`cache_info`, `clear_cache`); each `LatencyMeter` has its own.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def __getstate__(self):  # A meter travels to Ray workers; a lock cannot.
        with self._lock:
            return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def get(self, key):
        """The milliseconds cached under `key` (counted as a hit), or
        `None`."""
        with self._lock:
            if key not in self._ms:
                return None
            self._stats["hits"] += 1
            return self._ms[key]

    def put(self, key, ms, converting=0.0):
        """Record a measurement (a miss) that took `converting` seconds to
        convert; under `key`, unless it is `None`."""
        with self._lock:
            self._stats["misses"] += 1
            self._stats["conversion_seconds"] += converting
            if key is not None:
                self._ms[key] = ms
                self._conversion[key] = converting

    def info(self):
        """`{"hits", "misses", "size"}`."""
        with self._lock:
            return {"hits": self._stats["hits"],
                    "misses": self._stats["misses"], "size": len(self._ms)}

    def conversion_seconds(self, key=None):
        """Seconds spent converting; with `key`, that architecture's."""
        with self._lock:
            if key is None:
                return self._stats["conversion_seconds"]
            return self._conversion.get(key)

    def clear(self):
        """Forget every measurement and count."""
        with self._lock:
            self._ms = {}
            self._conversion = {}  # Seconds spent converting, by key.
            self._stats = {"hits": 0, "misses": 0,
                           "conversion_seconds": 0.0}


_PROCESS_CACHE = LatencyCache()  # `measure_latency`'s without a `cache`.


def measure_latency(model_or_builder, input_shape, batch_size=1, repeats=10,
                    key=None, runtime="keras", cache=None, **build_kwargs):
    """Median milliseconds of one forward pass of an untrained model.

    Args:
        model_or_builder: A built `keras.Model`; a callable with no arguments
            that returns one; or an op list (e.g. `["conv3x3-32", "maxpool"]`),
            built with `keras_nas.build_model(ops, input_shape,
            **build_kwargs)`.
        input_shape: The shape of one sample, without the batch axis.
        batch_size: Samples per forward pass. Defaults to `1` (the latency a
            single request sees).
        repeats: Timed passes after one untimed warm-up; the median is
            returned. Defaults to `10`.
        key: Optional hashable naming the architecture, to cache the
            measurement of a model or callable. An op list is its own key.
            Defaults to `None` (a model or callable is then timed every
            time).
        runtime: Where to time it: `"keras"` (`predict_on_batch`),
            `"onnxruntime"` or `"litert"` (converted first; needs
            `pip install "keras-nas[export]"`). Defaults to `"keras"`.
        cache: The `LatencyCache` that keeps the measurement. Defaults to
            `None`, the process's (`cache_info`, `clear_cache`).
        **build_kwargs: For an op list: `task`, `num_classes`, ... as in
            `keras_nas.build_model`. A multiclass head with 10 classes is
            assumed when neither is given.

    Returns:
        A positive float, milliseconds.
    """
    check_int("batch_size", batch_size, 1)
    check_int("repeats", repeats, 1)
    _check_runtime(runtime)
    try:
        input_shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(
            "`input_shape` must be a tuple of positive integers, without the "
            f"batch axis. Received: input_shape={input_shape!r}.") from None
    is_ops = isinstance(model_or_builder, (list, tuple)) and all(
        isinstance(o, str) for o in model_or_builder)
    if not (is_ops or callable(model_or_builder)):
        raise TypeError(
            "`model_or_builder` must be a `keras.Model`, a callable returning "
            "one, or a list of op names. Received: model_or_builder="
            f"{model_or_builder!r} (of type {type(model_or_builder).__name__}).")
    if is_ops and key is None:
        key = (tuple(model_or_builder),
               tuple(sorted(build_kwargs.items(), key=str)))
    cache = _PROCESS_CACHE if cache is None else cache
    full_key = None
    if key is not None:
        full_key = (key, input_shape, int(batch_size), keras.backend.backend(),
                    runtime)
        cached = cache.get(full_key)
        if cached is not None:
            return cached
    model = _model_of(model_or_builder, is_ops, input_shape, build_kwargs)
    x = np.random.default_rng(0).standard_normal(
        (int(batch_size),) + input_shape).astype("float32")
    converting = 0.0
    if runtime == "keras":
        model.predict_on_batch(x)  # Warm-up: trace and compile.
        times = []
        for _ in range(int(repeats)):
            start = time.perf_counter()
            model.predict_on_batch(x)
            times.append((time.perf_counter() - start) * 1000.0)
        ms = float(statistics.median(times))
    else:
        ms, converting = _runtime_latency(model, x, runtime, repeats)
    cache.put(full_key, ms, converting)
    return ms


def _check_runtime(runtime):
    if runtime not in RUNTIMES:
        raise ValueError(
            f"`runtime` must be one of {tuple(RUNTIMES)}. Received: "
            f"runtime={runtime!r}.")
    if runtime != "keras":
        from keras_nas.export import runtimes

        runtimes.check_format(RUNTIMES[runtime])


def _runtime_latency(model, x, runtime, repeats):
    """(median ms, conversion seconds) of `model` converted for `runtime`."""
    from keras_nas.export import runtimes

    fmt = RUNTIMES[runtime]
    folder = tempfile.mkdtemp(prefix="keras_nas_latency_")
    try:
        path = os.path.join(folder, "model" + {"onnx": ".onnx",
                                               "litert": ".tflite"}[fmt])
        start = time.perf_counter()
        runtimes.convert(model, path, fmt, batch_size=len(x))
        runner = runtimes.load(path, fmt)
        converting = time.perf_counter() - start
        return runner.latency_ms(x, repeats), converting
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _model_of(model_or_builder, is_ops, input_shape, build_kwargs):
    if is_ops:
        from keras_nas.space.builder import build_model

        kwargs = dict(build_kwargs)
        if "task" not in kwargs and "num_classes" not in kwargs:
            kwargs["num_classes"] = 10
        return build_model(list(model_or_builder), input_shape, **kwargs)
    if isinstance(model_or_builder, keras.Model):
        return model_or_builder
    model = model_or_builder()
    if not isinstance(model, keras.Model):
        raise TypeError(
            "A builder passed as `model_or_builder` must return a "
            f"`keras.Model`. Received: {model!r} (of type "
            f"{type(model).__name__}).")
    return model


def cache_info():
    """`{"hits", "misses", "size"}`: cached answers, timed measurements and
    architectures held by `measure_latency`'s cache for the process (a
    `LatencyMeter` keeps its own: `meter.cache.info()`)."""
    return _PROCESS_CACHE.info()


def conversion_seconds(key=None):
    """Seconds spent converting candidates for a runtime other than Keras
    by `measure_latency` without a `cache`; with `key` (as
    `measure_latency` takes it, with the input shape, batch size, backend
    and runtime), that architecture's."""
    return _PROCESS_CACHE.conversion_seconds(key)


def clear_cache():
    """Forget every measurement of the process's cache (after changing
    machine load or backend settings, say)."""
    _PROCESS_CACHE.clear()


class LatencyMeter:
    """Latency of the candidates of a search, and what measuring it cost.

    A search that has `"latency_ms"` among its objectives, or a latency
    budget (`Latency(max_ms=...)`), asks this meter for each architecture:
    the median milliseconds of one forward pass of its untrained model (head
    included), at `batch_size`, on this process's backend, measured once and
    cached.

    Args:
        batch_size: Samples per forward pass. Defaults to `1`.
        repeats: Timed passes per architecture. Defaults to `10`.
        head: How the model flattens before its head, as in the search.
            Defaults to `"auto"`.
        activation: The head's activation. Defaults to `"softmax"`.
        runtime: Where candidates are timed: `"keras"`, `"onnxruntime"` or
            `"litert"`. Defaults to `"keras"`.

    Attributes:
        cache: The meter's own `LatencyCache`: each architecture is timed
            once per meter.
        seconds: Wall time spent measuring in this process (cache misses),
            conversions included.
        measured: Architectures measured in this process.
        conversion_seconds: Of `seconds`, the time spent converting
            candidates for `runtime` (0 for Keras).
    """

    def __init__(self, batch_size=1, repeats=10, head="auto",
                 activation="softmax", runtime="keras"):
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.repeats = check_int("repeats", repeats, 1)
        _check_runtime(runtime)
        self.head = head
        self.activation = activation
        self.runtime = runtime
        self.cache = LatencyCache()
        self.seconds = 0.0
        self.measured = 0
        self.conversion_seconds = 0.0

    def __call__(self, space, ops):
        """Milliseconds of one forward pass of `ops` in the bound `space`."""
        from keras_nas.space import builder

        ops = list(ops)
        key = ("keras_nas", tuple(ops), self.head, self.activation,
               space.output_units, tuple(op.name for op in space.front))
        misses = self.cache.info()["misses"]
        converted = self.cache.conversion_seconds()
        start = time.perf_counter()
        ms = measure_latency(
            lambda: builder.build_from_plan(
                space.plan(ops, head=self.head), self.activation,
                op_table=space.op_table),
            space.input_shape, batch_size=self.batch_size,
            repeats=self.repeats, key=key, runtime=self.runtime,
            cache=self.cache)
        if self.cache.info()["misses"] > misses:
            self.seconds += time.perf_counter() - start
            self.measured += 1
            self.conversion_seconds += (self.cache.conversion_seconds()
                                        - converted)
        return ms


class LatencyBudget:
    """A space constraint: candidates slower than `max_ms` are invalid.

    Passed to `SearchSpace.bind(constraints=[...])`;
    `NASSearch(latency=Latency(max_ms=...))` makes one. The strategy
    proposes another candidate instead of an over-budget one, which is
    never trained.

    Args:
        max_ms: The most milliseconds of one forward pass.
        meter: The `LatencyMeter` that measures.
    """

    def __init__(self, max_ms, meter):
        self.max_ms = float(max_ms)
        self.meter = meter

    def __call__(self, space, ops):
        ms = self.meter(space, ops)
        if ms > self.max_ms:
            return (f"{ms:.3g} ms a forward pass exceeds "
                    f"latency max_ms={self.max_ms:g}")
        return None

    def __str__(self):
        return (f"latency max_ms={self.max_ms:g} "
                f"(batch size {self.meter.batch_size}, on "
                f"{self.meter.runtime})")


@dataclasses.dataclass(frozen=True)
class Latency:
    """How a search measures latency: its budget, batch and runtime.

    `NASSearch(latency=Latency(max_ms=5, runtime="litert"))` never trains a
    candidate slower than 5 ms a forward pass in LiteRT; the `"latency_ms"`
    objective is measured the same way.

    Args:
        max_ms: The most milliseconds of one forward pass, or `None` (no
            budget; `"latency_ms"` may still be an objective). Defaults to
            `None`.
        batch_size: Samples per timed forward pass. Defaults to `1`.
        runtime: `"keras"`, `"onnxruntime"` or `"litert"`: where the model
            will serve. Defaults to `"keras"`.
        repeats: Timed passes per architecture (the median is kept).
            Defaults to `10`.
    """

    max_ms: float = None
    batch_size: int = 1
    runtime: str = "keras"
    repeats: int = 10

    def __post_init__(self):
        if self.max_ms is not None and (
                isinstance(self.max_ms, bool)
                or not isinstance(self.max_ms, (int, float))
                or not self.max_ms > 0):
            raise ValueError(
                "`max_ms` must be a positive number of milliseconds or None. "
                f"Received: max_ms={self.max_ms!r}.")
        check_int("batch_size", self.batch_size, 1)
        check_int("repeats", self.repeats, 1)
        _check_runtime(self.runtime)

    def meter(self, head="auto", activation="softmax"):
        """The `LatencyMeter` that measures this way."""
        return LatencyMeter(self.batch_size, self.repeats, head=head,
                            activation=activation, runtime=self.runtime)

    def budget(self, meter):
        """The space constraint of `max_ms`, or `None` without one."""
        return None if self.max_ms is None else LatencyBudget(self.max_ms,
                                                              meter)

    def get_config(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)
