"""`NASSearch`: `search.fit(x, y)` like a Keras model.

A `NASSearch` checks the data, infers the task and the input shape, binds the
search space to them, and runs a Keras Tuner tuner (`tuner.NASTuner`) with
the chosen oracle. Keras Tuner keeps the trials on disk, so a search run
again with `overwrite=False` resumes where it stopped.
"""

import contextlib
import io
import json
import os
import sys

import keras
import keras_tuner
import numpy as np

from keras_nas import data as data_module
from keras_nas import parallel
from keras_nas._atomic import write_text_atomic
from keras_nas._checks import check_int
from keras_nas import oracles
from keras_nas import results as results_module
from keras_nas.architecture import HEADS
from keras_nas.space import SearchSpace, other_values
from keras_nas.tuner import NASHyperModel, NASTuner

__all__ = ["NASSearch", "STRATEGIES"]

STRATEGIES = ("evolution", "random", "bayesian", "hyperband")

# Metric names whose direction is known; anything else must be given as a
# `keras_tuner.Objective` with its direction.
_MAXIMIZE = ("acc", "accuracy", "auc", "f1", "fbeta", "precision", "recall",
             "iou", "r2", "top_k", "true_positives", "true_negatives")
_MINIMIZE = ("loss", "error", "mae", "mse", "mape", "msle", "crossentropy",
             "hinge", "huber", "log_cosh", "false_positives",
             "false_negatives", "poisson", "kl_divergence")

_META = "keras_nas.json"


def _is_dataset(x):
    return type(x).__module__.startswith("tensorflow") and hasattr(
        x, "element_spec"
    )


def _metric_name(metric):
    if isinstance(metric, str):
        return metric
    if hasattr(metric, "name"):
        return metric.name
    return getattr(metric, "__name__", str(metric))


def _direction(name):
    base = name[4:] if name.startswith("val_") else name
    if any(k in base for k in _MINIMIZE):
        return "min"
    if any(k in base for k in _MAXIMIZE):
        return "max"
    return None


def _needs_one_hot(metrics):
    return any(isinstance(m, keras.metrics.FBetaScore) for m in metrics)


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
        max_consecutive_failed_trials: The search stops with an error after
            this many failed trials in a row. Defaults to `3`.
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
    """

    def __init__(
        self,
        space=None,
        strategy="evolution",
        objective=None,
        max_trials=20,
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
    ):
        if space is not None and not isinstance(space, SearchSpace):
            raise TypeError(
                "`space` must be a `keras_nas.SearchSpace` or None. Received: "
                f"space={space!r} (of type {type(space).__name__})."
            )
        if not isinstance(strategy, keras_tuner.Oracle) and (
            strategy not in STRATEGIES
        ):
            raise ValueError(
                f"Unknown `strategy`: {strategy!r}. Accepted: one of "
                f"{STRATEGIES}, or a `keras_tuner.Oracle` instance."
            )
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
        if task not in (None, "classification", "multiclass", "binary",
                        "regression"):
            raise ValueError(
                "`task` must be None (inferred), 'classification', "
                f"'multiclass', 'binary' or 'regression'. Received: task={task!r}."
            )
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
        if trials_per_process is not None:
            check_int("trials_per_process", trials_per_process, 1)
            if not workers:
                raise ValueError(
                    "`trials_per_process` needs `workers` of at least 1, "
                    "since only worker processes can be replaced. Received: "
                    f"trials_per_process={trials_per_process!r}, "
                    f"workers={workers!r}.")
        self.trials_per_process = trials_per_process
        self.tuner = None
        self.task_ = None
        self.space_ = None
        self._best_model = None
        self._final_model = None
        self._train = None
        self._val = None
        self._one_hot = _needs_one_hot(self.metrics)
        self._verbose = 1

    @property
    def project_dir(self):
        return os.path.join(self.directory, self.project_name)

    # -- data -------------------------------------------------------------

    def _targets(self, y, arg):
        y = self.task_.encode(y, arg)
        if self._one_hot:
            if self.task_.kind == "multiclass":
                return keras.utils.to_categorical(y, self.task_.num_classes)
            return y.reshape(-1, 1).astype("float32")
        return y

    def _prepare_arrays(self, x, y, validation_split, validation_data):
        if y is None:
            raise ValueError(
                "`y` is required when `x` is an array. Received: y=None. "
                "Pass labels, or a tf.data.Dataset of (x, y) batches as `x`."
            )
        x = data_module.check_features(x, "x")
        data_module.check_lengths(x, y)
        task = data_module.infer_task(y, self.task)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(
                validation_data
            ) != 2:
                raise ValueError(
                    "`validation_data` must be a tuple (x_val, y_val). "
                    f"Received: {type(validation_data).__name__}."
                )
            x_val = data_module.check_features(validation_data[0],
                                               "validation_data[0]")
            data_module.check_lengths(x_val, validation_data[1],
                                      "validation_data[0]",
                                      "validation_data[1]")
            if x_val.shape[1:] != x.shape[1:]:
                raise ValueError(
                    "`validation_data[0]` must have the samples' shape of "
                    f"`x`, {x.shape[1:]}. Received: {x_val.shape[1:]}."
                )
            y_val = validation_data[1]
            x_train, y_train = x, y
        else:
            fraction = data_module.check_split(
                0.2 if validation_split is None else validation_split
            )
            (x_train, y_train), (x_val, y_val) = data_module.split(
                x, np.asarray(y), fraction, seed=self.seed or 0
            )
        self.task_ = task
        self._train = (x_train, self._targets(y_train, "y"))
        self._val = (x_val, self._targets(y_val, "validation_data[1]"))
        return x.shape[1:]

    def _prepare_dataset(self, x, y, validation_split, validation_data):
        from keras_nas import tf_only

        if y is not None:
            raise ValueError(
                "`y` must be None when `x` is a tf.data.Dataset of (x, y) "
                "batches."
            )
        if validation_split is not None:
            raise ValueError(
                "`validation_split` cannot split a tf.data.Dataset; pass "
                "`validation_data=` a dataset instead."
            )
        input_shape, labels = tf_only.inspect_dataset(x, "x")
        if validation_data is None or not _is_dataset(validation_data):
            raise ValueError(
                "With a tf.data.Dataset as `x`, `validation_data` must be a "
                f"tf.data.Dataset too. Received: {type(validation_data).__name__}."
            )
        val_shape, val_labels = tf_only.inspect_dataset(
            validation_data, "validation_data"
        )
        if val_shape != input_shape:
            raise ValueError(
                "`validation_data` must yield samples of shape "
                f"{input_shape}, like `x`. Received: {val_shape}."
            )
        self.task_ = data_module.infer_task(labels, self.task)
        for arg, y_seen in (("x", labels), ("validation_data", val_labels)):
            self.task_.encode(y_seen, arg)  # Unknown labels fail here.
        self._train = (
            tf_only.encode_labels(x, self.task_, self._one_hot), None)
        self._val = (
            tf_only.encode_labels(validation_data, self.task_, self._one_hot),
            None,
        )
        return input_shape

    # -- objective and compile arguments ----------------------------------

    def _loss(self):
        if self.loss is not None:
            return self.loss
        if self.task_.kind == "multiclass":
            return ("categorical_crossentropy" if self._one_hot
                    else "sparse_categorical_crossentropy")
        return "binary_crossentropy" if self.task_.kind == "binary" else "mse"

    def _all_metrics(self):
        defaults = ["mae"] if self.task_.kind == "regression" else ["accuracy"]
        names = {_metric_name(m) for m in self.metrics}
        return [m for m in defaults if m not in names] + self.metrics

    def _resolve_objective(self, metrics):
        produced = ["loss"] + [_metric_name(m) for m in metrics]
        produced += ["val_" + n for n in produced]
        objective = self.objective
        if objective is None:
            objective = ("val_loss" if self.task_.kind == "regression"
                         else "val_accuracy")
        if isinstance(objective, str):
            direction = _direction(objective)
            if direction is None:
                raise ValueError(
                    f"Cannot tell whether to maximize or minimize the "
                    f"objective {objective!r}. Pass "
                    f"`keras_tuner.Objective({objective!r}, direction=...)`."
                )
            objective = keras_tuner.Objective(objective, direction)
        if objective.name not in produced:
            raise ValueError(
                f"The objective {objective.name!r} is never produced by the "
                f"candidates, which report {sorted(produced)}. Accepted: one "
                "of those, or add the metric with `metrics=[...]`."
            )
        return objective

    # -- the tuner --------------------------------------------------------

    def _make_oracle(self, space, objective, epochs):
        common = dict(
            objective=objective,
            seed=self.seed,
            max_consecutive_failed_trials=self.max_consecutive_failed_trials,
        )
        if isinstance(self.strategy, keras_tuner.Oracle):
            oracle = self.strategy
            if getattr(oracle, "space", False) is None:
                if isinstance(oracle, oracles.EvolutionOracle):
                    oracle.set_space(space)
                else:
                    oracle.space = space
            if oracle.objective.name == "default_objective":
                oracle.objective = objective
            if oracle.max_trials is None:
                oracle.max_trials = self.max_trials
            return oracle
        options = dict(self.strategy_options)
        if self.strategy == "evolution":
            # Small budgets get a small population, so that evolution, not
            # the random seeding, spends most of them.
            population = options.pop(
                "population_size", max(4, min(20, self.max_trials // 4)))
            sample = options.pop("sample_size", max(2, population // 4))
            return oracles.EvolutionOracle(
                space=space, max_trials=self.max_trials,
                population_size=population, sample_size=sample,
                **common, **options)
        if self.strategy == "hyperband":
            oracle = oracles.HyperbandOracle(
                space=space, max_epochs=options.pop("max_epochs", epochs),
                **common, **options)
            oracle.max_trials = self.max_trials
            return oracle
        cls = {"random": oracles.RandomSearchOracle,
               "bayesian": oracles.BayesianOptimizationOracle}[self.strategy]
        return cls(space=space, max_trials=self.max_trials, **common, **options)

    def _make_tuner(self, input_shape, epochs, reopen=False):
        if self._train is not None:
            # blocks: a text space infers its vocabulary size from the tokens.
            self.space.adapt(self._train[0])
        space = self.space.bind(
            input_shape,
            output_units=self.task_.output_units,
            max_params=self.max_params,
        )
        metrics = self._all_metrics()
        if reopen:  # Metrics may be user objects we cannot rebuild.
            objective = self.objective
        else:
            objective = self._resolve_objective(metrics)
        hypermodel = NASHyperModel(
            space, self.task_, loss=self._loss(), metrics=metrics,
            optimizer=self.optimizer, head=self.head)
        oracle = self._make_oracle(space, objective, epochs)
        with self._quiet():
            tuner = NASTuner(
                oracle=oracle,
                hypermodel=hypermodel,
                patience=self.patience,
                seed=self.seed,
                trial_hooks=[self._progress],
                directory=self.directory,
                project_name=self.project_name,
                # A worker must never wipe the project the chief serves.
                overwrite=self.overwrite
                and not parallel.in_keras_tuner_worker(),
                distribution_strategy=self.distribution_strategy,
                trials_per_process=self.trials_per_process
                if parallel.in_local_worker() else None,
                recycle_exit_code=parallel.RECYCLE_EXIT,
            )
        tuner.oracle.verbose = 0  # Our own one line per trial instead.
        self.space_ = space
        if not reopen:
            self._write_meta(space, objective)
        return tuner

    def _quiet(self):
        if self._verbose:
            return contextlib.nullcontext()
        return contextlib.redirect_stdout(io.StringIO())

    def _progress(self, tuner, trial):
        if not self._verbose:
            return
        # The oracle's record: on a worker, only the chief scored the trial.
        r = results_module.record(tuner.oracle.get_trial(trial.trial_id),
                                  self.space_, self.head)
        number = int(r.trial_id) + 1
        ops = " > ".join(r.ops)
        params = "invalid" if r.params is None else f"{r.params:,} params"
        if r.status == "COMPLETED":
            outcome = f"{tuner.oracle.objective.name} {r.value:.4f}"
        else:
            outcome = f"{r.status}: {(r.reason or r.status)[:80]}"
        best = tuner.oracle.get_best_trials(1)
        best = (f"best {best[0].score:.4f}" if best and best[0].score is not None
                else "best -")
        print(f"[{number}/{self.max_trials}] {ops} | {params} | {outcome} | {best}",
              flush=True)

    def _write_meta(self, space, objective):
        meta = {
            "input_shape": list(space.input_shape),
            "task": self.task_.to_config(),
            "ops": space.ops,
            "min_depth": space.min_depth,
            "max_depth": space.max_depth,
            "learning_rate": space.learning_rates or False,
            "max_params": space.max_params,
            "head": self.head,
            "objective": {"name": objective.name,
                          "direction": objective.direction},
            "one_hot": self._one_hot,
        }
        _atomic_write_text(os.path.join(self.project_dir, _META),
                           json.dumps(meta, indent=1))

    # -- fit --------------------------------------------------------------

    def fit(
        self,
        x,
        y=None,
        epochs=10,
        batch_size=32,
        validation_split=None,
        validation_data=None,
        callbacks=None,
        verbose=1,
    ):
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
            verbose: `0` silent; `1` a line per trial and Keras' progress
                bar; `2` a line per trial and a line per epoch.

        Returns:
            This `NASSearch`.
        """
        self._verbose = verbose
        check_int("epochs", epochs, 1)
        if validation_data is not None and validation_split is not None:
            raise ValueError(
                "Pass `validation_split` or `validation_data`, not both. "
                f"Received: validation_split={validation_split!r} and "
                "validation_data."
            )
        extra = {}
        if _is_dataset(x):
            input_shape = self._prepare_dataset(
                x, y, validation_split, validation_data)
            batch_size = None
            extra["shuffle"] = False  # A dataset shuffles itself, or not.
        else:
            input_shape = self._prepare_arrays(
                x, y, validation_split, validation_data)
        callbacks = list(callbacks or [])
        if self.log_dir is not None:
            from keras_nas import tf_only

            callbacks = tf_only.with_tensorboard(callbacks, self.log_dir)
        self._best_model = self._final_model = None
        if self.workers and not parallel.in_keras_tuner_worker():
            self._serve_workers(tuple(input_shape), epochs, verbose)
        else:
            self._search(tuple(input_shape), epochs, batch_size, callbacks,
                         verbose, extra)
            if parallel.in_local_worker():
                # A worker started by `workers=` ends with its search; the
                # code after `fit` runs once, in the chief.
                sys.exit(0)
            if parallel.in_keras_tuner_worker():
                return self
        if verbose:
            print()
            self.summary()
        return self

    def _search(self, input_shape, epochs, batch_size, callbacks, verbose,
                extra):
        if self.tuner is None:
            self.tuner = self._make_tuner(input_shape, epochs)
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            from keras_nas import tf_only

            self.tuner.trial_hooks = [
                self._progress,
                tf_only.SearchSummaryWriter.for_callbacks(self, callbacks),
            ]
        self.tuner.verbose = verbose
        x_train, y_train = self._train
        try:
            self.tuner.search(
                x_train,
                y_train,
                validation_data=self._val if self._val[1] is not None
                else self._val[0],
                epochs=epochs,
                batch_size=batch_size,
                callbacks=callbacks,
                keras_verbose=verbose,
                **extra,
            )
        except RuntimeError as e:
            if "consecutive failures" not in str(e):
                raise
            raise RuntimeError(
                f"The search stopped: {self.max_consecutive_failed_trials} "
                "trials in a row failed. Last reason: "
                f"{results_module.reason_of(str(e))}. Raise "
                "`max_consecutive_failed_trials` to tolerate more."
            ) from e
        finally:
            keras.backend.clear_session()  # Collects garbage too.

    def _serve_workers(self, input_shape, epochs, verbose):
        chief = parallel.chief_environment()
        with chief:
            if self.tuner is None:
                self.tuner = self._make_tuner(input_shape, epochs)
            self.tuner.save()
            parallel.serve(
                self.tuner.oracle,
                workers=self.workers,
                port=chief.port,
                log_dir=os.path.join(self.project_dir, "workers"),
                timeout=self.worker_timeout,
                verbose=verbose,
                on_trial_end=lambda trial: self._progress(self.tuner, trial),
            )
            self.tuner.save()

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
                f"model. See `summary()` for each trial's reason.")
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
            trial = self._best_trial()
            self._best_model = self.tuner.load_model(trial)
        return self._best_model

    def evaluate(self, x, y=None, **kwargs):
        """`keras.Model.evaluate` of the best model; labels as in `fit`."""
        model = self.best_model()
        if y is not None:
            x = data_module.check_features(x, "x")
            data_module.check_lengths(x, y)
            y = self._targets(y, "y")
        elif _is_dataset(x):
            from keras_nas import tf_only

            x = tf_only.encode_labels(x, self.task_, self._one_hot)
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
        if self._train is None:
            raise RuntimeError(
                "`retrain()` needs the data of `fit()` in this session.")
        trial = self._best_trial()
        if epochs is None:
            epochs = int(trial.metrics.get_last_value("epochs") or 1)
        model = self.tuner.hypermodel.build(trial.hyperparameters)
        x_train, y_train = self._train
        x_val, y_val = self._val
        if y_train is None:  # Datasets.
            model.fit(x_train.concatenate(x_val), epochs=epochs,
                      verbose=verbose)
        else:
            model.fit(np.concatenate([x_train, x_val]),
                      np.concatenate([y_train, y_val]),
                      epochs=epochs, batch_size=batch_size, verbose=verbose)
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
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = path[: -len(".keras")] + f".tmp{os.getpid()}.keras"
        model.save(tmp)
        os.replace(tmp, path)
        info = {
            "ops": ops,
            "input_shape": list(self.space_.input_shape),
            "task": self.task_.to_config(),
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
        }
        json_path = path[: -len(".keras")] + ".json"
        _atomic_write_text(json_path, json.dumps(info, indent=1))
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
    def load(cls, directory, project_name="search", space=None, verbose=0):
        """Reopen a search from its project folder, to read its results or
        export its best model. Pass `space` if it used custom ops."""
        meta_path = os.path.join(directory, project_name, _META)
        if not os.path.exists(meta_path):
            raise FileNotFoundError(
                f"No keras_nas search at {os.path.join(directory, project_name)}"
                f" (missing {_META}).")
        with open(meta_path) as f:
            meta = json.load(f)
        if space is None:
            space = SearchSpace(
                ops=meta["ops"], min_depth=meta["min_depth"],
                max_depth=meta["max_depth"],
                learning_rate=meta["learning_rate"])
        task = meta["task"]
        search = cls(space=space, strategy="random", directory=directory,
                     project_name=project_name, head=meta["head"],
                     max_params=meta["max_params"])
        search._verbose = verbose
        search._one_hot = meta.get("one_hot", False)
        search.task_ = data_module.Task(
            task["kind"],
            None if task["classes"] is None else tuple(task["classes"]),
            task["num_targets"])
        search.objective = keras_tuner.Objective(
            meta["objective"]["name"], meta["objective"]["direction"])
        search.metrics = []
        tuner = search._make_tuner(tuple(meta["input_shape"]), epochs=1,
                                   reopen=True)
        if not tuner.oracle.trials and os.path.exists(
                os.path.join(search.project_dir, "oracle.json")):
            # Saved by a chief (chief.json), not by this process's tuner id.
            tuner.oracle.reload()
        search.tuner = tuner
        search.max_trials = len(tuner.oracle.trials) or search.max_trials
        return search


def _atomic_write_text(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_text_atomic(path, text, fsync=True)
