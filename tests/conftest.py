import os
import sys

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


def digits(n=400):
    """A small slice of scikit-learn's digits, as 8x8x1 images."""
    from keras_nas.data.prepare import load_digits

    (x, y), (xt, yt) = load_digits()
    return (x[:n], y[:n]), (xt[:200], yt[:200])


def waves(n=240, steps=50, seed=0):
    """A 1-D sequence set: which of 3 frequencies, in 3 noisy channels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    t = np.linspace(0, 1, steps)
    freq = np.array([2.0, 5.0, 9.0])[y]
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    base = np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase)
    x = base[..., None] + 0.3 * rng.normal(size=(n, steps, 3))
    return x.astype("float32"), y


def tabular(n=300):
    """scikit-learn's breast cancer set: 30 features, binary, standardized."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    return x[:n].astype("float32"), y[:n]


# Run by `python -c` before the script: SIGINT back at Python's default.
_WITH_CTRL_C = (
    "import os, runpy, signal, sys; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv = sys.argv[1:]; "
    "sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0])); "
    "runpy.run_path(sys.argv[0], run_name='__main__')")


def python_with_ctrl_c(script, *args):
    """The command `python script *args`, for a child that gets a Ctrl-C.

    A process started with SIGINT ignored (a background job `cmd &` of a
    non-interactive shell, `nohup`, some CI runners) passes that on to its
    children, and Python leaves an ignored SIGINT ignored: the Ctrl-C a
    test sends, or a child raises in itself, would then do nothing. The
    child resets SIGINT itself, first thing: `subprocess`'s
    `restore_signals` does not cover SIGINT, and a `preexec_fn` is unsafe
    in this process, whose TensorFlow threads may hold locks at the fork.
    """
    return [sys.executable, "-c", _WITH_CTRL_C, str(script),
            *(str(a) for a in args)]
