"""The queue of first architectures (`strategies.queue.Queue`): a wrapper
oracle that proposes the queued values first, in order, then the
strategy's; its queue survives a resume; nothing queued is trained twice;
and Hyperband, whose brackets decide what runs, takes none."""

import json

import pytest

from keras_nas import strategies as oracles
from keras_nas.strategies.queue import Queue

from tests.strategies.test_strategies import MAX, drive, make, space


def encoded(*op_lists):
    return [space().encode(list(ops)) for ops in op_lists]


@pytest.mark.parametrize("strategy", ["evolution", "local", "random",
                                      "bayesian", "local-predictor"])
def test_queue_comes_first_then_the_strategy(strategy, tmp_path):
    inner = make(strategy, tmp_path)
    first = [["dense-16"], ["conv3x3-16", "maxpool"]]
    oracle = Queue(inner, encoded(*first))
    proposals = drive(oracle, 4)
    assert proposals[:2] == first
    assert all(p not in first for p in proposals[2:])
    assert oracle.waiting() == []
    # Every trial, the queued ones included, is the strategy's own.
    assert inner.trials is oracle.trials and len(inner.trials) == 4


def test_the_queue_resumes_from_the_project_folder(tmp_path):
    first = [["dense-16"], ["conv3x3-16", "maxpool"], ["maxpool"]]
    oracle = Queue(make("evolution", tmp_path), encoded(*first))
    assert drive(oracle, 2) == first[:2]
    oracle.save()
    state = json.loads((tmp_path / "p" / "oracle.json").read_text())
    assert state[Queue.STATE_KEY]["values"] == encoded(*first)
    # A resumed search's queue is empty until the folder is read back.
    again = Queue(make("evolution", tmp_path))
    assert again.values == []
    again.reload()
    assert again.values == encoded(*first)
    assert again.waiting() == encoded(first[2])
    # The same values queued again on resume (`seed_search` does) change
    # nothing, and no queued architecture is trained twice.
    again.enqueue(encoded(*first))
    assert again.values == encoded(*first)
    rest = drive(again, 6)
    assert rest[0] == first[2]
    ops = first[:2] + rest
    assert len(ops) == 8 and all(ops.count(q) == 1 for q in first)


def test_set_state_restores_the_queue_of_get_state(tmp_path):
    oracle = Queue(make("random", tmp_path), encoded(["dense-16"]))
    state = oracle.get_state()
    copy = Queue(make("random", tmp_path / "other"))
    copy.set_state(json.loads(json.dumps(state)))
    assert copy.values == oracle.values == encoded(["dense-16"])
    # A state saved by the strategy alone (a kill between its save and
    # the queue's) leaves the queue as it was.
    copy.set_state(make("random", tmp_path / "third").get_state())
    assert copy.values == encoded(["dense-16"])


def test_an_architecture_the_strategy_tried_is_not_queued_again(tmp_path):
    oracle = Queue(make("random", tmp_path))
    tried = drive(oracle, 2)
    new = next(ops for ops in (["dense-16"], ["maxpool"], ["dropout"])
               if ops not in tried)
    oracle.enqueue(encoded(tried[0], new, new))
    assert oracle.waiting() == encoded(new)  # Once, and untried.
    assert drive(oracle, 1) == [new]


def _one_mutation_apart(child, parent):
    """Whether one replace, insert, delete or swap turns parent into child."""
    if len(child) == len(parent):
        diff = [i for i, (a, b) in enumerate(zip(child, parent)) if a != b]
        return len(diff) == 1 or (
            len(diff) == 2 and child[diff[0]] == parent[diff[1]]
            and child[diff[1]] == parent[diff[0]])
    longer, shorter = sorted((child, parent), key=len, reverse=True)
    return len(longer) == len(shorter) + 1 and any(
        longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def test_queue_counts_towards_the_evolution_population(tmp_path):
    inner = oracles.get("evolution", space=space(), objective=MAX,
                        max_trials=8, seed=0,
                        options={"population_size": 4, "crossover_rate": 0})
    inner._set_project_dir(str(tmp_path), "p")
    inner.verbose = 0
    inner.update_space(space().hyperparameters)
    queued = [["dense-16"], ["dropout", "dense-16"], ["maxpool"],
              ["conv3x3-16"]]
    oracle = Queue(inner, encoded(*queued))
    proposals = drive(oracle, 5)
    # 4 queued = the whole population: the fifth is already a child, one
    # mutation away from a member, not a random draw.
    assert proposals[:4] == queued
    # Aging evolution: the fifth's completion retired the oldest member.
    assert oracle.population == inner.population == ["1", "2", "3", "4"]
    assert proposals[4] not in queued
    assert any(_one_mutation_apart(proposals[4], q) for q in queued)


def test_queue_counts_towards_the_local_search_start(tmp_path):
    inner = make("local", tmp_path)
    first = [["dense-16"], ["dropout", "dense-16"], ["maxpool"]]
    proposals = drive(Queue(inner, encoded(*first)), 4)
    # 3 queued = the whole start: the fourth is a neighbour of the best
    # (the longest, by the contract's score), one op away from it.
    assert inner.incumbent == "1"
    fourth, best = proposals[3], first[1]
    assert fourth != best and (
        len(fourth) == len(best)
        and sum(a != b for a, b in zip(fourth, best)) == 1
        or abs(len(fourth) - len(best)) == 1)


def test_hyperband_takes_no_queue():
    hyperband = oracles.get("hyperband", space=space(), objective=MAX,
                            max_trials=4, epochs=3)
    with pytest.raises(ValueError, match="Queued architectures cannot be "
                       "combined with Hyperband.*Received: strategy="
                       "HyperbandOracle"):
        Queue(hyperband)
    with pytest.raises(ValueError, match="Hyperband"):
        oracles.enqueue(hyperband, encoded(["dense-16"]))
    # A search's oracle for Hyperband is Hyperband's own, unwrapped.
    assert oracles.wrap(hyperband) is hyperband


def test_enqueue_finds_the_queue_of_a_searchs_oracle(tmp_path):
    oracle = oracles.wrap(make("random", tmp_path), promotions=True)
    oracles.enqueue(oracle, encoded(["maxpool"]))
    assert oracle.oracle.waiting() == encoded(["maxpool"])
    assert oracles.strategy_of(oracle) is oracle.oracle.oracle
    with pytest.raises(ValueError, match="has no queue"):
        oracles.enqueue(make("random", tmp_path / "bare"),
                        encoded(["maxpool"]))
