"""What each accident costs a search: trials lost and the time to recover.

Each fault is met by a real process on a small tabular search (6 trials,
tiny models, seed 0): killed with SIGKILL or SIGINT mid-search, a second
process on the same folder, a `trial.json` cut in half, a disk that fills
(a 700 KB tmpfs in a mount namespace of its own; needs `unshare -m`). Then
the same code runs again, and the table says how many completed trials
were lost, how many trials the rerun trained, and its wall time.

    flock /tmp/keras_nas_bench.lock python benchmarks/faults.py
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRIALS = 6
SCRIPT = textwrap.dedent("""
    import os, sys, time
    import keras
    import numpy as np
    import keras_nas
    directory, max_trials, ops = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 16)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    search = keras_nas.NASSearch(
        max_trials=max_trials, seed=0, directory=directory, project_name="p",
        space=keras_nas.SearchSpace(ops.split(","), max_depth=2),
        initial_architectures=[], warm_start=False)
    pause = float(os.environ.get("EPOCH_SLEEP", 0))
    search.fit(x, y, epochs=6, verbose=0, callbacks=[
        keras.callbacks.LambdaCallback(
            on_epoch_end=lambda *_: time.sleep(pause))])
""")
OPS = "dense-16,dense-64,dense-128"


def env(**extra):
    return dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
                **extra)


def completed(project):
    done = {}
    for name in sorted(os.listdir(project)) if os.path.isdir(project) else []:
        path = os.path.join(project, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(path):
            try:
                state = json.load(open(path))
            except ValueError:
                continue
            if state["status"] == "COMPLETED":
                done[state["trial_id"]] = state["hyperparameters"]["values"]
    return done


def run(script, directory, **extra):
    start = time.time()
    p = subprocess.run([sys.executable, script, directory, str(TRIALS), OPS],
                       env=env(**extra), capture_output=True, text=True)
    return p, time.time() - start


def until_completed(project, n, process):
    while len(completed(project)) < n:
        if process.poll() is not None:
            raise RuntimeError(process.communicate())
        time.sleep(0.1)


def signal_mid_search(script, directory, sig):
    project = os.path.join(directory, "p")
    p = subprocess.Popen(
        [sys.executable, script, directory, str(TRIALS), OPS],
        env=env(EPOCH_SLEEP="0.3"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    until_completed(project, 2, p)
    time.sleep(0.5)  # Into the next trial.
    p.send_signal(sig)
    p.communicate()
    return p.returncode


def measure(name, script, fault):
    directory = tempfile.mkdtemp(prefix="faults-")
    try:
        note = fault(script, directory)
        project = os.path.join(directory, "p")
        before = completed(project)
        rerun, seconds = run(script, directory)
        after = completed(project)
        kept = sum(1 for t, v in before.items() if after.get(t) == v)
        return {"fault": name, "note": note, "completed_before": len(before),
                "lost": len(before) - kept, "rerun_trials":
                len(after) - kept, "rerun_seconds": round(seconds, 1),
                "final": len(after), "rerun_rc": rerun.returncode}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def kill9(script, directory):
    return f"exit {signal_mid_search(script, directory, signal.SIGKILL)}"


def ctrl_c(script, directory):
    return f"exit {signal_mid_search(script, directory, signal.SIGINT)}"


def concurrent(script, directory):
    project = os.path.join(directory, "p")
    first = subprocess.Popen(
        [sys.executable, script, directory, str(TRIALS), OPS],
        env=env(EPOCH_SLEEP="0.3"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    until_completed(project, 1, first)
    second, seconds = run(script, directory)
    first.communicate()
    refused = "in use by another search" in second.stderr
    return (f"second refused={refused} after {seconds:.1f} s (start-up "
            f"included); first exit {first.returncode}")


def damaged(script, directory):
    run(script, directory)
    path = os.path.join(directory, "p", "trial_2", "trial.json")
    text = open(path).read()
    open(path, "w").write(text[: len(text) // 2])
    return "trial_2/trial.json cut in half"


def disk_full(script, directory):
    fs = os.path.join(directory, "fs")
    os.makedirs(fs)
    shell = (f"mount -t tmpfs -o size=700k tmpfs {fs} && "
             f"{sys.executable} {script} {fs} {TRIALS} {OPS}; echo $?; "
             f"cp -r {fs}/p {directory}/p")
    out = subprocess.run(["unshare", "-m", "sh", "-c", shell], env=env(),
                         capture_output=True, text=True)
    rc = out.stdout.strip().splitlines()[-1]
    msg = [ln for ln in out.stderr.splitlines() if "ProjectFolderError" in ln]
    return f"exit {rc}; {'one ProjectFolderError' if len(msg) == 1 else msg}"


def main():
    script = os.path.join(tempfile.mkdtemp(prefix="faults-script-"), "s.py")
    open(script, "w").write(SCRIPT)
    rows = [measure(name, script, fault) for name, fault in [
        ("kill -9 mid-trial", kill9), ("Ctrl-C mid-trial", ctrl_c),
        ("second process, same folder", concurrent),
        ("truncated trial.json", damaged), ("disk full (700 KB)", disk_full)]]
    print("| fault | what happened | completed before | lost | rerun trained "
          "| rerun s | final |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['fault']} | {r['note']} | {r['completed_before']} | "
              f"{r['lost']} | {r['rerun_trials']} | {r['rerun_seconds']} | "
              f"{r['final']}/{TRIALS} |")


if __name__ == "__main__":
    main()
