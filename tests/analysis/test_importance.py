import numpy as np
import pytest

from keras_nas.analysis import importance
from keras_nas.analysis.records import TrialRecord

OPS = ["conv3x3-32", "conv1x1-16", "maxpool", "dense-64", "dropout"]


def planted(n, seed=0, effect=0.1, noise=0.02):
    """Records whose score gets `effect` from containing conv3x3-32."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        ops = list(rng.choice(OPS, size=int(rng.integers(2, 5))))
        value = 0.5 + effect * ("conv3x3-32" in ops) + rng.normal(0, noise)
        records.append(TrialRecord(
            trial_id=str(i), ops=ops, params=None, flops=None, value=value,
            status="COMPLETED", reason=None, epochs=1, seconds=1.0,
            hyperparameters={"learning_rate": float(rng.choice([1e-3, 1e-2]))}))
    return records


def test_recovers_a_planted_effect():
    result = importance.analyze(planted(40), direction="max",
                                objective="val_accuracy", seed=1)
    top = result.effects[0]
    assert top.feature == "conv3x3-32" and top.kind == "op"
    assert top.low > 0 and top.distinguishable and top.helps
    assert top.low < 0.1 < top.high
    assert result.conclusive and "conv3x3-32" in result.message
    # The learning rate did nothing: its interval holds 0.
    lr = [e for e in result.effects if e.kind == "hyperparameter"]
    assert lr and all(e.low <= 0 <= e.high for e in lr)
    text = importance.format_importance(result)
    assert "conv3x3-32" in text and "helps" in text


def test_direction_min_says_hurts_and_seed_is_reproducible():
    a = importance.analyze(planted(40), direction="min", seed=3)
    b = importance.analyze(planted(40), direction="min", seed=3)
    assert a == b
    assert a.effects[0].feature == "conv3x3-32" and not a.effects[0].helps


def test_too_few_trials_says_so():
    result = importance.analyze(planted(4))
    assert not result.conclusive and result.effects == []
    assert "Too few" in result.message and "4" in result.message
    assert importance.format_importance(result) == result.message


def test_no_effect_is_not_distinguishable():
    records = planted(12, seed=5)
    for r in records:
        r.value = 0.5  # Nothing moves the objective.
    result = importance.analyze(records)
    assert not result.conclusive and result.effects
    assert result.message == ("No op's, depth's or value's effect is "
                              "distinguishable from noise at 12 trials.")
    assert "noise" in importance.format_importance(result)


def test_failed_trials_and_dicts_are_accepted():
    records = [dict(ops=r.ops, value=r.value, status=r.status,
                    hyperparameters={}) for r in planted(20)]
    records.append(dict(ops=["maxpool"], value=None, status="FAILED"))
    assert importance.analyze(records).n_completed == 20


@pytest.mark.parametrize("kwargs,match", [
    (dict(direction="up"), "direction"),
    (dict(confidence=1.5), "confidence"),
    (dict(n_bootstrap=5), "n_bootstrap"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        importance.analyze(planted(10), **kwargs)


def test_plot_importance_saves_a_png(tmp_path):
    import matplotlib.figure

    from keras_nas.analysis.plots import plot_importance

    fig = plot_importance(importance.analyze(planted(20)), tmp_path / "i.png")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert (tmp_path / "i.png").stat().st_size > 1000
    plot_importance(importance.analyze(planted(3)), tmp_path / "few.png")
