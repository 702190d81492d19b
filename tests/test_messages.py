"""Messages a library sends: a failed architecture is a normal part of a
search, so its traceback goes to the trial's record and the log, not onto
the screen, unless `verbose=2`."""

import logging

import keras
import pytest
from keras_tuner.src import config as kt_config

import keras_nas
from keras_nas import NASSearch, Training
from keras_nas import _compat

from tests.conftest import tabular


class NaNLayer(keras.layers.Layer):
    def call(self, x):
        return x * float("nan")


def _search(tmp_path, name):
    space = keras_nas.SearchSpace({"nan": NaNLayer, "dense-16": None},
                                  max_depth=1)
    return NASSearch(space, "random", max_trials=2, directory=str(tmp_path),
                     project_name=name, seed=0, warm_start=False,
                     initial_architectures=[["nan"], ["dense-16"]],
                     training=Training(max_consecutive_failed_trials=5))


def test_trial_tracebacks_sets_keras_tuners_debug_switch():
    # The internal it rests on: Keras Tuner prints a failed trial's
    # traceback while `config.DEBUG` is on, which is its default.
    assert kt_config.DEBUG is True
    with _compat.trial_tracebacks(False):
        assert kt_config.DEBUG is False
    assert kt_config.DEBUG is True


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_a_nan_trial_is_one_line_at_most(tmp_path, capfd, caplog, verbose):
    x, y = tabular(80)
    search = _search(tmp_path, f"v{verbose}")
    with caplog.at_level(logging.INFO, logger="keras_nas"):
        search.fit(x, y, epochs=1, verbose=verbose)
    out, err = capfd.readouterr()
    failed = [r for r in search.results() if r.status == "FAILED"]
    assert [r.ops for r in failed] == [["nan"]]
    # The record keeps the reason, and the log the whole traceback.
    assert "nan" in failed[0].reason
    logged = [r.getMessage() for r in caplog.records
              if r.name == "keras_nas.engine.tuner"]
    assert any("Traceback" in m and "trial 0 failed" in m for m in logged)
    screen = out + err
    if verbose == 0:
        assert "Traceback" not in screen and "nan" not in screen
    elif verbose == 1:
        assert "Traceback" not in screen
        assert sum("FAILED" in line for line in screen.splitlines()) >= 1
    else:
        assert "Traceback" in screen
