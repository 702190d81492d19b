"""`NASSearch`: `search.fit(x, y)` like a Keras model.

`NASSearch` is a thin front, as Optuna's `Study` is: its arguments become
one checked `SearchConfig`, and each job goes to the module that owns it:
the data to `data.prepare`, the tuner's assembly to `front.assembly`, the
trials to the engine (`engine.execution`), what is trained first to
`scoring.warmstart`, and reading the finished search to
`front.results.SearchResults` (`search.results_`). Keras Tuner keeps the
trials on disk, so a search run again with `overwrite=False` resumes where
it stopped, and `NASSearch.load` reopens it from its config.
"""

import dataclasses
import functools
import os

from keras_nas._checks import check_int
from keras_nas.analysis.progress import Progress, keras_verbosity
from keras_nas.data import raw as raw_data
from keras_nas.data.preprocessing import Preprocessor
from keras_nas.data.task import Task, needs_one_hot
from keras_nas.engine import execution, parallel
from keras_nas.engine.callbacks import tensorboards
from keras_nas.front import project, project_folder
from keras_nas.front.assembly import make_tuner
from keras_nas.front.config import SearchConfig
from keras_nas.front.raw_inputs import RawInputs, space_for
from keras_nas.front.results import SearchResults
from keras_nas import strategies
from keras_nas.scoring.warmstart import seed_search

__all__ = ["NASSearch", "STRATEGIES"]

STRATEGIES = strategies.STRATEGIES


def _reads(name):
    """A method of `NASSearch` that reads the finished search: it checks
    that there is one, then hands over to `SearchResults.<name>`, or, when
    `fit` preprocessed the data, to `RawInputs.<name>`, whose models take
    the data in the form it was given (`front.raw_inputs`)."""
    @functools.wraps(getattr(SearchResults, name))
    def method(self, *args, **kwargs):
        results = self._finished()
        if self.raw_ is not None and hasattr(self.raw_, name):
            return getattr(self.raw_, name)(results, *args, **kwargs)
        return getattr(results, name)(*args, **kwargs)
    return method


class NASSearch:
    """Neural architecture search that reads like `keras.Model.fit`.

    Args:
        space: A `SearchSpace` (its ops, depths and per-candidate budgets,
            `max_params` and `max_flops`), or `None` for the default
            vocabulary of the data (conv/pool/dense for images and
            sequences, dense for tabular), depth 1 to 8. Defaults to
            `None`.
        strategy: `"auto"` (local search guided by a predictor,
            `Strategy("local", predictor=True)`, for one objective;
            regularized evolution for several), `"evolution"`
            (regularized evolution), `"local"` (plain local search),
            `"random"`, `"bayesian"`, `"hyperband"`, a
            `keras_nas.Strategy(name, **options)` to pass its oracle options
            (e.g. `Strategy("evolution", population_size=10)`, or
            `Strategy("local", predictor={"model": "ridge"})` for
            predictor-guided proposals, `strategies.Predictor`), or any
            `keras_tuner.Oracle` instance. Defaults to `"auto"`.
        objective: A metric name, a `keras_tuner.Objective`, or a list of
            them for a multi-objective search, e.g. `["val_accuracy",
            "params"]`. A list may hold the architecture objectives
            `"params"`, `"flops"` and `"latency_ms"` (all minimized; see
            `latency`) beside one trained metric at least; its first
            trained metric is the primary objective, which early stopping,
            successive halving and `best_model()` follow. Evolution selects
            by Pareto rank and crowding (NSGA-II); `"random"` and your own
            oracles see Keras Tuner's sum of the objectives; `"bayesian"`
            and `"hyperband"` take one objective. Defaults to
            `"val_accuracy"` for classification and `"val_loss"` for
            regression.
        max_trials: Stopping rule: models to train at most, counting those
            of earlier runs of a resumed search. Defaults to `20`.
        max_time_s: Stopping rule: a time budget for `fit`, in seconds.
            When it runs out, the trial in flight ends at its next epoch and
            is recorded, no new trial starts, and the search is as usable as
            after `max_trials`. Defaults to `None`.
        directory: Where the project folder is written. Defaults to
            `"nas_runs"`.
        project_name: The project folder's name. Defaults to `"search"`.
        overwrite: Start afresh instead of resuming an existing project.
            Defaults to `False`.
        seed: Optional seed for the strategy, the validation split and each
            trial's initial weights.
        task: `None` to infer it from the labels, or `"classification"`,
            `"multiclass"`, `"binary"` or `"regression"`.
        training: A `keras_nas.Training`: how each candidate is compiled and
            trained (optimizer, loss, metrics, patience, head,
            steps_per_execution, distribution strategy, failure policy).
            Defaults to `None` (`Training()`).
        halving: Successive halving (asynchronous, ASHA) of every
            candidate's epochs: a candidate trains `min_epochs`, and at each
            rung goes on only if it is in the top `1 / reduction_factor` of
            the candidates that reached that rung. `None` turns it on for a
            single objective and every strategy but `"hyperband"` (which
            halves on its own); `False` off; a
            `keras_nas.Halving(min_epochs=..., reduction_factor=...)` on
            (with several objectives, rungs compare the primary one).
            `Halving(mode="promotion")` is ASHA's promotion form: every
            candidate stops at its next rung and is continued later, from
            its rung checkpoint, once it is in the top of that rung.
            Defaults to `None`.
        warm_start: Rank a pool of candidates without training, by
            zero-cost proxies on one batch of the training data, and train
            the best first (for evolution, its initial population). `None`
            turns it on wherever it applies; `False` off; a
            `keras_nas.WarmStart(...)` on with its options. Its cost is
            bounded by about a tenth of the expected search time. Arrays
            only; not with `"hyperband"`. Defaults to `None`.
        initial_architectures: Op lists you already trust, trained first,
            in order (like Optuna's `enqueue_trial`). `None` trains the
            conventional models of the data's kind first
            (`scoring.warmstart.DEFAULT_ARCHITECTURES`, those the space
            can run); `[]` none. Defaults to `None`.
        latency: A `keras_nas.Latency(max_ms=..., batch_size=...)`: the
            latency budget of a candidate and how latency is measured (for
            the budget and the `"latency_ms"` objective). Candidates over
            the budget are never trained and never count as failed trials.
            Defaults to `None` (no budget).
        engine: What runs the trials, and how many at once (its
            `workers`): `"keras_tuner"` (Keras Tuner's engine, every trial
            here, one after another), a `keras_nas.KerasTunerEngine(
            workers=N, timeout_s=..., trials_per_process=...)` (`N` worker
            processes on this machine: this process serves the strategy and
            the workers run this program again; the code after `fit` runs
            here only), or `"ray"` / `keras_nas.Ray(workers=N, address=...,
            resources_per_trial=...)`: each trial a Ray task, on this
            machine or a Ray cluster, from a script, `python -c` or a
            notebook alike (`pip install "keras-nas[ray]"`). Defaults to
            `None` (`"keras_tuner"`, no workers).

    TensorBoard logs: pass `keras.callbacks.TensorBoard(log_dir)` to
    `fit(callbacks=...)`.
    """

    def __init__(self, space=None, strategy="auto", objective=None,
                 max_trials=20, *, max_time_s=None, directory="nas_runs",
                 project_name="search", overwrite=False, seed=None,
                 task=None, training=None, halving=None, warm_start=None,
                 initial_architectures=None, latency=None, engine=None):
        self._start(SearchConfig(
            space=space, strategy=strategy, objective=objective,
            max_trials=max_trials, max_time_s=max_time_s,
            directory=directory, project_name=project_name,
            overwrite=overwrite, seed=seed, task=task, training=training,
            halving=halving, warm_start=warm_start,
            initial_architectures=initial_architectures, latency=latency,
            engine=engine))

    def _start(self, config):
        self.config = config
        #: The `SearchResults` of the search, once `fit` or `load` ran.
        self.results_ = None
        #: Its models behind the preprocessing of `fit` (`RawInputs`), or
        #: `None` when the candidates took the data as it was.
        self.raw_ = None

    # -- what was asked, read from the config -------------------------------

    space = property(lambda self: self.config.space,
                     doc="The `SearchSpace` as given (unbound).")
    strategy = property(lambda self: self.config.strategy)
    objective = property(lambda self: self.config.objective)
    max_trials = property(lambda self: self.config.max_trials)
    directory = property(lambda self: self.config.directory)
    project_name = property(lambda self: self.config.project_name)
    seed = property(lambda self: self.config.seed)

    @property
    def project_dir(self):
        return os.path.join(self.config.directory, self.config.project_name)

    @property
    def tuner(self):
        """The Keras Tuner tuner of the search, once it ran."""
        return None if self.results_ is None else self.results_.tuner

    @property
    def task_(self):
        """The `Task` that `fit` inferred, once it ran."""
        return None if self.results_ is None else self.results_.task_

    @property
    def space_(self):
        """The space bound to the data's shape, once `fit` has run."""
        return None if self.results_ is None else self.results_.space_

    def get_config(self):
        """The arguments that rebuild this search (`from_config`), as JSON;
        see `SearchConfig.get_config`."""
        return self.config.get_config()

    @classmethod
    def from_config(cls, config, space=None):
        """The search of `get_config()`.

        Args:
            config: A dict from `get_config()`.
            space: Optional `SearchSpace` to use instead of the config's,
                e.g. one with custom op factories.
        """
        search = cls.__new__(cls)
        search._start(SearchConfig.from_config(config, space=space))
        return search

    # -- fit ----------------------------------------------------------------

    def fit(self, x, y=None, epochs=10, batch_size=32, validation_split=None,
            validation_data=None, callbacks=None, verbose=1,
            class_weight=None, sample_weight=None, preprocessing=None):
        """Search: train up to `max_trials` candidates, keep the best.

        Args:
            x: Input samples as you hold them: a numpy array, strings (an
                array or list, one text a sample), a pandas `DataFrame` or
                a dict of columns, or a `tf.data.Dataset` of `(x, y)`
                batches (docs/data.md).
            y: Labels; for a table, or the name of its target column;
                `None` with a dataset.
            epochs: Most epochs per candidate (early stopping may end one
                sooner). Defaults to `10`.
            batch_size: Defaults to `32`; ignored for datasets.
            validation_split: Fraction of `x` held out, shuffled with the
                search's seed, when there is no `validation_data`. Defaults
                to `0.2`.
            validation_data: `(x_val, y_val)`, or a dataset.
            callbacks: Keras callbacks run in every trial (each trial gets
                a deep copy). A `keras.callbacks.TensorBoard` among them
                also gets the search's own summaries (HParams, op
                sequences, the objective per trial).
            verbose: `0` silent; `1` a line per trial with the search's
                progress; `2` also Keras' output for every epoch.
            class_weight: Optional `{class: weight}` for every trial's
                `model.fit` and `retrain()`, keyed by the classes as `y`
                names them (for one-hot rows, the column).
            sample_weight: Optional weight per sample of `x` (arrays), for
                every trial's `model.fit` and `retrain()`.
            preprocessing: A `keras_nas.Preprocessing`: how text, columns
                and numbers at their own scale become the candidates'
                input, adapted on the training split once; the returned
                and exported models take `x`'s form. `False` for none.
                Defaults to `None` (`Preprocessing()`). A search that goes
                on (`overwrite=False` on a project folder with trials, or
                a second `fit`) keeps the preprocessing of its first fit,
                whatever the new data: its trials were trained on it.

        The project folder takes one search at a time, sets damaged files
        aside, and stops at once on a full disk (`front.project_folder`).

        Returns:
            This `NASSearch`.
        """
        check_int("epochs", epochs, 1)
        check_int("verbose", verbose, 0)
        config = self.config
        fresh = config.overwrite and self.tuner is None
        kept = None  # A search going on keeps what its trials trained on.
        if not fresh and project.has_run(self.project_dir):
            kept = Preprocessor.load(self.project_dir) or False
        data, preprocessor, validation_inputs = raw_data.prepare(
            x, y, preprocessing=preprocessing, kept=kept,
            tokens=config.space.kind == "text",
            validation_split=validation_split,
            validation_data=validation_data, task=config.task,
            one_hot=needs_one_hot(config.training.metrics), seed=config.seed,
            class_weight=class_weight, sample_weight=sample_weight)
        execution.check_data(config.engine, data)
        space_for(config.space, preprocessor)  # Its error, before a folder.
        self.raw_ = preprocessor and RawInputs(preprocessor,
                                               validation_inputs)
        with project_folder.session(
                self.project_dir, config.max_trials, verbose=verbose,
                fresh=fresh):
            return self._fit(data, epochs, batch_size, callbacks, verbose,
                             adapted=kept is None)

    def _fit(self, data, epochs, batch_size, callbacks, verbose, adapted):
        config = self.config
        callbacks = list(callbacks or [])
        preprocessor = self.raw_ and self.raw_.preprocessor
        if adapted and not parallel.in_worker():  # Once, for every trial.
            Preprocessor.write(self.project_dir, preprocessor)
        config = dataclasses.replace(  # Raw text: a text space.
            config, space=space_for(config.space, preprocessor))
        if not data.is_dataset:
            # A text space infers its vocabulary size from the tokens, in a
            # copy for this fit: the user's space and config stay as made.
            space = config.space.adapted(data.x)
            if space is not config.space:
                config = dataclasses.replace(config, space=space)
        progress = Progress(config.max_trials, verbose,
                            max_time_s=config.max_time_s)

        def seed_tuner(tuner):
            seed_search(
                tuner, data, initial_architectures=config.initial_architectures,
                warm_start=config.warm_start_in_use(),
                max_trials=config.max_trials, epochs=epochs,
                batch_size=batch_size, max_time=config.max_time_s,
                seed=config.seed, head=config.training.head,
                progress=progress, asked=config.warm_start is not None)
            return tuner

        def make(deadline):
            tuner = make_tuner(config, data.input_shape, data.task, epochs,
                               verbose, deadline=deadline)
            # Readable even if the search stops with an error.
            self.results_ = SearchResults(config, tuner, data.task, data)
            return tuner

        tuner = execution.run_search(
            config.engine, tuner=self.tuner, make_tuner=make,
            seed_tuner=seed_tuner,
            deadline=parallel.shared_deadline(config.max_time_s),
            hooks=[progress] + _summary_writers(callbacks), verbose=verbose,
            search_kwargs=dict(
                epochs=epochs, callbacks=callbacks,
                keras_verbose=keras_verbosity(verbose),
                **data.fit_arguments(batch_size)),
            log_dir=os.path.join(self.project_dir, "workers"))
        self.results_ = SearchResults(config, tuner, data.task, data)
        if verbose and not parallel.in_worker():
            print()
            self.summary()
        return self

    # -- reading the search: `SearchResults`, once there is one ----------

    def _finished(self):
        if self.results_ is None:
            raise RuntimeError(
                "No search yet: call `fit(x, y)` first, or "
                "`NASSearch.load(directory, project_name)` for a saved one.")
        return self.results_

    results = _reads("results")
    objectives = _reads("objectives")
    summary = _reads("summary")
    pareto_front = _reads("pareto_front")
    best_architecture = _reads("best_architecture")
    best_model = _reads("best_model")
    importance = _reads("importance")
    evaluate = _reads("evaluate")
    predict = _reads("predict")
    retrain = _reads("retrain")
    ensemble = _reads("ensemble")
    export = _reads("export")
    plot_history = _reads("plot_history")
    plot_tradeoff = _reads("plot_tradeoff")
    plot_importance = _reads("plot_importance")

    # -- reopening a saved search -----------------------------------------

    @classmethod
    def load(cls, directory, project_name="search", space=None,
             strategy=None, max_trials=None, verbose=0):
        """Reopen a search from its project folder: its config, its data's
        shape and task, and every trial.

        The reopened search reports, exports and resumes exactly what ran:
        `fit` on it continues the same search. Pass `space` if it used
        custom op factories, which are not saved; `strategy` if it ran
        with an oracle of your own that takes arguments; and `max_trials`
        to continue it to more trials than it was given.
        """
        meta = project.read_meta(directory, project_name)
        config = dict(meta["config"], directory=str(directory),
                      project_name=project_name, overwrite=False)
        if strategy is not None:
            config["strategy"] = strategy
        if max_trials is not None:
            config["max_trials"] = max_trials
        search = cls.from_config(config, space=space)
        task = Task.from_config(meta["task"])
        tuner = make_tuner(
            search.config, tuple(meta["input_shape"]), task, epochs=None,
            verbose=verbose,
            objective=project.objective_from_json(meta["objective"]))
        if not tuner.oracle.trials and project.has_run(search.project_dir):
            # Saved by a chief (chief.json), not by this process's tuner id.
            tuner.oracle.reload()
        search.results_ = SearchResults(search.config, tuner, task)
        preprocessor = Preprocessor.load(search.project_dir)
        search.raw_ = preprocessor and RawInputs(preprocessor)
        return search


def _summary_writers(callbacks):
    """The search-level TensorBoard writer, if a TensorBoard callback is
    among `callbacks`."""
    boards = tensorboards(callbacks)
    if not boards:
        return []
    from keras_nas.analysis import tensorboard

    return [tensorboard.SearchSummaryWriter(boards[0].log_dir)]
