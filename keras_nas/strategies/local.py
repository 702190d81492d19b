"""Local search as a Keras Tuner oracle.

White, Nolen and Savani, "Local search is state of the art for NAS
benchmarks" (2020). Start at the best of `start_size` random candidates
(the queue's, the warm start's best-ranked among them, count; drawn to
cover the space evenly, `candidates.spread_untried`); try its
unseen neighbours (one op replaced, inserted or deleted, or one other
hyperparameter drawn anew) in random order, and move to the first that
improves on it (`first_improvement=False`: to the best of them all); at a
local optimum, where no neighbour improves, start again from the best of
`start_size` fresh random candidates. Nothing is proposed twice.

Candidates are compared like with like (`halving.compare`: at the highest
rung both reached under successive halving). Its whole state (the phase,
the incumbent, the neighbours left in their order, the random state) is
saved with the oracle, so a resumed search makes the proposals the
uninterrupted one would. A `Predictor` may order the neighbours by an
acquisition instead of at random, and leave out those it puts well below
the incumbent (`Predictor.prune`; `strategies.predictor`).
"""

import math

import keras_tuner
import numpy as np
from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas._checks import check_int
from keras_nas.space.search_space import SearchSpace
from keras_nas.strategies import candidates, hp_values, mutations
from keras_nas.strategies import predictor as predictor_module
from keras_nas.strategies import scores
from keras_nas.schedulers.halving import compare

__all__ = ["LocalSearchOracle", "neighbour_values"]

_RUNNING = TrialStatus.RUNNING
_STOPPED = TrialStatus.STOPPED
_COMPLETED = TrialStatus.COMPLETED
#: Random candidates of which `balanced_start` proposes the best spread.
_START_DRAWS = 20


def neighbour_values(space, hyperparameters, values, rng):
    """Every candidate one change away from `values`: each op sequence one
    replace, insert or delete away (with `space`), and each other value of
    each other active hyperparameter (one drawn anew where there are too
    many to list). In a fixed order for a given `rng` state."""
    found = []
    if space is not None:
        ops = space.decode(values)
        for new_ops in mutations.neighbours(ops, space.ops, space.min_depth,
                                            space.max_depth):
            found.append(mutations.with_ops(space, hyperparameters, values,
                                            new_ops, rng))
        others = hp_values.other_hps(hyperparameters, values)
    else:
        others = hp_values.mutable_hps(hyperparameters, values)
    for hp in others:
        choices = hp_values.other_values_of(hp, values.get(hp.name))
        if choices is None:
            found.append(hp_values.resample_one(hyperparameters, values, [hp],
                                                rng))
            continue
        for value in choices:
            changed = dict(values)
            changed[hp.name] = value
            found.append(hp_values.complete(hyperparameters, changed, rng))
    return [v for v in found if v is not None]


class LocalSearchOracle(scores.BestTrials, keras_tuner.Oracle):
    """Local search over op sequences or any `HyperParameters` space.

    Args:
        space: A `keras_nas.SearchSpace`, or `None` to search a plain
            `keras_tuner.HyperParameters` space (from `hyperparameters`, or
            declared by the hypermodel). Defaults to `None`.
        objective: As in `keras_tuner.Oracle`; one objective.
        max_trials: Most trials to run. Defaults to `None`.
        start_size: Random candidates whose best is the first incumbent,
            and again at each restart. Defaults to `10`.
        balanced_start: Draw each start's random candidates to cover the
            space evenly (`candidates.spread_untried`: each the one of
            20 random candidates whose ops and values repeat least those
            of the start so far) instead of independently; it lifted the
            default on NAS-Bench-201 (benchmarks/README.md). Defaults to
            `True`.
        first_improvement: Move to the first neighbour that improves (in
            random order, or the predictor's); `False` tries every
            neighbour and moves to the best. Defaults to `True`.
        predictor: Optional `strategies.predictor.Predictor` (or `True` for
            its defaults) that orders the neighbours once enough trials
            have completed. Defaults to `None`.
        seed: Optional integer. The same seed gives the same proposals.
        hyperparameters: Optional `HyperParameters`: the whole space without a
            `space`, or extra hyperparameters beside it.
        max_attempts: Random draws per random proposal before enumerating
            a small space. Defaults to `100`.
        **kwargs: As in `keras_tuner.Oracle`.
    """

    #: An improvement is on one objective: several have no order to climb.
    supports_multi_objective = False

    def __init__(self, space=None, objective=None, max_trials=None,
                 start_size=10, first_improvement=True, predictor=None,
                 seed=None, hyperparameters=None, max_attempts=100,
                 balanced_start=True, **kwargs):
        if space is not None and not isinstance(space, SearchSpace):
            raise TypeError(
                "`space` must be a `keras_nas.SearchSpace` or None. Received: "
                f"space={space!r} (of type {type(space).__name__}). A plain "
                "`keras_tuner.HyperParameters` goes in `hyperparameters`.")
        check_int("start_size", start_size, 1)
        check_int("max_attempts", max_attempts, 1)
        if not isinstance(first_improvement, bool):
            raise TypeError(
                "`first_improvement` must be a bool. Received: "
                f"first_improvement={first_improvement!r}.")
        if not isinstance(balanced_start, bool):
            raise TypeError(
                "`balanced_start` must be a bool. Received: "
                f"balanced_start={balanced_start!r}.")
        self.start_size = int(start_size)
        self.balanced_start = balanced_start
        self.first_improvement = first_improvement
        self.predictor = predictor_module.from_argument(predictor)
        self.max_attempts = int(max_attempts)
        self.space = None
        super().__init__(objective=objective, max_trials=max_trials,
                         hyperparameters=hyperparameters, seed=seed, **kwargs)
        if _compat.is_multi_objective(self.objective):
            raise ValueError(
                "Local search takes one objective. Received: objective="
                f"{[o.name for o in self.objective.objectives]}. Accepted: "
                "one name or `keras_tuner.Objective`; for several, use "
                "strategy='evolution'.")
        if seed is not None:
            self.seed = int(seed)  # Keras Tuner replaces a seed of 0.
        if space is not None:
            self.set_space(space)
        self._rng = np.random.default_rng(self.seed)
        self._phase = "start"
        self._phase_begin = 0     # len(self.trials) when the phase began.
        self._phase_ids = []      # Start candidates of this phase.
        self._incumbent = None
        self._neighbours = None   # Values left to try, in order; None: not
        #                           listed yet.
        self._tried = []          # Neighbours proposed from this incumbent.
        self._seen = []           # Ended trials already taken into account.
        self._ranked_at = 0       # len(self._seen) when last ordered.
        self._restarts = 0

    def set_space(self, space):
        """Search op sequences of `space` (a `SearchSpace`)."""
        self.hyperparameters = space.hyperparameters_with(self.hyperparameters)
        self.space = space

    # -- the algorithm -----------------------------------------------------

    def populate_space(self, trial_id):
        values = self._propose(trial_id)
        if values is None:
            return {"status": _STOPPED, "values": None}
        return {"status": _RUNNING, "values": values}

    def _propose(self, trial_id):
        if self._phase == "start":
            started = len(self.trials) - self._phase_begin
            best = self._best(self._phase_ids)
            if started >= self.start_size and best is not None:
                self._move_to(best)
            else:
                self._phase_ids.append(trial_id)
                return self._start_candidate(trial_id)
        values = self._next_neighbour()
        if values is not None:
            self._tried.append(trial_id)
            return values
        if any(self.trials[t].status == _RUNNING for t in self._tried
               if t in self.trials):
            return self._random()  # Neighbours still running: wait on them.
        best = None if self.first_improvement else self._best(self._tried)
        if best is not None and self._beats(best, self._incumbent):
            self._move_to(best)
            return self._propose(trial_id)
        # A local optimum: start again.
        self._restarts += 1
        self._phase = "start"
        self._phase_begin = len(self.trials)
        self._phase_ids = [trial_id]
        self._incumbent = None
        return self._start_candidate(trial_id)

    def _start_candidate(self, trial_id):
        if not self.balanced_start:
            return self._random()
        # The start's other candidates; not `trial_id`, which a damaged
        # trial proposed again (`project_folder.rerun_damaged`) still is.
        group = [self.trials[t].hyperparameters.values
                 for t in self._phase_ids
                 if t != trial_id and t in self.trials]
        return candidates.spread_untried(
            self, self.space, self.hyperparameters, self._rng,
            self.max_attempts, group, _START_DRAWS)

    def _random(self):
        return candidates.random_untried(self, self.space, self.hyperparameters,
                                         self._rng, self.max_attempts)

    def _move_to(self, trial_id):
        self._phase = "neighbours"
        self._incumbent = trial_id
        self._neighbours = None
        self._tried = []

    def _next_neighbour(self):
        if self._neighbours is None:
            values = dict(self.trials[self._incumbent].hyperparameters.values)
            found = neighbour_values(self.space, self.hyperparameters, values,
                                     self._rng)
            self._rng.shuffle(found)
            self._neighbours = self._order(found)
            self._ranked_at = len(self._seen)
        elif (self.predictor is not None and self.predictor.rerank
              and self._neighbours and len(self._seen) > self._ranked_at):
            # Trials ended since the last order: refit, order again.
            self._neighbours = self._order(self._neighbours)
            self._ranked_at = len(self._seen)
        while self._neighbours:
            values = self._neighbours.pop(0)
            if candidates.acceptable(self, self.space, values):
                return values
        return None

    def _order(self, found):
        if self.predictor is None:
            return found
        return self.predictor.order(self, found, self._rng,
                                    incumbent=self._incumbent)

    def _completed(self, trial_id):
        trial = self.trials.get(trial_id)
        return (trial is not None and trial.status == _COMPLETED
                and trial.score is not None and math.isfinite(trial.score))

    def _beats(self, a, b):
        return compare(self.trials[a], self.trials[b],
                       self.objective.direction)

    def _best(self, trial_ids):
        best = None
        for t in trial_ids:
            if self._completed(t) and (best is None or self._beats(t, best)):
                best = t
        return best

    # -- bookkeeping -------------------------------------------------------

    @keras_tuner.synchronized
    def end_trial(self, trial):
        super().end_trial(trial)
        self._take(trial.trial_id)
        self.save()

    def _take(self, trial_id):
        if trial_id in self._seen:
            return
        self._seen.append(trial_id)
        if self._phase == "start" and trial_id not in self._phase_ids and (
                not self._restarts and trial_id not in self._tried):
            self._phase_ids.append(trial_id)  # A queued candidate.
        if (self._phase == "neighbours" and self.first_improvement
                and trial_id in self._tried and self._completed(trial_id)
                and self._beats(trial_id, self._incumbent)):
            self._move_to(trial_id)

    def reload(self):
        super().reload()
        # A kill between the trial's own save and ours: take it now.
        for trial_id in _compat.end_order(self):
            self._take(trial_id)

    def get_state(self):
        state = super().get_state()
        state["local"] = {
            "rng": self._rng.bit_generator.state,
            "phase": self._phase,
            "phase_begin": self._phase_begin,
            "phase_ids": list(self._phase_ids),
            "incumbent": self._incumbent,
            "neighbours": self._neighbours,
            "tried": list(self._tried),
            "seen": list(self._seen),
            "restarts": self._restarts,
            "ranked_at": self._ranked_at,
        }
        return state

    def set_state(self, state):
        super().set_state(state)
        local = state["local"]
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = local["rng"]
        self._phase = local["phase"]
        self._phase_begin = int(local["phase_begin"])
        self._phase_ids = list(local["phase_ids"])
        self._incumbent = local["incumbent"]
        self._neighbours = local["neighbours"]
        self._tried = list(local["tried"])
        self._seen = list(local["seen"])
        self._restarts = int(local["restarts"])
        self._ranked_at = int(local.get("ranked_at", 0))

    @property
    def incumbent(self):
        """The trial id of the current incumbent, or `None` while starting."""
        return self._incumbent

    @property
    def restarts(self):
        """How many local optima the search has met so far."""
        return self._restarts
