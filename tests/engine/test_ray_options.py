"""`keras_nas.Ray`, the Ray engine's settings, and `NASSearch(engine=...)`:
checked at construction, before Ray starts (no Ray process here)."""

import sys

import pytest

import keras_nas
from keras_nas.engine.ray_worker import worker_environment


def test_defaults_and_config_round_trip():
    ray = keras_nas.Ray()
    assert ray.resources_per_trial == {"cpu": 1.0, "gpu": 0.0}
    # One trial at a time unless asked, as a search on Ray always ran.
    assert ray.workers == 1 and ray.trials_per_process == 20
    custom = keras_nas.Ray(workers=3, address="auto",
                           resources_per_trial={"gpu": 0.25},
                           trials_per_process=5, max_retries=0, ordered=False)
    assert custom.resources_per_trial == {"gpu": 0.25, "cpu": 1.0}
    config = custom.get_config()
    assert config["workers"] == 3 and config["trials_per_process"] == 5
    assert "max_calls" not in config
    assert keras_nas.Ray.from_config(config) == custom
    assert keras_nas.Ray.from_config(config).get_config() == config
    assert custom.gpu_fraction == 0.25
    assert hash(custom) == hash(keras_nas.Ray.from_config(custom.get_config()))


@pytest.mark.parametrize("kwargs,names", [
    ({"address": 6379}, "address=6379"),
    ({"resources_per_trial": 1}, "resources_per_trial=1"),
    ({"resources_per_trial": {"gpu": -1}}, "resources_per_trial['gpu']=-1"),
    ({"resources_per_trial": {"gpu": 1.5}}, "resources_per_trial['gpu']=1.5"),
    ({"resources_per_trial": {"cpu": "one"}}, "resources_per_trial['cpu']"),
    ({"workers": 0}, "workers=0"),
    ({"workers": 2.0}, "workers=2.0"),
    ({"trials_per_process": 0}, "trials_per_process=0"),
    ({"max_retries": -1}, "max_retries=-1"),
    ({"max_retries": True}, "max_retries=True"),
    ({"num_cpus": 0}, "num_cpus=0"),
    ({"num_cpus": 2, "address": "auto"}, "num_cpus=2, address='auto'"),
    ({"ordered": "yes"}, "ordered='yes'"),
])
def test_bad_settings_name_the_argument(kwargs, names):
    with pytest.raises(ValueError, match="Received") as info:
        keras_nas.Ray(**kwargs)
    assert names in str(info.value)


def test_engine_argument_of_nassearch(tmp_path):
    assert keras_nas.NASSearch(directory=str(tmp_path)).config.engine == (
        keras_nas.KerasTunerEngine())
    search = keras_nas.NASSearch(directory=str(tmp_path), engine="ray")
    assert search.config.engine == keras_nas.Ray()
    config = search.get_config()
    assert config["engine"] == keras_nas.Ray().get_config()
    again = keras_nas.NASSearch.from_config(config)
    assert again.config.engine == search.config.engine
    with pytest.raises(ValueError, match="engine='spark'"):
        keras_nas.NASSearch(directory=str(tmp_path), engine="spark")


def test_missing_ray_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails.
    with pytest.raises(ImportError, match=r"keras-nas\[ray\]"):
        keras_nas.NASSearch(directory=str(tmp_path), engine="ray")
    keras_nas.NASSearch(directory=str(tmp_path))  # The default needs no Ray.
    # A search that ran on Ray reopens from its config for its reports.
    config = dict(keras_nas.NASSearch(directory=str(tmp_path)).get_config(),
                  engine=keras_nas.Ray().get_config())
    assert keras_nas.NASSearch.from_config(config).config.engine == (
        keras_nas.Ray())


def test_worker_environment_shares_the_gpu():
    env = worker_environment(0.25, "jax")
    assert env["KERAS_BACKEND"] == "jax"
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert env["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.237"
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert "XLA_PYTHON_CLIENT_MEM_FRACTION" not in worker_environment(1, "jax")


def test_ray_engine_refuses_a_dataset_before_training(tmp_path):
    tf = pytest.importorskip("tensorflow")
    import numpy as np

    data = tf.data.Dataset.from_tensor_slices(
        (np.zeros((8, 3), "float32"), np.arange(8) % 2)).batch(2)
    search = keras_nas.NASSearch(directory=str(tmp_path), engine="ray")
    with pytest.raises(ValueError, match="numpy arrays"):
        search.fit(data, validation_data=data, epochs=1, verbose=0)
    assert search.tuner is None  # Refused before the search was made.


def test_workers_and_trials_per_process_are_the_engines(tmp_path):
    search = keras_nas.NASSearch(
        directory=str(tmp_path),
        engine=keras_nas.Ray(workers=2, num_cpus=2, trials_per_process=3))
    assert search.config.engine.workers == 2
    assert search.config.engine.trials_per_process == 3
    again = keras_nas.NASSearch.from_config(search.get_config())
    assert again.config.engine == search.config.engine
    with pytest.raises(ValueError, match=r"Received: trials_per_process=0"):
        keras_nas.Ray(trials_per_process=0)
    with pytest.raises(TypeError, match="max_calls"):
        keras_nas.Ray(max_calls=3)  # Renamed `trials_per_process`.
