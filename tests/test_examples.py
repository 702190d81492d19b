"""Every example runs as it is, in its fast mode."""

import os
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


# The Ray examples run in tests/test_ray_engine.py, in a network namespace
# of their own (Ray would otherwise bind this machine's address).
@pytest.mark.parametrize("name", sorted(
    f for f in os.listdir(EXAMPLES)
    if f.endswith(".py") and not f.startswith("ray_")))
def test_example_runs(name, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, os.path.abspath(os.path.join(EXAMPLES, name)), "--fast"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "test accuracy:" in out.stdout
