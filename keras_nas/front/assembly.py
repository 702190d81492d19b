"""The tuner of a search: a `SearchConfig` and the data's shape and task
turned into the bound space, the hypermodel, the strategy's oracle and the
Keras Tuner tuner that runs them.

The one place that puts the stages together; `NASSearch.fit` and
`NASSearch.load` both call `make_tuner`.
"""

import contextlib
import io

from keras_nas import strategies
from keras_nas.engine import parallel
from keras_nas.engine.pack_size import PackSize
from keras_nas.engine.tuner import (NASHyperModel, NASTuner,
                                    resolve_steps_per_execution)
from keras_nas.front import ensemble, project, project_folder

__all__ = ["make_tuner"]


def make_tuner(config, input_shape, task, epochs, verbose, objective=None,
               deadline=None):
    """The tuner of a search of `config` for data of `input_shape` and
    `task`. A reopened search passes the `objective` it ran with, and its
    project folder is neither wiped nor described again."""
    training = config.training
    latency = config.latency_in_use()
    meter = None if latency is None else latency.meter(
        head=training.head, activation=task.activation)
    budget = None if latency is None else latency.budget(meter)
    space = config.space.bind(
        input_shape, output_units=task.output_units,
        constraints=[budget] if budget is not None else [])
    reopen = objective is not None
    if not reopen:
        objective = task.objective(config.objective, training.metrics)
    hypermodel = NASHyperModel(
        space, task, task.metrics(training.metrics),
        optimizer=training.optimizer, head=training.head, loss=training.loss,
        steps_per_execution=resolve_steps_per_execution(
            training.steps_per_execution))
    halving = config.halving_in_use()
    # The strategy's oracle behind the queue (and the promotions): the
    # tuner sees `Promotions(Queue(strategy))`.
    oracle = strategies.wrap(
        strategies.get(config.strategy, space=space, objective=objective,
                       max_trials=config.max_trials, seed=config.seed,
                       epochs=epochs),
        promotions=halving is not None and halving.promotes)
    engine = config.engine
    # Keras Tuner prints "Reloading Tuner from ..." when it resumes.
    with _stdout_unless(verbose):
        tuner = NASTuner(
            oracle=oracle, hypermodel=hypermodel,
            patience=training.patience, seed=config.seed,
            max_consecutive_failed_trials=(
                training.max_consecutive_failed_trials),
            directory=config.directory, project_name=config.project_name,
            # `project_folder.session` empties it, keeping the lock.
            overwrite=False,
            distribution_strategy=training.distribution_strategy,
            trials_per_process=getattr(engine, "trials_per_process", None)
            if parallel.in_local_worker() else None,
            halving=halving,
            deadline=deadline,
            latency=meter,
            pack_size=PackSize(getattr(engine, "pack_size", 1)),
        )
    tuner.oracle.verbose = 0  # Our own line per trial instead.
    ensemble.attach_selector(tuner, task)  # NES-RE's parents, if asked.
    if epochs is not None:  # A chief serves its oracle without `search`.
        tuner.start_promotions(epochs)
    if not reopen and not parallel.in_worker():
        project_folder.rerun_damaged(tuner)
        project.write_meta(tuner.project_dir, config.get_config(),
                           input_shape, task, objective)
    return tuner


def _stdout_unless(verbose):
    """Swallow standard output in the block unless `verbose`."""
    if verbose:
        return contextlib.nullcontext()
    return contextlib.redirect_stdout(io.StringIO())
