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
import io
import os

import keras
import keras_tuner

from keras_nas.data import prepare as data_module
from keras_nas.space import latency
from keras_nas import strategies as oracles
from keras_nas.engine import parallel
from keras_nas.front import project
from keras_nas._checks import check_budget, check_int, check_seconds
from keras_nas.space.architecture import HEADS
from keras_nas.engine.callbacks import tensorboards
from keras_nas.front.results import SearchResults
from keras_nas.strategies.halving import Halving
from keras_nas.analysis.progress import Progress, keras_verbosity
from keras_nas.space.search_space import SearchSpace
from keras_nas.data.task import Task, check_task_argument, needs_one_hot
from keras_nas.engine.tuner import (NASHyperModel, NASTuner,
                              resolve_steps_per_execution)
from keras_nas.strategies import warmstart
from keras_nas.strategies.warmstart import WarmStart, seed_search

__all__ = ["NASSearch", "STRATEGIES"]

STRATEGIES = oracles.STRATEGIES

class NASSearch(SearchResults):
    """Neural architecture search that reads like `keras.Model.fit`.

    Args:
        space: A `SearchSpace`, or `None` for the default vocabulary of the
            data (conv/pool/dense for images and sequences, dense for
            tabular), depth 1 to 8. Defaults to `None`.
        strategy: `"evolution"` (regularized evolution), `"local"` (local
            search), `"random"`, `"bayesian"`, `"hyperband"`, or any
            `keras_tuner.Oracle` instance; evolution and local search take
            `strategy_options={"predictor": {...}}` (`strategies.Predictor`).
            Defaults to `"evolution"`.
        objective: A metric name, a `keras_tuner.Objective`, or a list of
            them for a multi-objective search, e.g. `["val_accuracy",
            "params"]`. A list may hold the architecture objectives
            `"params"`, `"flops"` and `"latency_ms"` (all minimized; see
            `max_latency` for how latency is measured) beside one trained
            metric at least; its first trained metric is the primary
            objective, which early stopping, successive halving and
            `best_model()` follow. Evolution selects by Pareto rank and
            crowding (NSGA-II); `"random"` and your own oracles see Keras
            Tuner's sum of the objectives; `"bayesian"` and `"hyperband"`
            take one objective. `pareto_front()` lists the non-dominated
            trials. Defaults to `"val_accuracy"` for classification and
            `"val_loss"` for regression.
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
        max_flops: Most multiply-adds for one sample that a proposed model
            may cost. Defaults to `None` (no cap).
        max_latency: Most milliseconds that one forward pass of a proposed
            model may take: the median of `10` timed passes of the untrained
            model, at `latency_batch_size`, on this machine and backend,
            measured once per architecture (`latency.LatencyMeter`).
            Candidates over any budget are never trained and never count as
            failed trials: the strategy proposes others. `summary()` reports
            what measuring cost. Defaults to `None` (no cap).
        latency_batch_size: Samples per timed forward pass, for
            `max_latency` and the `"latency_ms"` objective. Defaults to `1`
            (the latency one request sees).
        max_consecutive_failed_trials: Failures of the user's setup (an
            exception in a callback, the loss, a metric) in a row that stop
            the search; failures of an architecture (NaN loss, out of
            memory, invalid) stop it only when none of the first three times
            as many trials completed.
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
            reached that rung. `None` turns it on for a single objective and
            every strategy but `"hyperband"` (which halves on its own); with
            several objectives it stays off unless `True`, when rungs compare
            the primary objective only. Defaults to `None`.
        min_epochs: Epochs of the first rung. Defaults to `None`:
            `max(1, epochs // reduction_factor)`.
        reduction_factor: The `eta` of successive halving. Defaults to `3`.
        max_time: Optional time budget in seconds for `fit`. When it runs
            out, the trial in flight ends at its next epoch and is recorded,
            no new trial starts, and the search is as usable as after
            `max_trials`. Defaults to `None`.
        initial_architectures: Op lists you already trust, trained first,
            in order (like Optuna's `enqueue_trial`). `None` trains the
            conventional models of the data's kind first
            (`warmstart.DEFAULT_ARCHITECTURES`, those the space can run);
            `[]` none. Defaults to `None`.
        warm_start: Rank a pool of candidates without training, by
            zero-cost proxies on one batch of the training data, and train
            the best first (for evolution, its initial population). `True`,
            `False`, or a `warmstart.WarmStart` with options. Its cost is
            bounded by about a tenth of the expected search time. Arrays
            only; not with `"hyperband"`. Defaults to `None`: on wherever
            it applies.
        steps_per_execution: Batches each compiled call of a candidate's
            training runs, as for `keras.Model.compile`. More than one
            saves Python's overhead per batch, which on small models and
            data costs as much as the batch itself; callbacks'
            `on_train_batch_*` methods then run every that many batches
            (epoch-level callbacks are unaffected). `None` picks
            `DEFAULT_STEPS_PER_EXECUTION` (`1` on the PyTorch backend,
            which does not support more). Defaults to `None`.
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
        max_flops=None,
        max_latency=None,
        latency_batch_size=1,
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
        warm_start=None,
        steps_per_execution=None,
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
        _check_objective(objective, strategy)
        if max_latency is not None and (
                isinstance(max_latency, bool)
                or not isinstance(max_latency, (int, float))
                or not max_latency > 0):
            raise ValueError(
                "`max_latency` must be a positive number of milliseconds or "
                f"None. Received: max_latency={max_latency!r}.")
        check_int("latency_batch_size", latency_batch_size, 1)
        check_budget("max_params", max_params, "weights")
        check_budget("max_flops", max_flops, "multiply-adds")
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
        check_seconds("max_time", max_time)
        resolve_steps_per_execution(steps_per_execution)  # Checks it.
        self._warm_start = warmstart.from_argument(warm_start)
        warmstart.check_initial_architectures(initial_architectures)
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
        self.max_flops = max_flops
        self.max_latency = max_latency
        self.latency_batch_size = int(latency_batch_size)
        self.max_consecutive_failed_trials = int(max_consecutive_failed_trials)
        self.head = head
        self.strategy_options = dict(strategy_options or {})
        self.distribution_strategy = distribution_strategy
        self.log_dir = log_dir
        self.workers = int(workers)
        self.worker_timeout = check_seconds("worker_timeout", worker_timeout)
        self.trials_per_process = trials_per_process
        self.halving = halving
        self.min_epochs = min_epochs
        self.reduction_factor = int(reduction_factor)
        self.max_time = max_time
        self.initial_architectures = None if initial_architectures is None \
            else [list(a) for a in initial_architectures]
        self.warm_start = warm_start
        self.steps_per_execution = steps_per_execution
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
        objective = project.objective_to_json(self.objective)
        return {
            "space": self.space.get_config(),
            "strategy": strategy,
            "objective": objective,
            "max_trials": self.max_trials,
            "directory": self.directory,
            "project_name": self.project_name,
            "overwrite": self.overwrite,
            "seed": self.seed,
            "metrics": [project.serialize(m) for m in self.metrics],
            "optimizer": project.serialize(self.optimizer),
            "loss": project.serialize(self.loss),
            "task": self.task,
            "patience": self.patience,
            "max_params": self.max_params,
            "max_flops": self.max_flops,
            "max_latency": self.max_latency,
            "latency_batch_size": self.latency_batch_size,
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
            "warm_start": self.warm_start.get_config()
            if isinstance(self.warm_start, WarmStart) else self.warm_start,
            "steps_per_execution": self.steps_per_execution,
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
        config["strategy"] = project.strategy_from_config(config["strategy"])
        config["objective"] = project.objective_from_json(
            config.get("objective"))
        config["metrics"] = [project.deserialize(m) for m in config["metrics"]]
        config["optimizer"] = project.deserialize(config["optimizer"])
        config["loss"] = project.deserialize(config["loss"])
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
            from keras_nas.analysis import tensorboard

            callbacks = tensorboard.with_tensorboard(callbacks, self.log_dir)
        if not data.is_dataset:
            # A text space infers its vocabulary size from the tokens.
            self.space.adapt(data.x)
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
                seed=self.seed, head=self.head, progress=progress,
                asked=self.warm_start is not None)
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
                # Collects garbage too, what the search froze included.
                keras.backend.clear_session()
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
            return not self._is_hyperband() and not isinstance(
                self.objective, (list, tuple))
        return self.halving

    def _latency_meter(self, task):
        """A `latency.LatencyMeter` if the search measures latency."""
        names = [getattr(o, "name", o) for o in (
            self.objective if isinstance(self.objective, (list, tuple))
            else [self.objective])]
        if self.max_latency is None and "latency_ms" not in names:
            return None
        return latency.LatencyMeter(self.latency_batch_size, head=self.head,
                                    activation=task.activation)

    def _make_tuner(self, input_shape, task, epochs, verbose, objective=None,
                    deadline=None):
        """The tuner of this search for data of `input_shape` and `task`;
        a `reopen` passes the `objective` it ran with."""
        meter = self._latency_meter(task)
        space = self.space.bind(
            input_shape, output_units=task.output_units,
            max_params=self.max_params, max_flops=self.max_flops,
            constraints=[latency.LatencyBudget(self.max_latency, meter)]
            if self.max_latency is not None else [])
        reopen = objective is not None
        if not reopen:
            objective = task.objective(self.objective, self.metrics)
        hypermodel = NASHyperModel(
            space, task, task.metrics(self.metrics), optimizer=self.optimizer,
            head=self.head, loss=self.loss,
            steps_per_execution=resolve_steps_per_execution(
                self.steps_per_execution))
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
                latency=meter,
            )
        tuner.oracle.verbose = 0  # Our own line per trial instead.
        if not reopen and not parallel.in_worker():
            project.write_meta(self.project_dir, self.get_config(),
                               input_shape, task, objective)
        return tuner

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
        meta = project.read_meta(directory, project_name,
                                 cls().get_config())
        config = dict(meta["config"], directory=str(directory),
                      project_name=project_name, overwrite=False)
        if strategy is not None:
            config["strategy"] = strategy
        search = cls.from_config(config, space=space)
        search.task_ = Task.from_config(meta["task"])
        objective = project.objective_from_json(meta["objective"])
        search.tuner = search._make_tuner(
            tuple(meta["input_shape"]), search.task_, epochs=None,
            verbose=verbose, objective=objective)
        tuner = search.tuner
        if not tuner.oracle.trials and os.path.exists(
                os.path.join(search.project_dir, "oracle.json")):
            # Saved by a chief (chief.json), not by this process's tuner id.
            tuner.oracle.reload()
        return search


def _check_objective(objective, strategy):
    """A `TypeError` or `ValueError` for an `objective` that no search takes
    (the metrics' names are checked by `Task.objective` at `fit`)."""
    several = isinstance(objective, (list, tuple))
    for member in objective if several else [objective]:
        if member is not None and not isinstance(
                member, (str, keras_tuner.Objective)) or (
                several and member is None):
            raise TypeError(
                "`objective` must be a metric name, a "
                "`keras_tuner.Objective`, or a list of them. Received: "
                f"objective={objective!r}.")
    if several and strategy in ("bayesian", "hyperband", "local"):
        raise ValueError(
            f"strategy={strategy!r} optimizes one objective; with several it "
            "would optimize the sum of their values (accuracy plus weights). "
            "Accepted with a list of objectives: 'evolution' (Pareto rank), "
            f"'random', or your own oracle. Received: objective={objective!r}.")


def _summary_writers(callbacks):
    boards = tensorboards(callbacks)
    if not boards:
        return []
    from keras_nas.analysis import tensorboard

    return [tensorboard.SearchSummaryWriter(boards[0].log_dir)]


def _stdout_unless(verbose):
    """Swallow standard output in the block unless `verbose`."""
    if verbose:
        return contextlib.nullcontext()
    return contextlib.redirect_stdout(io.StringIO())
