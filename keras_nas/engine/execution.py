"""Running a search's trials on its engine: here, one after another; in
local worker processes on Keras Tuner's chief/worker engine; or as Ray
tasks, on this machine or a Ray cluster (`ray_engine`).

The front picks an engine (`NASSearch(engine=...)`, whose `workers` say
how many trials run at once) and hands the search to `run_search`; what is
run where is decided here and in `parallel`, not in `NASSearch.fit`.
"""

import keras

from keras_nas.engine import parallel, tf_logs

__all__ = ["check_data", "run_search"]


def run_search(engine, *, tuner, make_tuner, seed_tuner, deadline, hooks,
               verbose, search_kwargs, log_dir):
    """Run the trials of a search; return its tuner.

    Args:
        engine: The engine option object: `options.KerasTunerEngine` (its
            `workers`: trials at once, `0` trains here), or
            `ray_options.Ray` (each trial a Ray task, `ray_engine`).
        tuner: The tuner of an earlier `fit` in this process, or `None`.
        make_tuner: `make_tuner(deadline)` makes the search's tuner.
        seed_tuner: Queues what is trained first on a fresh tuner.
        deadline: The `time.time()` at which the time budget ends, or
            `None`.
        hooks: Callables `(tuner, trial)` run after each trial (progress
            lines, TensorBoard summaries).
        verbose: The search's verbosity.
        search_kwargs: What `NASTuner.search` is given (data, epochs,
            callbacks, ...).
        log_dir: Where worker processes write their logs.

    In a worker process of Keras Tuner's engine this trains trials until
    the chief has none left; a worker started by `parallel.serve` then
    exits, so the code after `fit` runs once, in the chief.
    """
    # A search traces a fresh model per trial by design: TensorFlow's
    # warnings that it retraces are dropped below verbose=2 (`tf_logs`).
    with tf_logs.quiet_retracing(verbose):
        return _run(engine, tuner, make_tuner, seed_tuner, deadline, hooks,
                    verbose, search_kwargs, log_dir)


def _run(engine, tuner, make_tuner, seed_tuner, deadline, hooks, verbose,
         search_kwargs, log_dir):
    on_ray = getattr(engine, "name", None) == "ray"
    if engine.workers and not on_ray and not parallel.in_worker():
        return parallel.run_chief(
            lambda: seed_tuner(make_tuner(deadline)), workers=engine.workers,
            log_dir=log_dir, timeout=engine.timeout_s, verbose=verbose,
            on_trial_end=_every(hooks))
    if tuner is None:
        tuner = make_tuner(None)
        if not parallel.in_worker():
            seed_tuner(tuner)
    tuner.deadline = deadline
    # The chief of local workers runs every hook for their trials
    # (`run_chief`); run here too, each summary would be written twice.
    tuner.trial_hooks = [] if parallel.in_local_worker() else list(hooks)
    tuner.verbose = verbose
    try:
        if on_ray:  # Trials as Ray tasks, `engine.workers` at once.
            from keras_nas.engine import ray_engine

            ray_engine.search(tuner, engine, **search_kwargs)
        else:
            tuner.search(**search_kwargs)
    finally:
        # Collects garbage too, what the search froze included.
        keras.backend.clear_session()
    parallel.finish_worker()
    return tuner


def _every(hooks):
    """One `on_trial_end(tuner, trial)` that runs each of `hooks` in order,
    as the tuner does here (`NASTuner.trial_hooks`): the chief reports the
    workers' trials to all of them (progress lines and TensorBoard alike),
    not only to the first. `None` when there are none."""
    hooks = list(hooks)
    if not hooks:
        return None

    def run_each(tuner, trial):
        for hook in hooks:
            hook(tuner, trial)

    return run_each


def check_data(engine, data):
    """A `ValueError` before anything is built if the engine cannot take
    the data (Ray's object store takes arrays only)."""
    if getattr(engine, "name", None) == "ray":
        from keras_nas.engine import ray_engine

        ray_engine.check_data(data.x, data.y, data.validation)
