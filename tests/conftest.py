import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


#: The three input kinds the acceptance checks use.
SHAPES = {"image": (8, 8, 1), "sequence": (50, 3), "tabular": (30,)}
