"""`NASSearcher`: our strategies inside a user's own Ray Tune.

A team with a Ray Tune pipeline already (`Tuner(trainable,
tune_config=TuneConfig(search_alg=...))`, its schedulers, its storage) can
search op sequences with evolution, local search or the predictor without
adopting `NASSearch`: this `ray.tune.search.Searcher` wraps one of our
oracles. `suggest` asks the oracle for a trial and hands the trainable its
op sequence (`config["ops"]`, to build with `NASSearcher.build`, or with
`keras_nas.build_model`); `on_trial_complete` reports the metric back;
`save` and `restore` carry the oracle's whole state (its trials, its
population, its random state), so a restored experiment proposes what the
original would have.
"""

import json
import tempfile

import keras_tuner
from keras_tuner.engine.trial import Trial, TrialStatus

from keras_nas import _compat
from keras_nas import strategies as oracles
from keras_nas._checks import check_int
from keras_nas.engine.ray_options import require_ray
from keras_nas.space import builder

__all__ = ["NASSearcher"]

require_ray()
from ray.tune.search import Searcher  # noqa: E402


class NASSearcher(Searcher):
    """A Ray Tune search algorithm over a `keras_nas.SearchSpace`.

    Args:
        space: A `SearchSpace`; its `max_params` and `max_flops` bound
            every model proposed.
        input_shape: The shape of one sample, e.g. `(8, 8, 1)`.
        output_units: Units of the model's last layer (classes).
        strategy: A strategy name of `NASSearch` (`"auto"`, `"local"`,
            `"evolution"`, ...), a `keras_nas.Strategy(name, **options)`
            to pass its oracle options (e.g. `Strategy("evolution",
            population_size=4)`), or a `keras_tuner.Oracle`. Defaults to
            `"auto"`, as in `NASSearch`: local search with its predictor
            for one metric.
        metric, mode: The metric the trainable reports and `"max"` or
            `"min"`. `None` takes those of `TuneConfig`, which Ray Tune
            hands a searcher only when the `Tuner` has a `param_space`.
        max_trials: Most trials the oracle proposes (it then answers
            `Searcher.FINISHED`); `TuneConfig(num_samples=...)` may end the
            run sooner. Defaults to `20`.
        seed: Optional seed of the strategy. Defaults to `None`.
        directory: Where the oracle keeps its files; a temporary folder
            when `None`.
    """

    def __init__(self, space, input_shape, output_units, *,
                 strategy="auto", metric=None, mode=None,
                 max_trials=20, seed=None, directory=None):
        oracles.check_strategy(strategy)
        if mode not in (None, "max", "min"):
            raise ValueError(
                "`mode` must be 'max', 'min' or None. Received: "
                f"mode={mode!r}.")
        check_int("max_trials", max_trials, 1)
        super().__init__(metric=metric, mode=mode)
        self.space = space.bind(tuple(input_shape), output_units=output_units)
        self.strategy = strategy
        self.max_trials = max_trials
        self.seed = seed
        self.directory = directory or tempfile.mkdtemp(
            prefix="keras_nas_searcher_")
        self.oracle = None
        self._live = {}  # Ray Tune trial id -> our trial id.

    # -- the oracle ---------------------------------------------------------

    def set_search_properties(self, metric, mode, config, **spec):
        if self.oracle is not None:
            return False
        self._metric = metric or self._metric
        self._mode = mode or self._mode
        return True

    def _get_oracle(self):
        if self.oracle is None:
            if self._metric is None or self._mode is None:
                raise ValueError(
                    "NASSearcher needs `metric` and `mode`: pass them to it "
                    "(Ray Tune hands it TuneConfig's only with a "
                    f"`param_space`). Received: metric={self._metric!r}, "
                    f"mode={self._mode!r}.")
            objective = keras_tuner.Objective(self._metric, self._mode)
            oracle = oracles.get(
                self.strategy, space=self.space, objective=objective,
                max_trials=self.max_trials, seed=self.seed)
            _compat.set_project_dir(oracle, self.directory, "searcher")
            hp = oracle.get_space()
            hp.merge(self.space.hyperparameters.space, overwrite=False)
            oracle.update_space(hp)
            oracle.verbose = 0
            self.oracle = oracle
        return self.oracle

    # -- Searcher ------------------------------------------------------------

    def suggest(self, trial_id):
        oracle = self._get_oracle()
        trial = oracle.create_trial(trial_id)
        if trial.status == TrialStatus.STOPPED:
            return Searcher.FINISHED
        if trial.status == TrialStatus.IDLE:
            return None
        self._live[trial_id] = trial.trial_id
        hp = trial.hyperparameters
        config = {"ops": list(self.space.decode(hp)),
                  "nas_trial_id": trial.trial_id}
        if "learning_rate" in hp.values:
            config["learning_rate"] = float(hp.values["learning_rate"])
        return config

    def on_trial_complete(self, trial_id, result=None, error=False):
        ours = self._live.pop(trial_id, None)
        if ours is None:
            return
        oracle = self._get_oracle()
        trial = oracle.trials[ours]
        if error or not result or self._metric not in result:
            trial.status = TrialStatus.FAILED
            what = "errored" if error else f"reported no {self._metric!r}"
            trial.message = (f"keras_nas.TrialFailed: Ray Tune trial "
                             f"{trial_id} {what}")
        else:
            metrics = {self._metric: float(result[self._metric])}
            oracle.update_trial(ours, metrics)
            trial.status = TrialStatus.COMPLETED
        oracle.end_trial(trial)

    def save(self, checkpoint_path):
        oracle = self._get_oracle()
        state = {"oracle": oracle.get_state(),
                 "trials": {t: trial.get_state()
                            for t, trial in oracle.trials.items()},
                 "live": dict(self._live),
                 "metric": self._metric, "mode": self._mode}
        # JSON, as Keras Tuner saves the same states (they hold defaultdicts).
        with open(checkpoint_path, "w") as f:
            json.dump(state, f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path) as f:
            state = json.load(f)
        self._metric, self._mode = state["metric"], state["mode"]
        self.oracle = None
        oracle = self._get_oracle()
        oracle.trials = {t: Trial.from_state(s)
                         for t, s in state["trials"].items()}
        oracle.set_state(state["oracle"])
        self._live = dict(state["live"])

    # -- for the trainable ----------------------------------------------------

    def build(self, config, activation="softmax"):
        """The uncompiled `keras.Sequential` of `config["ops"]`."""
        return build_model(self.space, config["ops"], activation)


def build_model(space, ops, activation="softmax"):
    """The uncompiled `keras.Sequential` of `ops` over a bound `space`."""
    plan = space.plan(list(ops))
    return builder.build_from_plan(plan, activation, op_table=space.op_table)
