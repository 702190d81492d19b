"""Every example runs as it is, in its fast mode.

One fresh Python process runs them all, one after another, each as
`__main__` (`runpy`) with `sys.argv` and a working folder of its own, as
`python examples/<name>.py --fast` would: one start of TensorFlow (about
9 s of CPU here) instead of one per example. What an example leaves behind
in that process is what a notebook running the examples in turn would
keep: `custom_op.py` registers two ops, used by name only, and no other
example's space names them.
"""

import json
import os
import subprocess
import sys
import textwrap

EXAMPLES = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir,
                                        "examples"))

# The Ray examples run in tests/engine/test_ray_engine.py, in a network namespace
# of their own (Ray would otherwise bind this machine's address).
NAMES = sorted(f for f in os.listdir(EXAMPLES)
               if f.endswith(".py") and not f.startswith("ray_"))

DRIVER = textwrap.dedent("""
    import contextlib, io, json, os, runpy, sys, traceback

    examples, scratch, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    report = sys.stdout
    for name in names:
        path = os.path.join(examples, name)
        folder = os.path.join(scratch, name[:-3])
        os.makedirs(folder)
        os.chdir(folder)
        sys.argv = [path, "--fast"]
        out, error = io.StringIO(), None
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(path, run_name="__main__")
        except SystemExit as e:
            if e.code not in (None, 0):
                error = f"SystemExit({e.code!r})"
        except BaseException:
            error = traceback.format_exc()
        if "keras" in sys.modules:
            sys.modules["keras"].backend.clear_session()
        print(json.dumps({"name": name, "stdout": out.getvalue()[-3000:],
                          "error": error}), file=report, flush=True)
""")


def test_every_example_runs(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, EXAMPLES, str(tmp_path)] + NAMES,
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            run = json.loads(line)
            runs[run["name"]] = run
    assert sorted(runs) == NAMES, out.stderr[-3000:]
    failed = {name: run["error"] or run["stdout"] for name, run in runs.items()
              if run["error"] or "test accuracy:" not in run["stdout"]}
    assert not failed, "\n\n".join(f"{name}:\n{why[-2000:]}"
                                   for name, why in failed.items())
    # Each ran in its own folder, where it wrote what it saves.
    assert all(any((tmp_path / name[:-3]).iterdir()) for name in NAMES)
