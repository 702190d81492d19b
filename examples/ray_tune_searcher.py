"""Our evolution inside your own Ray Tune: `NASSearcher` as the `search_alg`.

A team that runs Ray Tune already keeps its `Tuner`, trainable and
schedulers, and searches op sequences with keras_nas's strategies: each
trial's config holds its ops (`config["ops"]`), the trainable builds and
trains them and reports with `ray.tune.report`.

    python examples/ray_tune_searcher.py          # a few minutes, 2 cores
    python examples/ray_tune_searcher.py --fast   # for the tests

Needs `pip install "keras-nas[ray]"`. The tests run it in a network
namespace with loopback only (tests/engine/test_ray_engine.py).
"""

import sys

import ray
from ray import tune

import keras_nas
from keras_nas.integrations.ray_tune import NASSearcher


def trainable(config, data, epochs=3):
    """One Ray Tune trial: train the proposed ops, report the score."""
    x, y = data
    model = keras_nas.build_model(config["ops"], x.shape[1:], num_classes=10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, validation_split=0.25, epochs=epochs,
                        verbose=0)
    tune.report({"val_accuracy": max(history.history["val_accuracy"])})


def make_searcher(input_shape, max_trials, seed=0):
    """Regularized evolution over conv/pool/dense sequences."""
    return NASSearcher(
        keras_nas.SearchSpace(max_depth=4, max_params=50_000), input_shape,
        10, strategy=keras_nas.Strategy(
            "evolution", population_size=2 if max_trials < 8 else 4,
            sample_size=2),
        metric="val_accuracy", mode="max", max_trials=max_trials, seed=seed)


def run(x, y, num_samples, epochs, storage_path=None):
    """A Ray Tune run with `NASSearcher`; the best trial's result."""
    tuner = tune.Tuner(
        tune.with_parameters(trainable, data=(x, y), epochs=epochs),
        tune_config=tune.TuneConfig(
            search_alg=make_searcher(x.shape[1:], num_samples),
            num_samples=num_samples),
        run_config=tune.RunConfig(storage_path=storage_path, verbose=0))
    return tuner.fit().get_best_result(metric="val_accuracy", mode="max")


if __name__ == "__main__":
    fast = "--fast" in sys.argv
    (x_train, y_train), (x_test, y_test) = keras_nas.load_digits()
    if fast:
        x_train, y_train = x_train[:300], y_train[:300]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    best = run(x_train, y_train, num_samples=2 if fast else 12,
               epochs=1 if fast else 5)
    ray.shutdown()
    ops = best.config["ops"]
    model = keras_nas.build_model(ops, x_train.shape[1:], num_classes=10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=1 if fast else 5, verbose=0)
    print(f"best architecture: {ops}")
    print(f"test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
