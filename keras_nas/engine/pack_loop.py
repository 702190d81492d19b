"""Keras Tuner's search loop, a pack of trials at a time.

`keras_tuner`'s `BaseTuner.search` asks the oracle for one trial, trains
it, records it, and asks again. Here the tuner asks for several at once, as
that many workers would: each under a tuner id of its own (slot `0` is the
tuner's own id, slot `k` `"<id>-pack<k>"`), so the oracle proposes them as
it proposes for workers, in a fixed order (reproducible under a seed), and
keeps them as ongoing trials, which a resume after a kill runs again. The
pack is trained (`NASTuner.train_pack`), then each trial is recorded
exactly as Keras Tuner records one: `_try_run_and_update_trial` (whose
`run_trial` hands back the pack's outcome for it) and `on_trial_end`.

How many trials a pack takes is the `PackSize` rule's (`engine.pack_size`):
trials are taken until the pack is full.
"""

from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas.engine import outcome

__all__ = ["applies", "is_slot_of", "search", "slot_id", "take"]


def applies(tuner, fit_kwargs):
    """Whether `tuner` trains its trials in packs: a pack size above 1, no
    distribution strategy, no `class_weight` or `sample_weight` (which a
    model of several outputs takes otherwise), and not the chief of Keras
    Tuner's own distributed mode."""
    return (tuner.pack_size.most() > 1
            and tuner.distribution_strategy is None
            and not fit_kwargs.get("class_weight")
            and fit_kwargs.get("sample_weight") is None
            and not _compat.is_chief())


def has_room(tuner, trials):
    """Whether the pack of `trials` takes one more (`PackSize.has_room` on
    their architectures' costs; one that cannot be sized costs nothing:
    it fails when it is built, as alone)."""
    return tuner.pack_size.has_room([_cost(tuner, t) for t in trials])


def _cost(tuner, trial):
    try:
        return outcome.architecture_cost(tuner, trial.hyperparameters)
    except Exception:  # An invalid or broken architecture.
        return {"params": 0.0, "flops": 0.0}


def slot_id(tuner_id, slot):
    """The tuner id of slot `slot` of a tuner's packs."""
    return tuner_id if slot == 0 else f"{tuner_id}-pack{slot}"


def is_slot_of(tuner_id, other):
    """Whether tuner id `other` is one of `tuner_id`'s slots."""
    return other == tuner_id or other.startswith(f"{tuner_id}-pack")


def take(tuner, owner=None, limit=None):
    """The trials of the next pack, asked of `tuner`'s oracle under the
    slots of `owner` (a tuner id; defaults to the tuner's own), at most
    `limit` (defaults to `tuner.pack_limit()`).

    Returns:
        `(trials, stopped, idle)`: whether the oracle said stop, and
        whether it said it waits for results (the pack then holds what it
        got before).
    """
    owner = tuner.tuner_id if owner is None else owner
    limit = tuner.pack_limit() if limit is None else limit
    trials, stopped, idle = [], False, False
    for slot in range(limit):
        if trials and not has_room(tuner, trials):
            break
        trial = tuner.oracle.create_trial(slot_id(owner, slot))
        if trial.status == TrialStatus.STOPPED:
            stopped = True
            continue  # Each slot hears it, and leaves the oracle's list.
        if trial.status == TrialStatus.IDLE:
            idle = True
            break  # The oracle waits for results: train what there is.
        trials.append(trial)
    return trials, stopped, idle


def search(tuner, *fit_args, **fit_kwargs):
    """`BaseTuner.search`'s loop, a pack at a time (the chief of Keras
    Tuner's own distributed mode is left to Keras Tuner)."""
    tuner.on_search_begin()
    while True:
        tuner.pre_create_trial()
        trials, stopped, _ = take(tuner)
        if not trials:
            if stopped:
                break
            continue  # The oracle is busy: ask again, as Keras Tuner does.
        for trial in trials:
            tuner.on_trial_begin(trial)
        if len(trials) > 1:
            tuner.train_pack(trials, *fit_args, **fit_kwargs)
        record(tuner, trials, fit_args, fit_kwargs)
    tuner.on_search_end()


def record(tuner, trials, fit_args, fit_kwargs):
    """Record each trial of a pack as Keras Tuner records one; a trial the
    pack did not train trains alone here. An error that ends the search
    (the failure policy's) is raised once every trial is recorded."""
    error = None
    try:
        for trial in trials:
            _compat.run_and_update_trial(tuner, trial, *fit_args,
                                         **fit_kwargs)
            try:
                tuner.on_trial_end(trial)
            except RuntimeError as e:  # The failure policy: stop after all.
                error = error or e
    finally:
        tuner.end_pack()
    if error is not None:
        raise error
