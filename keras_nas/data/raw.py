"""The data of `NASSearch.fit` as users hold it: split first, then the
preprocessing adapted on the training split only, then `prepare.prepare`
on the numbers the candidates train on.

Raw text (strings, or a `tf.data` of strings), tables (a `DataFrame` or a
dict of columns, `y` a column's name or the labels) and numeric arrays at
their own scale go through `preprocessing.adapt`; a numeric dataset of
images in [0, 255] is rescaled in its pipeline; anything else (numeric
arrays on a unit scale, or with `preprocessing=False`; other numeric
datasets) goes to `prepare.prepare` unchanged. The split is the one
`prepare.split` makes of the same samples with the same seed.
"""

import dataclasses

import numpy as np

from keras_nas.data import labels as labels_module
from keras_nas.data import prepare as prepare_module
from keras_nas.data import tables, text
from keras_nas.data.preprocessing import Preprocessing, adapt, form_of

__all__ = ["prepare"]


def prepare(x, y=None, *, preprocessing=None, tokens=False, kept=None,
            validation_split=None, validation_data=None, task=None,
            one_hot=False, seed=None, class_weight=None, sample_weight=None):
    """Check, split, preprocess and encode the data of `NASSearch.fit`.

    Args:
        x: Samples: a numeric array, an array or list of strings, a
            `DataFrame` or dict of columns, or a `tf.data.Dataset` of
            `(x, y)` batches (of strings, or numbers).
        y: Labels; for a table, the name of its target column too.
        preprocessing: As `NASSearch.fit(preprocessing=...)`: `None` (the
            defaults), `False`, or a `Preprocessing`. Defaults to `None`.
        tokens: Whether a numeric `x` holds token ids (a text space): they
            are never scaled. Defaults to `False`.
        kept: For a search going on (resumed, or fit again): the
            `Preprocessor` of its first `fit`, used as it is instead of one
            adapted anew, so the trials already trained go on reading their
            inputs as they were trained to (`x` must have the form it was
            adapted on); `False` if that fit had none (`x` must be numbers,
            taken as they are). `None` (the default) adapts one.
        validation_split, validation_data, task, one_hot, seed,
        class_weight, sample_weight: As `prepare.prepare`.

    Returns:
        `(prepared, preprocessor, validation_inputs)`: the `Prepared` data
        of the candidates, the adapted `Preprocessor` (or `None`), and the
        validation samples as the preprocessed model takes them (or
        `None`).
    """
    options = Preprocessing.of(preprocessing)
    rest = dict(task=task, one_hot=one_hot, seed=seed,
                class_weight=class_weight)
    if prepare_module.is_dataset(x):
        from keras_nas.data import tf_datasets

        if not tf_datasets.holds_strings(x):
            if kept is not None:
                _check_kept(kept, "dataset")
            return _numeric_dataset(x, y, options, validation_split,
                                    validation_data, sample_weight, rest)
        if y is not None:
            raise ValueError(
                "`y` must be None when `x` is a tf.data.Dataset of (x, y) "
                "batches.")
        x, y = tf_datasets.arrays_of(x)
        if prepare_module.is_dataset(validation_data):
            validation_data = tf_datasets.arrays_of(validation_data)
    form = form_of(x)
    if kept is not None:
        _check_kept(kept, form)
        options = options if kept else False
    if form == "array" and options is False:
        return prepare_module.prepare(
            x, y, validation_split=validation_split,
            validation_data=validation_data, sample_weight=sample_weight,
            **rest), None, None
    if validation_data is not None and validation_split is not None:
        raise ValueError(
            "Pass `validation_split` or `validation_data`, not both. "
            f"Received: validation_split={validation_split!r} and "
            "validation_data.")
    x, y = _samples(x, y, form, "x", "y")
    if y is None:
        raise ValueError(
            "`y` is required when `x` is an array. Received: y=None. Pass "
            "labels (for a table, or the name of its target column).")
    prepare_module.check_lengths(np.empty(_rows(x)), y)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(
                validation_data) != 2:
            raise ValueError(
                "`validation_data` must be a tuple (x_val, y_val). "
                f"Received: {type(validation_data).__name__}.")
        x_val, y_val = _samples(*validation_data, form_of(
            validation_data[0]), "validation_data[0]", "validation_data[1]")
        x_train, y_train, w_train, w_val = x, y, sample_weight, None
    else:
        kind = labels_module.infer_task(y, task, one_hot=one_hot)
        fraction = prepare_module.check_split(
            0.2 if validation_split is None else validation_split)
        n = _rows(x)
        labels_module.check_enough(n, max(1, int(round(n * fraction))), kind)
        weights = labels_module.check_sample_weight(sample_weight, n)
        parts = prepare_module.split(np.arange(n), np.asarray(y), fraction,
                                     seed=seed or 0, sample_weight=weights)
        (i_train, y_train, *w_train), (i_val, y_val, *w_val) = parts
        x_train, x_val = _take(x, i_train), _take(x, i_val)
        w_train = w_train[0] if w_train else None
        w_val = w_val[0] if w_val else None
    preprocessor = kept or adapt(x_train, options, tokens=tokens)
    if preprocessor is None:  # Numbers the candidates take as they are.
        return prepare_module.prepare(
            x, y, validation_split=validation_split,
            validation_data=validation_data, sample_weight=sample_weight,
            **rest), None, None
    if preprocessor.form == "columns":
        kinds = preprocessor.info["columns"]
        tables.warn_unseen(tables.model_inputs(x_train, kinds),
                           preprocessor.inputs(x_val, "validation_data[0]"),
                           kinds)
    validation_inputs = preprocessor.inputs(x_val, "validation_data[0]")
    prepared = prepare_module.prepare(
        preprocessor.transform(x_train),
        y_train, validation_data=(
            preprocessor.transform(x_val, "validation_data[0]"), y_val),
        sample_weight=w_train, validation_sample_weight=w_val, **rest)
    return prepared, preprocessor, validation_inputs


def _check_kept(kept, form):
    """`form` against the form a search going on was started on."""
    started = kept.form if kept else "array"
    if started == form or (kept is False and form == "dataset"):
        return
    how = ("through the preprocessing adapted then" if kept
           else "as they were given")
    raise ValueError(
        f"This search was started on {_FORMS[started]}, and its trials "
        f"read their inputs {how}; `x` must be {_FORMS[started]} too. "
        f"Received: {_FORMS[form]}. Pass `overwrite=True` to start a new "
        "search on this data.")


_FORMS = {"text": "strings", "columns": "a table (a DataFrame or a dict "
          "of columns)", "array": "a numeric array",
          "dataset": "a tf.data dataset of numbers"}


def _numeric_dataset(x, y, options, validation_split, validation_data,
                     sample_weight, rest):
    """A dataset of numbers: images in [0, 255] (by their first batches)
    rescaled by 1/255 once, in the pipeline and in front of the model; any
    other as it is."""
    from keras_nas.data import tf_datasets

    prepared = prepare_module.prepare(
        x, y, validation_split=validation_split,
        validation_data=validation_data, sample_weight=sample_weight, **rest)
    if len(prepared.input_shape) != 3 or options is False or (
            options.rescale is False):
        return prepared, None, None
    if not options.rescale and not _is_0_255(*tf_datasets.sample_range(x)):
        return prepared, None, None
    import keras

    from keras_nas.data.preprocessing import Preprocessor

    inp = keras.Input(shape=prepared.input_shape, name="features")
    front = keras.Model(inp, keras.layers.Rescaling(1 / 255, name="rescale")(
        inp), name="preprocessing")
    preprocessor = Preprocessor(front, {"form": "array",
                                        "scaled": ["rescale 1/255"]})
    return dataclasses.replace(
        prepared, x=tf_datasets.rescaled(prepared.x, 1 / 255),
        validation=tf_datasets.rescaled(prepared.validation, 1 / 255)), \
        preprocessor, None


def _is_0_255(low, high):
    return low >= 0 and 1.5 < high <= 255


def _samples(x, y, form, x_arg, y_arg):
    """`(x, y)` checked in their form: strings, columns (a string `y`
    names the target column) or a numeric array."""
    if form == "columns":
        columns = tables.check_columns(x, x_arg)
        return tables.split_target(columns, y, x_arg)
    if isinstance(y, str):
        raise ValueError(
            f"`{y_arg}` names a column ({y!r}), but `{x_arg}` is not a "
            "table. Accepted: a column's name with a DataFrame or a dict of "
            "columns; labels otherwise.")
    if form == "text":
        return text.check_texts(x, x_arg), y
    return prepare_module.check_features(x, x_arg), y


def _rows(x):
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def _take(x, index):
    return tables.select(x, index) if isinstance(x, dict) else x[index]
