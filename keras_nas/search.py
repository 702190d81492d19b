"""`NASSearch`: `search.fit(x, y)` like a Keras model.

`NASSearch` is a thin front, as Optuna's `Study` is: it checks its
arguments and hands each job to the module that owns it — the data to
`data.prepare`, the task's loss, metrics and objective to `task.Task`, the
strategy to `oracles.get`, training to `tuner.NASTuner`, progress lines to
`progress.Progress`, parallel workers to `parallel`. Keras Tuner keeps the
trials on disk, so a search run again with `overwrite=False` resumes where
it stopped, and `NASSearch.load` reopens it from its config.
"""

import contextlib
import importlib
import io
import json
import os

import keras
import keras_tuner
import numpy as np

from keras_nas import data as data_module
from keras_nas import oracles
from keras_nas import parallel
from keras_nas import results as results_module
from keras_nas._atomic import write_atomic, write_text_atomic
from keras_nas._checks import check_int
from keras_nas.architecture import HEADS
from keras_nas.callbacks import tensorboards
from keras_nas.halving import Halving
from keras_nas.progress import Progress, keras_verbosity
from keras_nas.space import SearchSpace, other_values
from keras_nas.task import Task, check_task_argument, needs_one_hot
from keras_nas.tuner import NASHyperModel, NASTuner
from keras_nas.warmstart import WarmStart, seed_search

__all__ = ["NASSearch", "STRATEGIES"]

STRATEGIES = oracles.STRATEGIES

#: The search's description in its project folder: its config and what
#: `fit` learned of the data.
_META = "keras_nas.json"


class NASSearch:
    """Neural architecture search that reads like `keras.Model.fit`.

    Args:
        space: A `SearchSpace`, or `None` for the default vocabulary of the
            data (conv/pool/dense for images and sequences, dense for
            tabular), depth 1 to 8. Defaults to `None`.
        strategy: `"evolution"` (regularized evolution), `"random"`,
            `"bayesian"`, `"hyperband"`, or any `keras_tuner.Oracle`
            instance. Defaults to `"evolution"`.
        objective: A metric name, or a `keras_tuner.Objective`. Defaults to
            `"val_accuracy"` for classification and `"val_loss"` for
            regression.
        max_trials: Models to train at most, counting those of earlier runs
            of a resumed search. Defaults to `20`.
        directory: Where the project folder is written. Defaults to
            `"nas_runs"`.
        project_name: The project folder's name. Defaults to `"search"`.
        overwrite: Start afresh instead of resuming an existing project.
            Defaults to `False`.
        seed: Optional seed for the strategy, the validation split and each
            trial's initial weights.
        metrics: Extra Keras metrics for every candidate. The objective may be
            any of them, e.g. `"val_f1_score"` with
            `keras.metrics.F1Score(average="macro")`.
        optimizer: Optimizer name or instance, cloned for every candidate.
            Defaults to `"adam"`.
        loss: A loss to use instead of the task's default.
        task: `None` to infer it from the labels, or `"classification"`,
            `"multiclass"`, `"binary"` or `"regression"`.
        patience: Epochs without improvement of the objective before a
            candidate stops early. Defaults to `3`.
        max_params: Largest model, in weights, that may be proposed.
            Defaults to `None` (no cap).
        max_consecutive_failed_trials: Failures of the user's setup (an
            exception in a callback, the loss, a metric) in a row that stop
            the search; failures of an architecture (NaN loss, out of
            memory, invalid) stop it only when no trial has completed yet.
            Defaults to `3`.
        head: `"auto"`, `"flatten"` or `"gap"`: how spatial maps become flat
            before the head. Defaults to `"auto"`.
        strategy_options: Optional dict of extra arguments for the strategy's
            oracle, e.g. `{"population_size": 10}` for evolution.
        distribution_strategy: Optional `tf.distribute.Strategy` under which
            each trial trains (data parallelism inside a trial; TensorFlow
            backend).
        log_dir: Optional TensorBoard log directory (TensorFlow backend).
        workers: Train trials in this many local worker processes, on Keras
            Tuner's chief/worker engine: this process serves the strategy and
            the workers run this program again (each pinned to its own GPU
            when there are GPUs). The workers stop after `fit`; the code after
            it runs here only. `0` trains here. Defaults to `0`.
        worker_timeout: Optional seconds after which a parallel search is
            stopped with `TimeoutError`.
        trials_per_process: With `workers`, each worker process trains at
            most this many trials, then a fresh one takes over. This bounds
            memory on TensorFlow, which keeps about 5 MB of every traced
            training step until its process ends. Defaults to `None` (no
            limit).
        halving: Successive halving (asynchronous, ASHA) of every
            candidate's epochs: a candidate trains `min_epochs`, and at each
            rung (`min_epochs * reduction_factor**k` epochs) goes on only if
            it is in the top `1 / reduction_factor` of the candidates that
            reached that rung. `None` turns it on for every strategy but
            `"hyperband"` (which halves on its own). Defaults to `None`.
        min_epochs: Epochs of the first rung. Defaults to `None`:
            `max(1, epochs // reduction_factor**2)`.
        reduction_factor: The `eta` of successive halving. Defaults to `3`.
        max_time: Optional time budget in seconds for `fit`. When it runs
            out, the trial in flight ends at its next epoch and is recorded,
            no new trial starts, and the search is as usable as after
            `max_trials`. Defaults to `None`.
        initial_architectures: Optional op lists you already trust, trained
            first, in order (like Optuna's `enqueue_trial`).
        warm_start: Rank a pool of candidates without training, by
            zero-cost proxies on one batch of the training data, and train
            the best first (for evolution, its initial population). `True`,
            `False`, or a `warmstart.WarmStart` with options. Its cost is
            bounded by about a tenth of the expected search time. Arrays
            only; not with `"hyperband"`. Defaults to `True`.
    """

    def __init__(
        self,
        space=None,
        strategy="evolution",
        objective=None,
        max_trials=20,
        *,
        directory="nas_runs",
        project_name="search",
        overwrite=False,
        seed=None,
        metrics=None,
        optimizer="adam",
        loss=None,
        task=None,
        patience=3,
        max_params=None,
        max_consecutive_failed_trials=3,
        head="auto",
        strategy_options=None,
        distribution_strategy=None,
        log_dir=None,
        workers=0,
        worker_timeout=None,
        trials_per_process=None,
        halving=None,
        min_epochs=None,
        reduction_factor=3,
        max_time=None,
        initial_architectures=None,
        warm_start=True,
    ):
        if space is not None and not isinstance(space, SearchSpace):
            raise TypeError(
                "`space` must be a `keras_nas.SearchSpace` or None. Received: "
                f"space={space!r} (of type {type(space).__name__})."
            )
        oracles.check_strategy(strategy)
        for name, value, low in (
            ("max_trials", max_trials, 1),
            ("patience", patience, 0),
            ("max_consecutive_failed_trials", max_consecutive_failed_trials, 1),
            ("workers", workers, 0),
        ):
            check_int(name, value, low)
        if objective is not None and not isinstance(
            objective, (str, keras_tuner.Objective)
        ):
            raise TypeError(
                "`objective` must be a metric name or a "
                f"`keras_tuner.Objective`. Received: objective={objective!r}."
            )
        if head not in HEADS:
            raise ValueError(
                f"`head` must be one of {HEADS}. Received: head={head!r}."
            )
        check_task_argument(task)
        if trials_per_process is not None:
            check_int("trials_per_process", trials_per_process, 1)
            if not workers:
                raise ValueError(
                    "`trials_per_process` needs `workers` of at least 1, "
                    "since only worker processes can be replaced. Received: "
                    f"trials_per_process={trials_per_process!r}, "
                    f"workers={workers!r}.")
        if halving not in (None, True, False):
            raise ValueError(
                "`halving` must be None (on unless the strategy is "
                f"'hyperband'), True or False. Received: halving={halving!r}.")
        if halving and strategy == "hyperband":
            raise ValueError(
                "`halving=True` cannot be combined with strategy='hyperband', "
                "which halves epochs itself. Received: halving=True, "
                "strategy='hyperband'.")
        self._halving = Halving(min_epochs, reduction_factor)  # Checks them.
        if max_time is not None and (
                isinstance(max_time, bool)
                or not isinstance(max_time, (int, float)) or max_time <= 0):
            raise ValueError(
                "`max_time` must be a positive number of seconds or None. "
                f"Received: max_time={max_time!r}.")
        if isinstance(warm_start, bool):
            self._warm_start = WarmStart() if warm_start else None
        elif isinstance(warm_start, WarmStart):
            self._warm_start = warm_start
        else:
            raise ValueError(
                "`warm_start` must be True, False or a "
                "`keras_nas.warmstart.WarmStart`. Received: "
                f"warm_start={warm_start!r}.")
        if initial_architectures is not None and (
                isinstance(initial_architectures, str)
                or not all(isinstance(a, (list, tuple))
                           for a in initial_architectures)):
            raise ValueError(
                "`initial_architectures` must be a list of op lists, e.g. "
                "[['conv3x3-32', 'maxpool', 'dense-128']]. Received: "
                f"initial_architectures={initial_architectures!r}.")
        self.space = space or SearchSpace()
        self.strategy = strategy
        self.objective = objective
        self.max_trials = int(max_trials)
        self.directory = str(directory)
        self.project_name = str(project_name)
        self.overwrite = overwrite
        self.seed = seed
        self.metrics = list(metrics or [])
        self.optimizer = optimizer
        self.loss = loss
        self.task = task
        self.patience = int(patience)
        self.max_params = max_params
        self.max_consecutive_failed_trials = int(max_consecutive_failed_trials)
        self.head = head
        self.strategy_options = dict(strategy_options or {})
        self.distribution_strategy = distribution_strategy
        self.log_dir = log_dir
        self.workers = int(workers)
        self.worker_timeout = worker_timeout
        self.trials_per_process = trials_per_process
        self.halving = halving
        self.min_epochs = min_epochs
        self.reduction_factor = int(reduction_factor)
        self.max_time = max_time
        self.initial_architectures = [
            list(a) for a in initial_architectures or []]
        self.warm_start = warm_start
        self.tuner = None
        self.task_ = None  # The `Task` that `fit` inferred.
        self._data = None  # The `data.Prepared` of the last `fit`.
        self._best_model = None
        self._final_model = None

    @property
    def project_dir(self):
        return os.path.join(self.directory, self.project_name)

    @property
    def space_(self):
        """The space bound to the data's shape, once `fit` has run."""
        return None if self.tuner is None else self.tuner.hypermodel.space

    # -- config -------------------------------------------------------------

    def get_config(self):
        """The arguments that rebuild this search (`from_config`).

        A strategy given as an oracle instance is kept by its class, and
        rebuilt with its default arguments (Keras Tuner restores its state
        from the project folder). `distribution_strategy` is not kept.
        """
        strategy = self.strategy
        if isinstance(strategy, keras_tuner.Oracle):
            strategy = oracles.name_of(strategy) or {
                "class_name": f"{type(strategy).__module__}."
                              f"{type(strategy).__qualname__}"}
        objective = self.objective
        if isinstance(objective, keras_tuner.Objective):
            objective = {"name": objective.name,
                         "direction": objective.direction}
        return {
            "space": self.space.get_config(),
            "strategy": strategy,
            "objective": objective,
            "max_trials": self.max_trials,
            "directory": self.directory,
            "project_name": self.project_name,
            "overwrite": self.overwrite,
            "seed": self.seed,
            "metrics": [_serialize(m) for m in self.metrics],
            "optimizer": _serialize(self.optimizer),
            "loss": _serialize(self.loss),
            "task": self.task,
            "patience": self.patience,
            "max_params": self.max_params,
            "max_consecutive_failed_trials":
                self.max_consecutive_failed_trials,
            "head": self.head,
            "strategy_options": dict(self.strategy_options),
            "log_dir": None if self.log_dir is None else str(self.log_dir),
            "workers": self.workers,
            "worker_timeout": self.worker_timeout,
            "trials_per_process": self.trials_per_process,
            "halving": self.halving,
            "min_epochs": self.min_epochs,
            "reduction_factor": self.reduction_factor,
            "max_time": self.max_time,
            "initial_architectures": self.initial_architectures,
            "warm_start": self.warm_start if isinstance(self.warm_start, bool)
            else self.warm_start.get_config(),
        }

    @classmethod
    def from_config(cls, config, space=None):
        """The search of `get_config()`.

        Args:
            config: A dict from `get_config()`.
            space: Optional `SearchSpace` to use instead of the config's,
                e.g. one with custom op factories.
        """
        config = dict(config)
        space_config = config.pop("space")
        config["space"] = space if space is not None else (
            SearchSpace.from_config(space_config))
        config["strategy"] = _strategy_from_config(config["strategy"])
        objective = config.get("objective")
        if isinstance(objective, dict):
            config["objective"] = keras_tuner.Objective(
                objective["name"], objective["direction"])
        config["metrics"] = [_deserialize(m) for m in config["metrics"]]
        config["optimizer"] = _deserialize(config["optimizer"])
        config["loss"] = _deserialize(config["loss"])
        if isinstance(config.get("warm_start"), dict):
            config["warm_start"] = WarmStart(**config["warm_start"])
        return cls(**config)

    # -- fit --------------------------------------------------------------

    def fit(self, x, y=None, epochs=10, batch_size=32, validation_split=None,
            validation_data=None, callbacks=None, verbose=1):
        """Search: train up to `max_trials` candidates, keep the best.

        Args:
            x: Input samples (a numpy array), or a `tf.data.Dataset` of
                `(x, y)` batches.
            y: Labels, or `None` with a dataset.
            epochs: Most epochs per candidate (early stopping may end one
                sooner). Defaults to `10`.
            batch_size: Defaults to `32`; ignored for datasets.
            validation_split: Fraction of `x` held out, shuffled with the
                search's seed, when there is no `validation_data`. Defaults
                to `0.2`.
            validation_data: `(x_val, y_val)`, or a dataset.
            callbacks: Keras callbacks run in every trial (each trial gets
                a deep copy).
            verbose: `0` silent; `1` a line per trial with the search's
                progress; `2` also Keras' output for every epoch.

        Returns:
            This `NASSearch`.
        """
        check_int("epochs", epochs, 1)
        check_int("verbose", verbose, 0)
        data = data_module.prepare(
            x, y, validation_split=validation_split,
            validation_data=validation_data, task=self.task,
            one_hot=needs_one_hot(self.metrics), seed=self.seed)
        callbacks = list(callbacks or [])
        if self.log_dir is not None:
            from keras_nas import tf_only

            callbacks = tf_only.with_tensorboard(callbacks, self.log_dir)
        self.task_ = data.task
        self._data = data
        self._best_model = self._final_model = None
        deadline = parallel.shared_deadline(self.max_time)
        progress = Progress(self.max_trials, verbose, max_time=self.max_time)
        def seeded(tuner):
            seed_search(
                tuner, data,
                initial_architectures=self.initial_architectures,
                warm_start=self._warm_start if self._uses_warm_start()
                else None,
                max_trials=self.max_trials, epochs=epochs,
                batch_size=batch_size, max_time=self.max_time,
                seed=self.seed, head=self.head, progress=progress)
            return tuner

        if self.workers and not parallel.in_worker():
            self.tuner = parallel.run_chief(
                lambda: seeded(self._make_tuner(
                    data.input_shape, data.task, epochs, verbose,
                    deadline=deadline)),
                workers=self.workers,
                log_dir=os.path.join(self.project_dir, "workers"),
                timeout=self.worker_timeout, verbose=verbose,
                on_trial_end=progress)
        else:
            if self.tuner is None:
                self.tuner = self._make_tuner(data.input_shape, data.task,
                                              epochs, verbose)
                if not parallel.in_worker():
                    seeded(self.tuner)
            self.tuner.deadline = deadline
            self.tuner.trial_hooks = [progress] + _summary_writers(callbacks)
            self.tuner.verbose = verbose
            try:
                self.tuner.search(
                    epochs=epochs, callbacks=callbacks,
                    keras_verbose=keras_verbosity(verbose),
                    **data.fit_arguments(batch_size))
            finally:
                keras.backend.clear_session()  # Collects garbage too.
            parallel.finish_worker()
            if parallel.in_worker():
                return self
        if verbose:
            print()
            self.summary()
        return self

    def _is_hyperband(self):
        return self.strategy == "hyperband" or isinstance(
            self.strategy, keras_tuner.oracles.HyperbandOracle)

    def _uses_warm_start(self):
        # Hyperband's brackets decide what runs; nothing can be queued.
        return self._warm_start is not None and not self._is_hyperband()

    def _uses_halving(self):
        if self.halving is None:
            return not self._is_hyperband()
        return self.halving

    def _make_tuner(self, input_shape, task, epochs, verbose, objective=None,
                    deadline=None):
        """The tuner of this search for data of `input_shape` and `task`;
        a `reopen` passes the `objective` it ran with."""
        space = self.space.bind(input_shape, output_units=task.output_units,
                                max_params=self.max_params)
        reopen = objective is not None
        if not reopen:
            objective = task.objective(self.objective, self.metrics)
        hypermodel = NASHyperModel(
            space, task, task.metrics(self.metrics), optimizer=self.optimizer,
            head=self.head, loss=self.loss)
        oracle = oracles.get(
            self.strategy, space=space, objective=objective,
            max_trials=self.max_trials, seed=self.seed, epochs=epochs,
            options=self.strategy_options)
        # Keras Tuner prints "Reloading Tuner from ..." when it resumes.
        with _stdout_unless(verbose):
            tuner = NASTuner(
                oracle=oracle, hypermodel=hypermodel,
                patience=self.patience, seed=self.seed,
                max_consecutive_failed_trials=(
                    self.max_consecutive_failed_trials),
                directory=self.directory, project_name=self.project_name,
                # A worker must never wipe the project the chief serves.
                overwrite=self.overwrite and not parallel.in_worker()
                and not reopen,
                distribution_strategy=self.distribution_strategy,
                trials_per_process=self.trials_per_process
                if parallel.in_local_worker() else None,
                recycle_exit_code=parallel.RECYCLE_EXIT,
                halving=self._halving if self._uses_halving() else None,
                deadline=deadline,
            )
        tuner.oracle.verbose = 0  # Our own line per trial instead.
        if not reopen and not parallel.in_worker():
            self._write_meta(input_shape, task, objective)
        return tuner

    def _write_meta(self, input_shape, task, objective):
        meta = {
            "config": self.get_config(),
            "input_shape": list(input_shape),
            "task": task.get_config(),
            "objective": {"name": objective.name,
                          "direction": objective.direction},
        }
        os.makedirs(self.project_dir, exist_ok=True)
        write_text_atomic(os.path.join(self.project_dir, _META),
                          json.dumps(meta, indent=1), fsync=True)

    # -- after the search -------------------------------------------------

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

        Built-in ops load with plain `keras.models.load_model(path)`, no
        `custom_objects`. Both files are written whole or not at all.

        Returns:
            The path of the JSON file.
        """
        path = os.fspath(path)
        if not path.endswith(".keras"):
            raise ValueError(
                "`path` must end with '.keras', the Keras model format. "
                f"Received: path={path!r}."
            )
        model = self.best_model()
        trial = self._best_trial()
        ops = self.best_architecture()
        plan = self.space_.plan(ops, head=self.head)
        write_atomic(path, model.save)
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
        }
        json_path = path[: -len(".keras")] + ".json"
        write_text_atomic(json_path, json.dumps(info, indent=1), fsync=True)
        return json_path

    def plot_history(self, path=None):
        """The objective per trial and the best so far; see `report`."""
        from keras_nas import report

        return report.plot_history(self, path)

    def plot_tradeoff(self, path=None):
        """The objective against params, Pareto front marked; see `report`."""
        from keras_nas import report

        return report.plot_tradeoff(self, path)

    # -- reopening a saved search -----------------------------------------

    @classmethod
    def load(cls, directory, project_name="search", space=None,
             strategy=None, verbose=0):
        """Reopen a search from its project folder: its config, its data's
        shape and task, and every trial.

        The reopened search reports, exports and resumes exactly what ran:
        `fit` on it continues the same search. Pass `space` if it used
        custom op factories, which are not saved, and `strategy` if it ran
        with an oracle of your own that takes arguments.
        """
        meta_path = os.path.join(directory, project_name, _META)
        if not os.path.exists(meta_path):
            raise FileNotFoundError(
                f"No keras_nas search at {os.path.join(directory, project_name)}"
                f" (missing {_META}).")
        with open(meta_path) as f:
            meta = _upgrade_meta(json.load(f))
        config = dict(meta["config"], directory=str(directory),
                      project_name=project_name, overwrite=False)
        if strategy is not None:
            config["strategy"] = strategy
        search = cls.from_config(config, space=space)
        search.task_ = Task.from_config(meta["task"])
        objective = keras_tuner.Objective(meta["objective"]["name"],
                                          meta["objective"]["direction"])
        search.tuner = search._make_tuner(
            tuple(meta["input_shape"]), search.task_, epochs=None,
            verbose=verbose, objective=objective)
        tuner = search.tuner
        if not tuner.oracle.trials and os.path.exists(
                os.path.join(search.project_dir, "oracle.json")):
            # Saved by a chief (chief.json), not by this process's tuner id.
            tuner.oracle.reload()
        return search


def _summary_writers(callbacks):
    boards = tensorboards(callbacks)
    if not boards:
        return []
    from keras_nas import tf_only

    return [tf_only.SearchSummaryWriter(boards[0].log_dir)]


def _stdout_unless(verbose):
    """Swallow standard output in the block unless `verbose`."""
    if verbose:
        return contextlib.nullcontext()
    return contextlib.redirect_stdout(io.StringIO())


def _serialize(obj):
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return keras.saving.serialize_keras_object(obj)


def _deserialize(config):
    if config is None or isinstance(config, (str, int, float, bool)):
        return config
    return keras.saving.deserialize_keras_object(config)


def _strategy_from_config(strategy):
    if not isinstance(strategy, dict):  # A name, or an oracle instance.
        return strategy
    module, _, name = strategy["class_name"].rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)()
    except Exception as e:  # Any failure to rebuild it means the same.
        raise ValueError(
            f"The search ran with the oracle {strategy['class_name']}, which "
            f"cannot be rebuilt with its default arguments ({e}). Pass "
            "`strategy=` an instance of it."
        ) from None


def _upgrade_meta(meta):
    """A project written by keras_nas 0.1, whose meta file had no config:
    the strategy was not recorded, so it reads as random search."""
    if "config" in meta:
        return meta
    space = {"ops": meta["ops"], "min_depth": meta["min_depth"],
             "max_depth": meta["max_depth"],
             "learning_rate": meta["learning_rate"]}
    config = NASSearch(space=SearchSpace.from_config(space),
                       strategy="random", head=meta["head"],
                       max_params=meta["max_params"]).get_config()
    task = dict(meta["task"], one_hot=meta.get("one_hot", False))
    return {"config": config, "input_shape": meta["input_shape"],
            "task": task, "objective": meta["objective"]}
