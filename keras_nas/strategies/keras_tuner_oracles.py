"""Keras Tuner's own oracles, taught to propose only valid sequences.

`RandomSearchOracle`, `BayesianOptimizationOracle` and `HyperbandOracle`
search a `SearchSpace` unchanged, but know nothing of shapes: on an 8x8 image
a random depth-6 sequence often pools below 1x1. These subclasses take the
space and redraw any proposal the space rejects (invalid for the input shape,
over `max_params`, or, for Bayesian optimization, a duplicate), so no trial
of the budget is spent on a model that cannot be built. Their best trials
break exact ties on the objective as ours do (`scores.best_trials`).

Whether a strategy can optimize several objectives is declared by the
strategy: our oracles say it with a class attribute,
`supports_multi_objective`; Keras Tuner's own oracles, which say nothing,
have it in `KERAS_TUNER_MULTI_OBJECTIVE`, the one table of them.
`supports_multi_objective(oracle)` reads either.
"""

import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from keras_nas import _compat
from keras_nas.strategies import scores

__all__ = [
    "KERAS_TUNER_MULTI_OBJECTIVE",
    "RandomSearchOracle",
    "BayesianOptimizationOracle",
    "HyperbandOracle",
    "supports_multi_objective",
]

#: Whether each of Keras Tuner's own oracles can take several objectives.
#: Given a list, Keras Tuner optimizes the sum of their values (accuracy
#: plus a parameter count): a random or grid search only ranks by it in the
#: end, while Bayesian optimization and Hyperband steer by it.
KERAS_TUNER_MULTI_OBJECTIVE = {
    keras_tuner.oracles.RandomSearchOracle: True,
    keras_tuner.oracles.GridSearchOracle: True,
    keras_tuner.oracles.BayesianOptimizationOracle: False,
    keras_tuner.oracles.HyperbandOracle: False,
}


def supports_multi_objective(oracle):
    """Whether `oracle` (an oracle or its class) can optimize several
    objectives: its own `supports_multi_objective` attribute, or for Keras
    Tuner's oracles (and their subclasses) `KERAS_TUNER_MULTI_OBJECTIVE`. A
    user's oracle that declares nothing is taken at its word that it can."""
    cls = oracle if isinstance(oracle, type) else type(oracle)
    declared = getattr(cls, "supports_multi_objective", None)
    if declared is not None:
        return bool(declared)
    for base in cls.__mro__:
        if base in KERAS_TUNER_MULTI_OBJECTIVE:
            return KERAS_TUNER_MULTI_OBJECTIVE[base]
    return True

# Random draws per proposal before the space counts as exhausted.
_MAX_DRAWS = 1000


class _ValidProposals(scores.BestTrials):
    """Mixin: every RUNNING proposal decodes to a sequence the space accepts."""

    def __init__(self, *args, space=None, **kwargs):
        if space is not None:
            kwargs["hyperparameters"] = space.hyperparameters_with(
                kwargs.get("hyperparameters"))
        super().__init__(*args, **kwargs)
        self.space = space

    def _valid(self, values):
        if self.space is None:
            return True
        return self.space.check(self.space.decode(values)) is None

    def _random_values(self):
        for _ in range(_MAX_DRAWS):
            values = super()._random_values()
            if values is None or self._valid(values):
                return values
        return None

    def populate_space(self, trial_id):
        response = super().populate_space(trial_id)
        if response["status"] != TrialStatus.RUNNING:
            return response
        values = response["values"]
        if self._valid(values) and not _compat.is_duplicate(self, values):
            return response
        values = self._random_values()
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}


class RandomSearchOracle(_ValidProposals, keras_tuner.oracles.RandomSearchOracle):
    """`keras_tuner.oracles.RandomSearchOracle` over a `SearchSpace`.

    Args:
        space: The `keras_nas.SearchSpace` to search; proposals it rejects are
            drawn again.
        **kwargs: As for `keras_tuner.oracles.RandomSearchOracle`.
    """


class BayesianOptimizationOracle(
    _ValidProposals, keras_tuner.oracles.BayesianOptimizationOracle
):
    """`keras_tuner.oracles.BayesianOptimizationOracle` over a `SearchSpace`.

    A Gaussian-process optimum that the space rejects, or that was tried
    before, is replaced by a random valid candidate.
    """


class HyperbandOracle(_ValidProposals, keras_tuner.oracles.HyperbandOracle):
    """`keras_tuner.oracles.HyperbandOracle` over a `SearchSpace`."""
