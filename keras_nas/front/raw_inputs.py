"""A search's models as the user's data needs them.

When `fit` preprocessed the data (`data.preprocessing`: raw text, a table
of columns, numbers at their own scale), the candidates were searched on
the preprocessed numbers, and everything handed back takes the data in the
form it was given: `best_model()`, `predict`, `evaluate`, `retrain()`,
`ensemble()` and `export()` put the adapted preprocessing in front of the
candidate (`Preprocessor.wrap`). A search without preprocessing is read
exactly as before (`SearchResults`).
"""

import numpy as np

from keras_nas.data import prepare as data_module
from keras_nas.data import tables
from keras_nas.space.search_space import SearchSpace

__all__ = ["RawInputs", "space_for"]

#: Formats that run string inputs and tables of columns.
_RAW_FORMATS = ("keras", "tf_saved_model")


def space_for(space, preprocessor):
    """The space of a search on `preprocessor`'s output: raw text reads
    token ids, so its space is a text space of the vectorizer's
    vocabulary size; any other space is returned as it is."""
    if preprocessor is None or preprocessor.form != "text":
        return space
    if space.kind not in (None, "text"):
        raise ValueError(
            f"`x` is raw text, but the space is for {space.kind} data. "
            f"Received: SearchSpace(kind={space.kind!r}). Pass a space of "
            "kind None or 'text'.")
    config = dict(space.get_config(), kind="text",
                  vocabulary_size=preprocessor.vocabulary_size)
    new = SearchSpace.from_config(
        config, op_table=None if config["ops"] is None else space.op_table)
    new.constraints = space.constraints
    return new


class RawInputs:
    """The models of a finished search behind its preprocessing.

    Args:
        preprocessor: The adapted `Preprocessor` of `fit` (or of the
            project folder).
        validation_inputs: The validation samples as the wrapped model
            takes them (this session's `fit`), or `None`.
    """

    def __init__(self, preprocessor, validation_inputs=None):
        self.preprocessor = preprocessor
        self.validation_inputs = validation_inputs
        self._wrapped = {}

    def wrap(self, results, model):
        """`model` behind the preprocessing, compiled as the candidates
        are (the same object for the same `model`)."""
        key = id(model)
        if key not in self._wrapped or self._wrapped[key][0] is not model:
            wrapped = self.preprocessor.wrap(model)
            results.tuner.hypermodel.compile_model(wrapped)
            # Built now, so that a saved file holds the variables a load
            # expects (as `front.ensemble` does).
            wrapped.optimizer.build(wrapped.trainable_variables)
            self._wrapped[key] = (model, wrapped)
        return self._wrapped[key][1]

    def best_model(self, results, trial_id=None):
        return self.wrap(results, results.best_model(trial_id))

    def retrain(self, results, *args, **kwargs):
        return self.wrap(results, results.retrain(*args, **kwargs))

    def ensemble(self, results, *args, **kwargs):
        return self.wrap(results, results.ensemble(*args, **kwargs))

    def inputs(self, x, arg="x"):
        """`x` as the wrapped model takes it (a dataset as it is)."""
        if data_module.is_dataset(x):
            return x
        return self.preprocessor.inputs(x, arg)

    def predict(self, results, x, **kwargs):
        kwargs.setdefault("verbose", 0)
        return self.wrap(results, results.best_model()).predict(
            self.inputs(x), **kwargs)

    def evaluate(self, results, x, y=None, **kwargs):
        kwargs.setdefault("verbose", 0)
        model = self.wrap(results, results.best_model())
        if self.preprocessor.form == "array" or data_module.is_dataset(x):
            x, y = data_module.encode_for_evaluation(x, y, results.task_)
        else:
            x, y = self.labelled(x, y, results.task_)
        return model.evaluate(x, y, **kwargs)

    def labelled(self, x, y, task, arg="x"):
        """`(inputs, targets)` of raw `x` and labels `y` (for a table, or
        the name of its target column)."""
        if self.preprocessor.form == "columns" and tables.is_columns(x):
            x, y = tables.split_target(tables.check_columns(x, arg), y, arg)
        if y is None:
            raise ValueError(
                f"`y` is required when `{arg}` is not a dataset. Received: "
                "y=None.")
        inputs = self.inputs(x, arg)
        rows = len(next(iter(inputs.values()))) if isinstance(
            inputs, dict) else len(inputs)
        data_module.check_lengths(np.empty(rows), y, arg, "y")
        return inputs, task.encode(y, "y")

    def export(self, results, path, format=None, quantize=None,
               validation_data=None, ensemble=None):
        """`SearchResults.export` of the wrapped model (see there)."""
        from keras_nas.export import runtimes
        from keras_nas.front import ensemble as ensemble_module
        from keras_nas.front import export as export_module

        format = format or runtimes.format_of_path(path)
        runtimes.check_format(format, quantize)
        pre = self.preprocessor
        if pre.form != "array" and format not in _RAW_FORMATS:
            what = ("raw strings" if pre.form == "text"
                    else "a table of columns")
            raise ValueError(
                f"The {format} format cannot take this search's input "
                f"({what}): export to a `.keras` file or a SavedModel "
                "folder, which carry the preprocessing. Received: "
                f"format={format!r}.")
        if ensemble is None:
            inner, info = results.best_model(), results._export_info()
        else:
            inner, record = ensemble_module.build(results, ensemble)
            info = ensemble_module.export_info(results, record)
        validation = None
        if validation_data is not None:
            if pre.form == "array":
                validation = data_module.encode_for_evaluation(
                    *validation_data, results.task_)
            else:
                validation = self.labelled(*validation_data, results.task_,
                                           "validation_data[0]")
        elif self.validation_inputs is not None and results.data is not None:
            validation = (self.validation_inputs,
                          results.data.validation[1])
        elif pre.form != "array":
            validation = (pre.check_inputs(), None)
        info = dict(info, preprocessing=pre.info, load=_how_to_load(pre))
        return export_module.export(
            path, self.wrap(results, inner), info, results.task_,
            format=format, quantize=quantize, validation=validation)


def _how_to_load(preprocessor):
    load = "import keras, keras_nas; model = keras.models.load_model(path)"
    if preprocessor.form == "text":
        return load + "; model.predict(np.array(texts, dtype=object))"
    if preprocessor.form == "columns":
        return load + ("; model.predict({name: frame[name].to_numpy() for "
                       "name in " + repr(list(preprocessor.info["columns"]))
                       + "}) (strings as an object array, missing as None "
                       "or NaN replaced by '' or NaN)")
    return load + "; model.predict(x)"
