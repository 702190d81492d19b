"""The strategy contract with packing on: every strategy asked for several
trials at once, as a packed search asks (`engine.pack_loop`: one tuner id a
slot), proposes valid ones, stops at `max_trials`, and proposes the same
under the same seed."""

import pytest

from keras_nas.engine import pack_loop

from tests.strategies.test_strategies import STRATEGIES, make, space


def drive_packed(oracle, n, pack=3):
    """Ask for packs of `pack` trials until `n` are done or the oracle
    stops; report each pack's scores after the whole pack, as a packed
    search does."""
    bound = space()
    proposals = []
    while len(proposals) < n:
        trials = []
        for slot in range(pack):
            trial = oracle.create_trial(pack_loop.slot_id("tuner0", slot))
            if trial.status == "RUNNING":
                trials.append(trial)
            elif trial.status == "IDLE":
                break
        if not trials:
            break
        for trial in trials:
            ops = bound.decode(trial.hyperparameters)
            proposals.append(ops)
            oracle.update_trial(trial.trial_id, {"score": float(len(ops))})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    return proposals


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_packs_of_proposals_are_valid_and_stop_at_max_trials(strategy,
                                                             tmp_path):
    oracle = make(strategy, tmp_path)
    proposals = drive_packed(oracle, 20)
    assert len(proposals) == 8
    if strategy != "plain-random":
        assert all(space().check(ops) is None for ops in proposals)
    assert not oracle.ongoing_trials  # Every slot's trial was ended.


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_packs_of_proposals_repeat_under_a_seed(strategy, tmp_path):
    if strategy == "bayesian":
        pytest.skip("Keras Tuner's Gaussian process is not seeded end to end")
    a = drive_packed(make(strategy, tmp_path / "a", seed=1), 6)
    b = drive_packed(make(strategy, tmp_path / "b", seed=1), 6)
    c = drive_packed(make(strategy, tmp_path / "c", seed=2), 6)
    assert a == b and a != c
