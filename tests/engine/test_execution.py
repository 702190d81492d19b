"""Where a search's trials run (`engine/execution.py`), and which of its
hooks see them: a real chief with a real worker process."""

import os
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent("""
    import sys
    import keras, numpy as np
    import keras_nas
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")[:120]
    search = keras_nas.NASSearch(
        space=keras_nas.SearchSpace(["dense-16", "dropout"], max_depth=2),
        strategy="random", max_trials=2, seed=0, directory=sys.argv[1],
        warm_start=False, initial_architectures=[],
        engine=keras_nas.KerasTunerEngine(workers=1, timeout_s=300))
    search.fit(x, y[:120], epochs=1, verbose=0,
               callbacks=[keras.callbacks.TensorBoard(sys.argv[2])])
    print("DONE", len(search.results()))
""")


def _tensors(run, tag):
    from tensorboard.backend.event_processing import event_accumulator

    if not os.path.isdir(run):
        return []
    acc = event_accumulator.EventAccumulator(
        run, size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    return acc.Tensors(tag) if tag in acc.Tags()["tensors"] else []


def test_the_chief_runs_every_hook_for_the_workers_trials(tmp_path):
    # The TensorBoard writer is the second hook, after the progress lines:
    # the chief once ran only the first for the trials its workers ran.
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    logs = tmp_path / "logs"
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "runs"), str(logs)],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True,
        text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "DONE 2" in out.stdout
    best = _tensors(str(logs / "search"), "search/best_val_accuracy")
    # Once per trial, from the chief alone (a local worker runs no hook,
    # or each summary would be written twice).
    assert sorted(e.step for e in best) == [1, 2]
    for trial_id in ("0", "1"):
        text = _tensors(str(logs / f"trial_{trial_id}"), "architecture")
        assert len(text) == 1
        ops = text[0].tensor_proto.string_val[0].decode()
        assert set(ops.split(" > ")) <= {"dense-16", "dropout"}
    values = [float(np.asarray(
        e.tensor_proto.float_val or np.frombuffer(
            e.tensor_proto.tensor_content, np.float32))[0]) for e in best]
    assert 0.0 <= values[0] <= values[-1] <= 1.0
