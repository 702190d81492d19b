"""The `keras-nas` command.

    keras-nas search [--data FILE] [--strategy evolution] [--max-trials 10] ...
    keras-nas report DIR
    keras-nas export DIR OUT [--format F] [--quantize Q] [--data FILE]
                             [--ensemble N]

With no `--data`, `search` runs on scikit-learn's bundled digits images,
offline. Bad arguments and input print one line and exit with status 2,
before anything trains; a failure after that prints its traceback and
exits with status 1.
"""

import argparse
import contextlib
import os
import sys

__all__ = ["UsageError", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class UsageError(Exception):
    """A bad argument or input file: one line, exit status 2."""


def _parser():
    parser = _Parser(
        prog="keras-nas",
        description="Neural architecture search for Keras, on Keras Tuner.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                parser_class=_Parser)
    sub.required = True

    search = sub.add_parser(
        "search", help="search for a model",
        description="Search for a keras.Sequential on the built-in digits "
        "images, or on your data; then print the trials, the test score and "
        "the exported best model's path.")
    search.add_argument(
        "--data", metavar="FILE",
        help="an .npz with x_train, y_train (and optionally x_test, y_test), "
        "or a .csv with a label column; default: scikit-learn's digits")
    search.add_argument("--label", "--target", dest="label", default="label",
                        help="the label (target) column of a CSV "
                        "(default: label)")
    search.add_argument("--strategy", default="auto",
                        choices=["auto", "evolution", "local", "random",
                                 "bayesian", "hyperband"])
    search.add_argument("--max-trials", type=int, default=10)
    search.add_argument("--epochs", type=int, default=10)
    search.add_argument("--batch-size", type=int, default=32)
    search.add_argument("--max-depth", type=int, default=6)
    search.add_argument("--max-params", type=int, default=None,
                        help="never train a model with more weights")
    search.add_argument("--max-flops", type=int, default=None,
                        help="never train a model with more multiply-adds "
                        "per sample")
    search.add_argument("--max-latency-ms", type=float, default=None,
                        metavar="MS",
                        help="never train a model whose forward pass (batch "
                        "1, measured here) takes longer")
    search.add_argument("--latency-runtime", default="keras",
                        choices=["keras", "onnxruntime", "litert"],
                        help="where --max-latency-ms and latency_ms are "
                        "measured (default: keras)")
    search.add_argument("--objective", nargs="+", default=None,
                        metavar="NAME",
                        help="the objective, or several for a Pareto search, "
                        "e.g. --objective val_accuracy params")
    search.add_argument("--directory", default="nas_runs")
    search.add_argument("--project", default="search")
    search.add_argument("--overwrite", action="store_true",
                        help="start afresh instead of resuming")
    search.add_argument("--log-dir", default=None,
                        help="write TensorBoard logs here")
    search.add_argument("--seed", type=int, default=None)
    search.add_argument("--workers", type=int, default=0,
                        help="run N local worker processes (Keras Tuner's "
                        "chief/worker engine)")
    search.add_argument("--max-time-s", type=float, default=None,
                        metavar="SECONDS",
                        help="stop cleanly after this many seconds (the "
                        "trial in flight is finished and kept)")
    search.add_argument("--no-warm-start", action="store_true",
                        help="do not rank candidates by zero-cost proxies "
                        "before training")
    search.add_argument("--steps-per-execution", type=int, default=None,
                        metavar="N",
                        help="batches per compiled training call (default: "
                        "16; 1 on PyTorch)")
    search.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])

    report = sub.add_parser(
        "report", help="print a search's trials and save its plots",
        description="Print the table of an existing search, its Pareto "
        "front and which ops moved its objective, and save history.png, "
        "tradeoff.png and importance.png in its folder.")
    report.add_argument("dir", help="the search's project folder "
                        "(DIRECTORY/PROJECT)")

    export = sub.add_parser(
        "export", help="export a search's best model",
        description="Write the best model of a search (.keras, .onnx, "
        ".tflite, or a folder for a SavedModel), checked in its runtime, "
        "with its architecture and the checks as JSON beside it.")
    export.add_argument("dir", help="the search's project folder")
    export.add_argument("out", help="the file (or SavedModel folder) to "
                        "write: .keras, .onnx, .tflite or a folder")
    export.add_argument("--format", default=None,
                        choices=["keras", "onnx", "litert", "tf_saved_model"],
                        help="override the format the suffix names")
    export.add_argument("--quantize", default=None,
                        choices=["float16", "int8"],
                        help="float16 or int8 (LiteRT), int8 (ONNX)")
    export.add_argument("--data", metavar="FILE", default=None,
                        help="an .npz or .csv as for search: its test (or "
                        "training) samples check the export; needed with "
                        "--quantize")
    export.add_argument("--label", "--target", dest="label", default="label",
                        help="the label (target) column of a CSV "
                        "(default: label)")
    export.add_argument("--ensemble", type=int, default=None, metavar="N",
                        help="export the ensemble of up to N picks among "
                        "the trials instead of the best model")
    return parser


def _load_data(path, label):
    """(x_train, y_train), (x_test, y_test) or None, from .npz or .csv."""
    if not os.path.exists(path):
        raise UsageError(f"--data: no such file: {path}")
    if path.endswith(".npz"):
        import numpy as np

        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("x_train", "y_train") if k not in f]
            if missing:
                raise UsageError(
                    f"--data: {path} lacks {', '.join(missing)}; it holds "
                    f"{sorted(f.files)}. Accepted: x_train, y_train and "
                    "optionally x_test, y_test.")
            train = (f["x_train"], f["y_train"])
            test = (f["x_test"], f["y_test"]) if "x_test" in f and "y_test" in f else None
        return train, test
    if path.endswith(".csv"):
        return _load_csv(path, label), None
    raise UsageError(
        f"--data: {path} is neither .npz nor .csv. Accepted: an .npz with "
        "x_train, y_train, or a .csv with a label column.")


def _load_csv(path, label):
    from keras_nas.data.csv_table import read_csv

    try:
        return read_csv(path, label)
    except ValueError as e:
        raise UsageError(f"--data: {e}") from None


def _check_positive(args, *names):
    for name in names:
        value = getattr(args, name.replace("-", "_"))
        if value is not None and value < 1:
            raise UsageError(f"--{name} must be at least 1, got {value}")


def _search(args):
    _check_positive(args, "max-trials", "epochs", "batch-size", "max-depth",
                    "max-params", "steps-per-execution")
    if args.workers < 0:
        raise UsageError(f"--workers must be 0 or more, got {args.workers}")
    if args.max_time_s is not None and args.max_time_s <= 0:
        raise UsageError(
            f"--max-time-s must be a positive number of seconds, got "
            f"{args.max_time_s:g}")
    if args.max_latency_ms is not None and args.max_latency_ms <= 0:
        raise UsageError(
            f"--max-latency-ms must be a positive number of milliseconds, got "
            f"{args.max_latency_ms:g}")
    if args.data is not None and not os.path.exists(args.data):
        raise UsageError(f"--data: no such file: {args.data}")
    import keras_nas

    # The arguments first: a bad one is said before any data is read.
    with _input_errors():
        search = keras_nas.NASSearch(
            space=keras_nas.SearchSpace(max_depth=args.max_depth,
                                        max_params=args.max_params,
                                        max_flops=args.max_flops),
            strategy=args.strategy, max_trials=args.max_trials,
            directory=args.directory, project_name=args.project,
            overwrite=args.overwrite, seed=args.seed,
            latency=_latency(args),
            objective=None if args.objective is None else (
                args.objective[0] if len(args.objective) == 1
                else args.objective),
            engine=keras_nas.KerasTunerEngine(workers=args.workers),
            max_time_s=args.max_time_s,
            # None: on wherever it applies, as in NASSearch.
            warm_start=False if args.no_warm_start else None,
            training=keras_nas.Training(
                steps_per_execution=args.steps_per_execution))
    if args.data is None:
        train, test = keras_nas.load_digits()
        print(f"Data: scikit-learn digits, {len(train[0])} training and "
              f"{len(test[0])} test images of 8x8 (no --data given)")
    else:
        train, test = _load_data(args.data, args.label)
        print(f"Data: {args.data}, {len(train[1])} training samples "
              + (f"of {len(train[0])} columns" if isinstance(train[0], dict)
                 else f"of shape {tuple(train[0].shape[1:])}")
              + (f", {len(test[0])} test samples" if test else ""))
    with _input_errors():
        _check_data(search, train, test)
    # Checked: from here on an error is a failure of the search itself.
    callbacks = []
    if args.log_dir is not None:
        import keras

        callbacks.append(keras.callbacks.TensorBoard(log_dir=args.log_dir))
    search.fit(train[0], train[1], epochs=args.epochs,
               batch_size=args.batch_size, verbose=args.verbose,
               callbacks=callbacks)
    if test is not None:
        result = search.evaluate(test[0], test[1], return_dict=True)
        scores = ", ".join(f"{k} {v:.4f}" for k, v in result.items())
        print(f"Test: {scores}")
    out = os.path.join(search.project_dir, "best.keras")
    search.export(out)
    print(f"Best model: {out}  (architecture: {out[:-6]}.json)")
    print(f"Best architecture: {' > '.join(search.best_architecture())}")


@contextlib.contextmanager
def _input_errors():
    """The errors of input checks in the block (`ValueError`, `TypeError`)
    as a `UsageError`: one line, exit status 2. Nothing trains in such a
    block, so an error raised by training is never taken for bad input."""
    try:
        yield
    except (ValueError, TypeError) as e:
        raise UsageError(str(e).splitlines()[0]) from None


def _check_data(search, train, test):
    """Check the data as `fit` and `evaluate` will, before anything trains:
    the labels, the task, the objective and the space for this input."""
    from keras_nas.data import raw
    from keras_nas.data.prepare import encode_for_evaluation
    from keras_nas.data.task import needs_one_hot
    from keras_nas.front.raw_inputs import space_for

    config = search.config
    data, preprocessor, _ = raw.prepare(
        train[0], train[1], task=config.task, seed=config.seed,
        tokens=config.space.kind == "text",
        one_hot=needs_one_hot(config.training.metrics))
    data.task.objective(config.objective, config.training.metrics)
    space_for(config.space, preprocessor).bind(
        data.input_shape, output_units=data.task.output_units)
    if test is not None:
        x_test, _ = encode_for_evaluation(test[0], test[1], data.task)
        if x_test.shape[1:] != tuple(data.input_shape):
            raise ValueError(
                "`x_test` must have the samples' shape of `x_train`, "
                f"{tuple(data.input_shape)}. Received: {x_test.shape[1:]}.")


def _latency(args):
    """The search's `Latency` option of --max-latency-ms and
    --latency-runtime."""
    if args.max_latency_ms is None and args.latency_runtime == "keras":
        return None
    from keras_nas.scoring.latency import Latency

    return Latency(max_ms=args.max_latency_ms, runtime=args.latency_runtime)


def _open(path):
    path = os.path.normpath(path)
    if not os.path.isdir(path):
        raise UsageError(f"no such search folder: {path}")
    from keras_nas import NASSearch

    try:
        with _input_errors():  # A config this version cannot read.
            return NASSearch.load(os.path.dirname(path) or ".",
                                  os.path.basename(path))
    except FileNotFoundError as e:
        raise UsageError(str(e))


def _report(args):
    from keras_nas.analysis.importance import format_importance

    search = _open(args.dir)
    search.summary()
    print("\nPareto front (" + " against ".join(
        o.name for o in search.objectives()) + (
        ", params" if len(search.objectives()) == 1 else "") + "):")
    for r in search.pareto_front():
        values = r.objectives or {search.objectives()[0].name: r.value}
        print(f"  trial {r.trial_id}: " + ", ".join(
            f"{k} {v:.4g}" for k, v in values.items() if k != "params") +
            f", {r.params:,} params | {' > '.join(r.ops)}")
    result = search.importance()
    print("\nWhy the best won:\n" + format_importance(result))
    plots = ["history.png", "tradeoff.png", "importance.png"]
    try:
        search.plot_history(os.path.join(args.dir, plots[0]))
        search.plot_tradeoff(os.path.join(args.dir, plots[1]))
        from keras_nas.analysis import plots as report

        report.plot_importance(result, os.path.join(args.dir, plots[2]))
        print("\nPlots: " + ", ".join(os.path.join(args.dir, p)
                                      for p in plots))
    except ImportError as e:
        print(f"Plots skipped: {e}")


def _export(args):
    from keras_nas.export.formats import format_of_path

    _check_positive(args, "ensemble")
    with _input_errors():
        # Names the suffixes, before TensorFlow starts.
        fmt = args.format or format_of_path(args.out)
    if args.quantize is not None and args.data is None:
        raise UsageError(
            f"--quantize {args.quantize} needs --data, to measure what "
            "quantizing costs")
    validation = None
    if args.data is not None:
        train, test = _load_data(args.data, args.label)
        validation = test or train
    search = _open(args.dir)
    with _input_errors():
        from keras_nas.data.prepare import encode_for_evaluation
        from keras_nas.export.runtimes import check_format

        check_format(fmt, args.quantize)
        if validation is not None and search.raw_ is not None:
            search.raw_.labelled(*validation, search.task_)
        elif validation is not None:
            encode_for_evaluation(validation[0], validation[1],
                                  search.task_)
    # Checked: a failure from here on is the export's, not the input's.
    json_path = search.export(args.out, format=args.format,
                              quantize=args.quantize,
                              validation_data=validation,
                              ensemble=args.ensemble)
    print(f"Wrote {args.out} and {json_path}")


def main(argv=None):
    args = _parser().parse_args(argv)
    # TensorFlow's start-up chatter is not for a terminal user.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        {"search": _search, "report": _report, "export": _export}[
            args.command](args)
    except UsageError as e:
        # Bad input, found by the checks before anything trains. Any other
        # error (a `ValueError` of training included) is a failure, with its
        # traceback and exit status 1.
        print(f"keras-nas: error: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, ImportError) as e:
        # A failed check (an export that disagrees), or a missing extra.
        print(f"keras-nas: error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1
    except OSError as e:  # A full, read-only or forbidden project folder.
        print(f"keras-nas: error: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("keras-nas: interrupted; run the same command again to resume",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
