"""What a finished search found: its trials, its best model, and the ways
to use them (evaluate, predict, retrain, export, plot).

`SearchResults` reads a search after `fit` (or after `NASSearch.load`):
`search.results_` is one, and `NASSearch`'s reading methods hand over to
it once a search exists. It needs only the search's config, its tuner, its
task and, for `retrain`, the data of `fit`.
"""

from keras_nas import _compat
from keras_nas.data import prepare as data_module
from keras_nas.analysis import importance as importance_module
from keras_nas.strategies import pareto, scores
from keras_nas.strategies.spec import describe
from keras_nas.analysis import records as results_module
from keras_nas.space.search_space import other_values
from keras_nas.data.task import objectives_of, primary_objective

__all__ = ["SearchResults"]


class SearchResults:
    """A finished (or reopened) search: its trials and its best model.

    Args:
        config: The search's `SearchConfig`.
        tuner: Its `engine.tuner.NASTuner`.
        task: The `data.task.Task` that `fit` inferred.
        data: The `data.prepare.Prepared` data of `fit` in this session, or
            `None` for a search reopened from its folder (`retrain` needs
            it).
    """

    def __init__(self, config, tuner, task, data=None):
        self.config = config
        self.tuner = tuner
        self.task_ = task
        self._data = data
        self._best_model = None
        self._final_model = None

    @property
    def project_dir(self):
        return self.tuner.project_dir

    @property
    def data(self):
        """The prepared data of `fit` in this session, or `None`."""
        return self._data

    @property
    def space_(self):
        """The space bound to the data's shape."""
        return self.tuner.hypermodel.space

    @property
    def head(self):
        return self.config.training.head

    def results(self):
        """One `results.TrialRecord` per trial, in trial order; the members
        of the last ensemble built (`ensemble()`) carry their weight in it
        (`ensemble_weight`)."""
        from keras_nas.front import ensemble as ensemble_module

        return ensemble_module.mark_members(results_module.collect(
            self.tuner.oracle, self.space_, self.head), self.project_dir)

    def objectives(self):
        """The search's `keras_tuner.Objective`s: one, or several in the
        order given; the first trained one is primary (`best_model()`,
        early stopping and successive halving follow it)."""
        return objectives_of(self.tuner.oracle.objective)

    def summary(self):
        """Print the table of trials; the best is marked with `*`, other
        members of the Pareto front (several objectives) with `+`."""
        tuner = self.tuner
        objectives = self.objectives()
        primary = primary_objective(tuner.oracle.objective)
        names = ", ".join(f"{o.name} ({o.direction})" for o in objectives)
        # As the user chose it, and what it became ("auto" in particular).
        strategy = describe(self.config.strategy, self.config.objective)
        print(f"Search: {self.project_dir}  strategy: {strategy}  "
              f"objective{'s' if len(objectives) > 1 else ''}: {names}")
        if self.task_ is not None:
            print(f"Task: {self.task_.describe()}")
        records = self.results()
        front = ({r.trial_id for r in self.pareto_front()}
                 if len(objectives) > 1 else set())
        best = self.best_trial().trial_id if any(
            r.value is not None for r in records) else None
        print(results_module.format_table(
            records, primary.name, primary.direction, best=best,
            front=front,
            columns=[o.name for o in objectives
                     if o.name not in (primary.name, "params")]))
        from keras_nas.front import ensemble as ensemble_module

        record = ensemble_module.read_record(self.project_dir)
        if record is not None:  # The last `ensemble()` of this search.
            print("\n".join(ensemble_module.describe(record)))
        meter = getattr(tuner, "latency", None)
        if meter is not None and meter.measured and self._data is not None:
            print(f"Latency measured for {meter.measured} "
                  f"architecture{'s' if meter.measured > 1 else ''} in "
                  f"{meter.seconds:.1f} s (batch size {meter.batch_size}, on "
                  f"{meter.runtime}"
                  + (f", {meter.conversion_seconds:.1f} s of it converting"
                     if meter.conversion_seconds else "")
                  + ").")

    def pareto_front(self):
        """The completed trials that no other completed trial dominates, as
        `results.TrialRecord`s by increasing `params`.

        With several objectives, over all of them; with one, over it and
        the number of parameters (the trade-off `plot_tradeoff` shows). A
        trial dominates another when it is as good in every objective and
        better in one.
        """
        records, points, directions = self._tradeoff_points()
        front = [records[i] for i in pareto.pareto_front(points, directions)]
        return sorted(front, key=lambda r: (r.params, int(r.trial_id)))

    def _tradeoff_points(self):
        """Completed records with every objective, their points and the
        objectives' directions (for one objective: it and `params`)."""
        objectives = self.objectives()
        records = [r for r in self.results()
                   if r.status == "COMPLETED" and r.value is not None]
        if len(objectives) > 1:
            records = [r for r in records
                       if all(v is not None for v in r.objectives.values())]
            points = [[r.objectives[o.name] for o in objectives]
                      for r in records]
            return records, points, [o.direction for o in objectives]
        records = [r for r in records if r.params is not None]
        return (records, [[r.value, r.params] for r in records],
                [objectives[0].direction, "min"])

    def best_trial(self, trial_id=None):
        """The Keras Tuner trial `best_model()` returns (the primary
        objective decides; exact ties go to the lower `val_loss`), or the
        completed trial `trial_id`."""
        tuner = self.tuner
        if trial_id is not None:
            trial = tuner.oracle.trials.get(str(trial_id))
            if trial is None or trial.status != "COMPLETED":
                done = [t for t, tr in tuner.oracle.trials.items()
                        if tr.status == "COMPLETED"]
                raise ValueError(
                    "`trial_id` must name a completed trial of this search. "
                    f"Received: trial_id={trial_id!r}. Completed: {done}.")
            return trial
        objectives = self.objectives()
        if len(objectives) > 1:
            # Keras Tuner would rank by the sum of the objectives, which
            # adds accuracy to weights: the primary objective decides, the
            # others (in order) break ties.
            records, points, directions = self._tradeoff_points()
            names = [o.name for o in objectives]
            first = names.index(primary_objective(tuner.oracle.objective).name)
            order = [first] + [j for j in range(len(names)) if j != first]

            def rank(i):
                return [points[i][j] if directions[j] == "max"
                        else -points[i][j] for j in order]

            best = [tuner.oracle.trials[records[max(
                range(len(records)), key=rank)].trial_id]] if records else []
        else:
            best = [t for t in scores.best_trials(
                tuner.oracle.trials.values(), tuner.oracle.objective, 1)
                    if t.status == "COMPLETED"]
        if not best:
            raise RuntimeError(
                "No trial of this search completed, so there is no best "
                "model. See `summary()` for each trial's reason.")
        return best[0]

    def best_architecture(self, trial_id=None):
        """The op list of the best trial, or of trial `trial_id`."""
        return self.space_.decode(
            self.best_trial(trial_id).hyperparameters)

    def best_model(self, trial_id=None):
        """The best trial's trained `keras.Sequential`, with its best
        weights, or the retrained one after `retrain()`.

        The best trial is the one best on the objective, exact ties (a
        saturated validation accuracy) broken by the lower loss on the same
        data (`val_loss`); with several objectives, on the primary one (the
        first trained metric), ties broken by the others in order. Pick
        another trial, e.g. one of `pareto_front()`, by its `trial_id`.
        """
        if trial_id is not None:
            return self.tuner.load_model(self.best_trial(trial_id))
        if self._final_model is not None:
            return self._final_model
        if self._best_model is None:
            self._best_model = self.tuner.load_model(self.best_trial())
        return self._best_model

    def importance(self, n_bootstrap=1000, confidence=0.95, seed=0):
        """Why the winner won: the marginal effect of each op, op position,
        depth and other hyperparameter value on the (primary) objective,
        with bootstrap intervals, over the completed trials.

        Returns an `importance.Importance`; `str()` of
        `importance.format_importance(result)` is the text `keras-nas
        report` prints. With fewer than `importance.MIN_TRIALS` completed
        trials it says that nothing can be concluded. A trial stopped by
        successive halving counts with its value at the rung it reached.
        """
        objective = primary_objective(self.tuner.oracle.objective)
        return importance_module.analyze(
            self.results(), direction=objective.direction,
            objective=objective.name, n_bootstrap=n_bootstrap,
            confidence=confidence, seed=seed)

    def evaluate(self, x, y=None, **kwargs):
        """`keras.Model.evaluate` of the best model; labels as in `fit`."""
        model = self.best_model()
        x, y = data_module.encode_for_evaluation(x, y, self.task_)
        kwargs.setdefault("verbose", 0)
        return model.evaluate(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """`keras.Model.predict` of the best model."""
        kwargs.setdefault("verbose", 0)
        return self.best_model().predict(x, **kwargs)

    def retrain(self, epochs=None, batch_size=32, verbose=0):
        """Train the best architecture afresh on training and validation data.

        Args:
            epochs: Epochs to train. Defaults to the epochs the best trial ran.
            batch_size: Defaults to `32`; ignored for datasets.
            verbose: Keras verbosity. Defaults to `0`.

        Returns:
            The retrained `keras.Sequential`; `best_model()`, `evaluate`,
            `predict` and `export` use it from now on.
        """
        if self._data is None:
            raise RuntimeError(
                "`retrain()` needs the data of `fit()` in this session.")
        trial = self.best_trial()
        if epochs is None:
            epochs = int(trial.metrics.get_last_value("epochs") or 1)
        model = self.tuner.hypermodel.build(trial.hyperparameters)
        x, y = self._data.all_data()
        _compat.build_training_state(model, x, y)
        model.fit(x, y, epochs=epochs, verbose=verbose,
                  batch_size=None if y is None else batch_size,
                  **self._data.all_weights())
        self._final_model = model
        return model

    def ensemble(self, size=5, budget=None):
        """An ensemble of the search's trained models, as one `keras.Model`.

        Greedy selection with replacement (Caruana et al., 2004) over the
        completed trials, on the validation predictions each saved at its
        best epoch: it starts from the best single model (by validation
        loss) and adds, up to `size` times, the model whose addition most
        lowers the validation loss of the averaged output; it stops early
        when no addition does. Nothing is trained. The model averages its
        members' outputs with their weights (picks / picks in all), is
        compiled with the search's loss and metrics, and is described in
        `ensemble.json` in the project folder (members, weights, validation
        scores, cost beside the single best), which `summary()` shows.

        Args:
            size: Most picks, an integer of at least 1. Defaults to `5`.
            budget: `{"params": ..., "flops": ..., "latency_ms": ...}`:
                caps on the ensemble as a whole (sums over its distinct
                members). Defaults to `None`: the space's `max_params` and
                `max_flops` and the search's latency budget.

        Returns:
            A compiled `keras.Model`.
        """
        from keras_nas.front import ensemble as ensemble_module

        return ensemble_module.build(self, size, budget)[0]

    def export(self, path, format=None, quantize=None, validation_data=None,
               ensemble=None):
        """Save the best model, and its architecture and checks as JSON
        beside it (`model.onnx` and `model.json`); see `front.export`.
        With `ensemble=k`, the ensemble `ensemble(size=k)` instead.

        The format follows the suffix: `.keras` (loads with
        `keras.models.load_model(path)` once `keras_nas` is imported),
        `.onnx` (ONNX Runtime), `.tflite` (LiteRT), or a folder (a
        TensorFlow SavedModel); `format=` overrides it. The file is loaded
        in its runtime and compared with the Keras model on the validation
        data before it is kept; both files are written whole or not at all.

        Args:
            path: The file (or SavedModel folder) to write.
            format: `"keras"`, `"onnx"`, `"litert"` or `"tf_saved_model"`.
                Defaults to `None` (from the suffix).
            quantize: `"float16"` or `"int8"` (LiteRT), `"int8"` (ONNX,
                dynamic). Defaults to `None` (float32).
            validation_data: `(x, y)` to check on, labels as in `fit`.
                Defaults to the validation data of this session's `fit`.
            ensemble: `None` for the best model, or the `size` of an
                ensemble to export (`ensemble()`). Defaults to `None`.

        Returns:
            The path of the JSON file.
        """
        from keras_nas.front import export as export_module

        if ensemble is None:
            model, info = self.best_model(), self._export_info()
        else:
            from keras_nas.export import runtimes
            from keras_nas.front import ensemble as ensemble_module

            # The format first: a bad one is said before anything is built.
            runtimes.check_format(format or runtimes.format_of_path(path),
                                  quantize)
            model, record = ensemble_module.build(self, ensemble)
            info = ensemble_module.export_info(self, record)
        return export_module.export(
            path, model, info, self.task_, format=format, quantize=quantize,
            validation=export_module.validation_of(self, validation_data),
            representative=export_module.representative_of(self))

    def _export_info(self):
        """The JSON written beside the exported best model."""
        trial = self.best_trial()
        ops = self.best_architecture()
        plan = self.space_.plan(ops, head=self.head)
        chosen = results_module.record(trial, self.space_, self.head,
                                       self.tuner.oracle.objective)
        return {
            "ops": ops,
            "input_shape": list(self.space_.input_shape),
            "task": self.task_.get_config(),
            "objective": primary_objective(
                self.tuner.oracle.objective).name,
            "objectives": [o.name for o in self.objectives()],
            "value": chosen.value,
            "objective_values": chosen.objectives,
            "trial_id": trial.trial_id,
            "params": plan.params,
            "flops": plan.flops,
            "retrained": self._final_model is not None,
            "hyperparameters": other_values(trial.hyperparameters.values),
            "layers": [
                {"op": s.op, "output_shape": list(s.output_shape),
                 "params": s.params} for s in plan.steps],
            "space": self.space_.get_config(),
            "search": self.config.get_config(),
            # Block ops are keras_nas layers, registered by the import.
            "load": "import keras, keras_nas; "
                    "keras.models.load_model(path)",
        }

    def plot_history(self, path=None):
        """The objective per trial and the best so far; see `report`."""
        from keras_nas.analysis import plots as report

        return report.plot_history(self, path)

    def plot_tradeoff(self, path=None):
        """The objective against params (with several objectives, the first
        two), the Pareto front marked; see `report`."""
        from keras_nas.analysis import plots as report

        return report.plot_tradeoff(self, path)

    def plot_importance(self, path=None, top=12):
        """The largest effects of `importance()` with their intervals; see
        `report.plot_importance`."""
        from keras_nas.analysis import plots as report

        return report.plot_importance(self.importance(), path, top=top)
