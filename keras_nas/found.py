"""What a finished search found: its trials, its best model, and the ways
to use them (evaluate, predict, retrain, export, plot).

`SearchResults` is the part of `NASSearch` that reads a search after
`fit` (or after `NASSearch.load`); it needs only the search's tuner, its
task, its space and, for `retrain`, the data of `fit`.
"""

from keras_nas import data as data_module
from keras_nas import project
from keras_nas import results as results_module
from keras_nas.space import other_values

__all__ = ["SearchResults"]


class SearchResults:
    """Reading a search's results; mixed into `NASSearch`."""

    def _require_tuner(self):
        if self.tuner is None:
            raise RuntimeError(
                "No search yet: call `fit(x, y)` first, or "
                "`NASSearch.load(directory, project_name)` for a saved one."
            )
        return self.tuner

    def results(self):
        """One `results.TrialRecord` per trial, in trial order."""
        tuner = self._require_tuner()
        return results_module.collect(tuner.oracle, self.space_, self.head)

    def summary(self):
        """Print the table of trials; the best is marked with `*`."""
        tuner = self._require_tuner()
        objective = tuner.oracle.objective
        print(f"Search: {self.project_dir}  strategy: "
              f"{type(tuner.oracle).__name__}  objective: {objective.name}")
        print(results_module.format_table(
            self.results(), objective.name, objective.direction))

    def _best_trial(self):
        tuner = self._require_tuner()
        best = [t for t in tuner.oracle.get_best_trials(1)
                if t.status == "COMPLETED"]
        if not best:
            raise RuntimeError(
                "No trial of this search completed, so there is no best "
                "model. See `summary()` for each trial's reason.")
        return best[0]

    def best_architecture(self):
        """The op list of the best trial."""
        return self.space_.decode(self._best_trial().hyperparameters)

    def best_model(self):
        """The best trial's trained `keras.Sequential`, with its best
        weights, or the retrained one after `retrain()`."""
        if self._final_model is not None:
            return self._final_model
        if self._best_model is None:
            self._best_model = self.tuner.load_model(self._best_trial())
        return self._best_model

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
        trial = self._best_trial()
        if epochs is None:
            epochs = int(trial.metrics.get_last_value("epochs") or 1)
        model = self.tuner.hypermodel.build(trial.hyperparameters)
        x, y = self._data.all_data()
        model.fit(x, y, epochs=epochs, verbose=verbose,
                  batch_size=None if y is None else batch_size)
        self._final_model = model
        return model

    def export(self, path):
        """Save the best model as a `.keras` file, and its architecture as
        JSON beside it (`model.keras` and `model.json`).

        The model loads with `keras.models.load_model(path)` (safe mode, no
        `custom_objects`) once `keras_nas` is imported, which registers its
        block layers; the JSON says so. Both files are written whole or not
        at all.

        Returns:
            The path of the JSON file.
        """
        model = self.best_model()
        trial = self._best_trial()
        ops = self.best_architecture()
        plan = self.space_.plan(ops, head=self.head)
        info = {
            "ops": ops,
            "input_shape": list(self.space_.input_shape),
            "task": self.task_.get_config(),
            "objective": self.tuner.oracle.objective.name,
            "value": trial.score,
            "trial_id": trial.trial_id,
            "params": plan.params,
            "flops": plan.flops,
            "retrained": self._final_model is not None,
            "hyperparameters": other_values(trial.hyperparameters.values),
            "layers": [
                {"op": s.op, "output_shape": list(s.output_shape),
                 "params": s.params} for s in plan.steps],
            "space": self.space_.get_config(),
            "search": self.get_config(),
            # Block ops are keras_nas layers, registered by the import.
            "load": "import keras, keras_nas; "
                    "keras.models.load_model(path)",
        }
        return project.export(path, model, info)

    def plot_history(self, path=None):
        """The objective per trial and the best so far; see `report`."""
        from keras_nas import report

        return report.plot_history(self, path)

    def plot_tradeoff(self, path=None):
        """The objective against params, Pareto front marked; see `report`."""
        from keras_nas import report

        return report.plot_tradeoff(self, path)
