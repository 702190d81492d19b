"""What the Ray tests share: Ray runs in subprocesses, each in a network
namespace of its own with loopback only (`unshare -n`, `ip link set lo
up`), so Ray binds 127.0.0.1 and no test traffic leaves the machine."""

import json
import os
import shutil
import subprocess

import pytest

import keras_nas

from tests.conftest import python_with_ctrl_c

SCRIPTS = os.path.join(os.path.dirname(__file__), "ray_scripts")
NETNS = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def netns_works():
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    try:
        return subprocess.run(NETNS + ["true"], capture_output=True,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


#: The marks of a module of Ray tests.
MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(not netns_works(), reason=(
        "Ray tests run in a network namespace of their own (unshare -n), "
        "which this machine does not permit")),
]


def env():
    """This environment, quiet, with this checkout first on the path."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(keras_nas.__file__)))
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", RAY_USAGE_STATS_ENABLED="0",
                PYTHONPATH=os.pathsep.join(
                    [root] + [p for p in os.environ.get("PYTHONPATH", "")
                              .split(os.pathsep) if p]))


def run(name, *args, timeout=400):
    """`python ray_scripts/<name> <args>` in its own namespace and session,
    with SIGINT at Python's default (`conftest.python_with_ctrl_c`): the
    `subprocess.CompletedProcess`, its output as text."""
    return subprocess.run(
        NETNS + python_with_ctrl_c(os.path.join(SCRIPTS, name), *args),
        capture_output=True, text=True, env=env(), timeout=timeout,
        start_new_session=True)


def run_script(name, *args, timeout=400):
    """`run(name, *args)`'s printed `KEY value` lines as a dict (values
    JSON), after checking it ended well."""
    out = run(name, *args, timeout=timeout)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    lines = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key.isupper() and value:
            try:
                lines[key] = json.loads(value)
            except ValueError:
                continue
    return lines


def placements(project):
    """The project folder's `ray_trials.json`, or `{}`."""
    path = os.path.join(project, "ray_trials.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}
