"""Regularized (aging) evolution as a Keras Tuner oracle.

Real et al., "Regularized Evolution for Image Classifier Architecture Search"
(AAAI 2019). The population is a queue of the `population_size` most recently
completed trials. Each child is made from the best of a random sample of
`sample_size` members (a tournament): by mutation, or at `crossover_rate` by
crossing it with the winner of a second tournament. The oldest member leaves
the queue when a new one joins, whatever its score, which is what keeps the
search from resting on one lucky early model.

With several objectives (`objective=[...]`, which Keras Tuner turns into a
`MultiObjective`), the tournament winner is chosen as in NSGA-II (Deb et al.,
"A fast and elitist multiobjective genetic algorithm", 2002): the lowest
Pareto rank, then the largest crowding distance, both computed over the whole
aging population. Everything else (the queue, aging, mutation) is unchanged:
the queue plays the part of NSGA-II's parent population, and aging replaces
its truncation, so the oracle stays one algorithm with one selection rule.
Keras Tuner's `trial.score` for a `MultiObjective` is a plain sum of the
values (negated where maximised), which would let the largest-scaled metric
(a parameter count) drown the others, so it is never used for selection.

This module is the population and its selection; how a child's values are
made from its parents (a weighted mutation, a crossover) is
`mutations.mutate_values` and `mutations.crossover_values`.
"""

import math

import keras_tuner
import numpy as np
from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas.strategies import candidates, ensemble_parents, mutations
from keras_nas.strategies import pareto
from keras_nas.strategies import predictor as predictor_module
from keras_nas.strategies import scores
from keras_nas.schedulers.halving import common_scale, compare
from keras_nas._checks import check_int
from keras_nas.space.search_space import SearchSpace

__all__ = ["EvolutionOracle", "MUTATIONS"]

#: The mutations a child is made by (`mutations.MUTATIONS`).
MUTATIONS = mutations.MUTATIONS

_RUNNING = TrialStatus.RUNNING
_STOPPED = TrialStatus.STOPPED
_COMPLETED = TrialStatus.COMPLETED


class EvolutionOracle(scores.BestTrials, keras_tuner.Oracle):
    """Aging evolution over op sequences or any `HyperParameters` space.

    Args:
        space: A `keras_nas.SearchSpace`. Its op sequences are mutated by
            replacing, inserting, deleting or swapping ops, and a child is
            proposed only if the space accepts it (valid for the input shape
            and within `max_params`, once the space knows the shape). Leave it
            `None` to evolve a plain `keras_tuner.HyperParameters` space (from
            `hyperparameters`, or declared by the hypermodel of the tuner),
            where a mutation draws one active value anew. Defaults to `None`.
        objective: As in `keras_tuner.Oracle`. A list of objectives (names or
            `keras_tuner.Objective`s) selects by Pareto rank then crowding
            distance (NSGA-II), reading each objective's best value of the
            trial (the maximum or minimum over its steps, by the objective's
            own direction) from `trial.metrics`. Metrics whose direction
            Keras Tuner cannot infer, such as `params`, `flops` or
            `latency_ms`, must be given as `keras_tuner.Objective(name,
            "min")`.
        max_trials: Most trials to run. Defaults to `None` (until stopped or
            the space is exhausted).
        population_size: The number of most recent completed trials that form
            the population. Also the number of random trials that seed it.
            Defaults to `20`.
        sample_size: Members drawn for each tournament. Defaults to `5`.
        crossover_rate: Chance that a child crosses two tournament winners
            instead of mutating one. Defaults to `0.1`.
        mutation_weights: Optional mapping from a name in `MUTATIONS` to its
            relative weight. Mutations that cannot apply to a parent (an
            insert at `max_depth`, say) are skipped. Defaults to equal
            weights.
        seed: Optional integer. The same seed gives the same proposals.
        hyperparameters: Optional `HyperParameters`: the whole space without a
            `space`, or extra hyperparameters beside it.
        max_attempts: Children tried per proposal before falling back to a
            random untried candidate. Defaults to `100`.
        predictor: Optional `strategies.predictor.Predictor` (or `True` for
            its defaults): once enough trials have completed, each proposal
            mutates the best completed trials into many children and
            proposes the one the surrogate's acquisition ranks first.
            Defaults to `None` (plain aging evolution).
        ensemble_size: Optional integer `k` of at least 2: evolve for an
            ensemble (NES-RE, Zaidi et al. 2021; `ensemble_parents`): each
            parent is a member, drawn uniformly, of the ensemble of `k`
            different models that greedy selection makes of the population
            on validation predictions, not a tournament's winner. One
            objective, no `predictor`. Defaults to `None` (off).
        **kwargs: `allow_new_entries`, `tune_new_entries`,
            `max_retries_per_trial` and `max_consecutive_failed_trials`, as in
            `keras_tuner.Oracle`.
    """

    #: Several objectives are selected by Pareto rank (NSGA-II).
    supports_multi_objective = True

    def __init__(
        self,
        space=None,
        objective=None,
        max_trials=None,
        population_size=20,
        sample_size=5,
        crossover_rate=0.1,
        mutation_weights=None,
        seed=None,
        hyperparameters=None,
        max_attempts=100,
        predictor=None,
        ensemble_size=None,
        **kwargs,
    ):
        if space is not None and not isinstance(space, SearchSpace):
            raise TypeError(
                "`space` must be a `keras_nas.SearchSpace` or None. Received: "
                f"space={space!r} (of type {type(space).__name__}). A plain "
                "`keras_tuner.HyperParameters` goes in `hyperparameters`."
            )
        check_int("population_size", population_size, 2)
        check_int("sample_size", sample_size, 1)
        check_int("max_attempts", max_attempts, 1)
        if max_trials is not None:
            check_int("max_trials", max_trials, 1)
        if sample_size > population_size:
            raise ValueError(
                "`sample_size <= population_size` must hold, but got "
                f"(sample_size={sample_size}, "
                f"population_size={population_size})."
            )
        if not 0.0 <= float(crossover_rate) <= 1.0:
            raise ValueError(
                "`crossover_rate` must be in [0, 1]. Received: "
                f"crossover_rate={crossover_rate!r}."
            )
        self.mutation_weights = mutations.check_weights(mutation_weights)
        self.population_size = int(population_size)
        self.sample_size = int(sample_size)
        self.crossover_rate = float(crossover_rate)
        self.max_attempts = int(max_attempts)
        self.predictor = predictor_module.from_argument(predictor)
        self.space = None
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            **kwargs,
        )
        if seed is not None:
            self.seed = int(seed)  # Keras Tuner replaces a seed of 0.
        if space is not None:
            self.set_space(space)
        self.ensemble_size = ensemble_parents.check_size(
            ensemble_size, self.multi_objective, self.predictor)
        # `(trial_ids, size) -> picks`, set by the search; never saved.
        self.ensemble_selector = None
        self._ensemble = []
        self._rng = np.random.default_rng(self.seed)
        # Trial ids of the population, oldest first.
        self._population = []
        # [trial_id, score] of every completed trial, in the order they ended.
        self._history = []
        self._num_proposed = 0

    def set_space(self, space):
        """Evolve op sequences of `space` (a `SearchSpace` bound or not)."""
        self.hyperparameters = space.hyperparameters_with(self.hyperparameters)
        self.space = space

    # -- the algorithm -----------------------------------------------------

    def populate_space(self, trial_id):
        # Trials proposed from a queue (`oracles.queue`) seed the population
        # too, so they count towards its random initialization.
        seeded = max(self._num_proposed, len(self.trials))
        if seeded < self.population_size or not self._population:
            values = self._random_untried()
        else:
            values = self._evolve()
        if values is None:
            return {"status": _STOPPED, "values": None}
        self._num_proposed += 1
        return {"status": _RUNNING, "values": values}

    def _evolve(self):
        if self.predictor is not None and not self.multi_objective:
            guided = self._guided()
            if guided is not None:
                return guided
        for _ in range(self.max_attempts):
            parent = self._parent()
            if (
                self.crossover_rate
                and len(self._population) > 1
                and self._rng.random() < self.crossover_rate
            ):
                child = self._crossover(parent, self._parent())
                if not self._acceptable(child):
                    child = self._mutate(child)
            else:
                child = self._mutate(parent)
            if child is not None and self._acceptable(child):
                return child
        return self._random_untried()

    def _guided(self):
        """The child of the best completed trials that the predictor ranks
        first, or `None` before it has enough trials."""
        done = [self.trials[t] for t, _ in self._history]
        if len(done) < self.predictor.min_trials:
            return None
        scaled = common_scale(done)  # Like with like under halving.
        parents = sorted(done, key=lambda t: scaled[t.trial_id],
                         reverse=self.objective.direction == "max")
        parents = parents[: self.predictor.parents]
        children, keys = [], set()
        for i in range(self.predictor.children * 3):
            if len(children) >= self.predictor.children:
                break
            parent = dict(parents[i % len(parents)].hyperparameters.values)
            child = self._mutate(parent)
            key = None if child is None else repr(sorted(child.items()))
            if key is not None and key not in keys and self._acceptable(child):
                keys.add(key)
                children.append(child)
        ranked = self.predictor.order(self, children, self._rng)
        return ranked[0] if ranked else None

    def _parent(self):
        """A parent's values: from the population's ensemble with an
        `ensemble_size` (when there is one), else a tournament's winner."""
        if self.ensemble_size is not None:
            values = ensemble_parents.draw(self)
            if values is not None:
                return values
        return self._tournament()

    def _tournament(self):
        size = min(self.sample_size, len(self._population))
        picks = self._rng.choice(len(self._population), size, replace=False)
        members = [self.trials[self._population[int(i)]] for i in picks]
        return dict(self._select(members).hyperparameters.values)

    def _select(self, members):
        """The tournament winner among `members` (trials of the population).

        The one place that compares members. With one objective, like with
        like: under successive halving two members are compared at the
        highest rung both reached (`halving.compare`), otherwise on their
        scores. With several, by NSGA-II rank then crowding distance over
        the population. Ties go to the member sampled first.
        """
        if not self.multi_objective:
            winner = members[0]
            for member in members[1:]:
                if compare(member, winner, self.objective.direction):
                    winner = member
            return winner
        ids = list(self._population)
        rank, crowd = pareto.nsga2_rank(
            [self._objective_values(self.trials[t]) for t in ids],
            [o.direction for o in self.objective.objectives],
        )
        where = {t: i for i, t in enumerate(ids)}
        return min(members, key=lambda t: (rank[where[t.trial_id]],
                                           -crowd[where[t.trial_id]]))

    @property
    def multi_objective(self):
        """Whether the objective is a list (selection by Pareto rank)."""
        return _compat.is_multi_objective(self.objective)

    def _objective_values(self, trial):
        """Each objective's best value in `trial`, in the objectives' order,
        or `None` if one is missing or not finite."""
        return scores.objective_values(trial, self.objective.objectives)

    def _mutate(self, values):
        return mutations.mutate_values(self.space, self.hyperparameters,
                                       values, self.mutation_weights,
                                       self._rng)

    def _crossover(self, a, b):
        return mutations.crossover_values(self.space, self.hyperparameters,
                                          a, b, self._rng)

    # -- values ------------------------------------------------------------

    def _acceptable(self, values):
        return candidates.acceptable(self, self.space, values)

    def _random_untried(self):
        return candidates.random_untried(self, self.space, self.hyperparameters,
                                         self._rng, self.max_attempts)

    # -- bookkeeping -------------------------------------------------------

    def score_trial(self, trial):
        # Keras Tuner records the `multi_objective` sum only for a `History`
        # result; a `run_trial` that returns a dict of metrics would fail
        # here with "Unknown metric: multi_objective". Sum the best values;
        # NaN (Keras Tuner then marks the trial INVALID) when one is missing.
        if not self.multi_objective or trial.metrics.exists(self.objective.name):
            return super().score_trial(trial)
        values = self._objective_values(trial)
        names = [o.name for o in self.objective.objectives]
        trial.score = (float("nan") if values is None
                       else self.objective.get_value(dict(zip(names, values))))
        trial.best_step = 0

    @keras_tuner.synchronized
    def end_trial(self, trial):
        super().end_trial(trial)
        self._admit(self.trials[trial.trial_id])
        self.save()

    def _admit(self, trial):
        if trial.status != _COMPLETED or trial.score is None:
            return
        if not math.isfinite(trial.score):
            return
        if self.multi_objective and self._objective_values(trial) is None:
            return
        if any(tid == trial.trial_id for tid, _ in self._history):
            return
        self._history.append([trial.trial_id, float(trial.score)])
        self._population.append(trial.trial_id)
        del self._population[: -self.population_size]

    def reload(self):
        super().reload()
        # A kill between the trial's own save and ours leaves a completed
        # trial outside the population: admit it now, in end order.
        for trial_id in _compat.end_order(self):
            self._admit(self.trials[trial_id])

    def get_state(self):
        state = super().get_state()
        state.update(
            {
                "evolution": {
                    "rng": self._rng.bit_generator.state,
                    "population": list(self._population),
                    "history": [list(h) for h in self._history],
                    "num_proposed": self._num_proposed,
                    "ensemble": list(self._ensemble),
                }
            }
        )
        return state

    def set_state(self, state):
        super().set_state(state)
        evolution = state["evolution"]
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = evolution["rng"]
        self._population = list(evolution["population"])
        self._history = [list(h) for h in evolution["history"]]
        self._num_proposed = int(evolution["num_proposed"])
        self._ensemble = list(evolution.get("ensemble", []))

    def forget_trial(self, trial_id):
        """Drop `trial_id` from the population: its files were damaged and
        it runs again (`front.project_folder.rerun_damaged`); it rejoins
        when it completes."""
        if trial_id in self._population:
            self._population.remove(trial_id)

    @property
    def population(self):
        """Trial ids of the current population, oldest first."""
        return list(self._population)

    @property
    def ensemble(self):
        """With an `ensemble_size`: the distinct members of the ensemble
        the last parent was drawn from, in order of first pick."""
        return list(self._ensemble)

    @property
    def history(self):
        """`(trial_id, score)` of every completed trial, in end order."""
        return [tuple(h) for h in self._history]

