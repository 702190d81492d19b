"""Tables as they come: a pandas `DataFrame` or a dict of columns, checked
column by column and read by Keras preprocessing layers adapted on the
training split.

Each column becomes one input of the model, by its kind (docs/data.md):

- numbers: missing values (NaN) replaced by the training mean, with a 0/1
  indicator column when the training split has any; then a
  `Normalization` adapted on the training split (unless turned off);
- strings: a `StringLookup` of the `MAX_CATEGORIES` most frequent training
  values, one-hot encoded; a value never seen in training (and a missing
  one, unless the training split had missing values too) is out of
  vocabulary;
- integer codes (`categorical=[...]`, or by default an integer column with
  at most `max_categories` distinct training values): an `IntegerLookup`,
  one-hot encoded, as strings are.

pandas is not needed: a `DataFrame` is read through its `columns` and
`to_numpy`, and a dict of 1-D arrays works the same.
"""

import logging
import zlib

import keras
import numpy as np

__all__ = ["MAX_CATEGORIES", "Impute", "check_columns", "column_kinds",
           "encoder", "is_columns", "layer_name", "model_inputs", "select",
           "split_target", "warn_unseen"]

_logger = logging.getLogger(__name__)

#: Most categories of a string or integer column (the most frequent in
#: training); the rest are out of vocabulary.
MAX_CATEGORIES = 100
#: Written in place of a missing string.
MISSING = ""


def is_columns(x):
    """Whether `x` is a dict of columns or a DataFrame (duck-typed)."""
    return isinstance(x, dict) or (
        hasattr(x, "columns") and hasattr(x, "to_numpy")
        and hasattr(x, "iloc"))


def _missing(values):
    """Which entries of an object column are missing (None or NaN)."""
    return np.array([v is None or (isinstance(v, float) and v != v)
                     for v in values], dtype=bool)


def check_columns(x, arg="x"):
    """`{name: 1-D numpy array}` of a DataFrame or a dict of columns, with a
    `ValueError` naming `arg` for an empty table or columns of unequal
    length."""
    if isinstance(x, dict):
        names = list(x)
        columns = {str(n): np.asarray(x[n]) for n in names}
    else:
        columns = {str(n): x[n].to_numpy() for n in x.columns}
    if not columns:
        raise ValueError(f"`{arg}` holds no column. Received: {x!r}.")
    lengths = {n: len(v) if v.ndim else 0 for n, v in columns.items()}
    for name, column in columns.items():
        if column.ndim != 1:
            raise ValueError(
                f"Column {name!r} of `{arg}` must be 1-D, one value a "
                f"sample. Received: shape {column.shape}.")
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"The columns of `{arg}` must hold the same number of samples. "
            f"Received: {lengths}.")
    if not next(iter(lengths.values())):
        raise ValueError(f"`{arg}` is empty: its columns hold no sample.")
    return columns


def split_target(columns, y, arg="x"):
    """`(columns, y)`: a string `y` names the target column, taken out of
    the table."""
    if not isinstance(y, str):
        return columns, y
    if y not in columns:
        raise ValueError(
            f"`y` names the target column {y!r}, which is not a column of "
            f"`{arg}`. Its columns: {sorted(columns)}.")
    columns = dict(columns)
    return columns, columns.pop(y)


def select(columns, index):
    """The rows `index` of every column."""
    return {n: v[index] for n, v in columns.items()}


def column_kinds(columns, categorical=(), max_categories=10, arg="x"):
    """`{name: "numeric" | "string" | "integer"}` of the training columns,
    with a `ValueError` naming the column for one all missing or of mixed
    types, or a `categorical` name that is no column."""
    unknown = [c for c in categorical if c not in columns]
    if unknown:
        raise ValueError(
            f"`categorical` names {unknown}, not columns of `{arg}`. Its "
            f"columns: {sorted(columns)}.")
    kinds = {}
    for name, values in columns.items():
        kind = values.dtype.kind
        if kind in "OUS":
            missing = _missing(values) if kind == "O" else np.zeros(
                len(values), bool)
            present = values[~missing]
            if not len(present):
                raise ValueError(
                    f"Column {name!r} of `{arg}` is all missing. Drop it, "
                    "or fill it.")
            types = {type(v).__name__ for v in present}
            if kind == "O" and not types <= {"str", "bytes"}:
                if types <= {"int", "float", "bool"}:
                    kinds[name] = "integer" if name in categorical else \
                        "numeric"
                    continue
                raise ValueError(
                    f"Column {name!r} of `{arg}` mixes types: "
                    f"{sorted(types)}. Accepted: one type a column (numbers, "
                    "or strings with None for missing values).")
            kinds[name] = "string"
            continue
        if kind not in "biuf":
            raise ValueError(
                f"Column {name!r} of `{arg}` has dtype {values.dtype}. "
                "Accepted: numbers, booleans or strings.")
        values = values.astype("float64")
        finite = values[~np.isnan(values)]
        if not len(finite):
            raise ValueError(
                f"Column {name!r} of `{arg}` is all missing. Drop it, or "
                "fill it.")
        if name in categorical:
            if np.any(finite != np.round(finite)):
                raise ValueError(
                    f"`categorical` names column {name!r}, whose values are "
                    "not integer codes. Accepted: columns of integers or "
                    "strings.")
            kinds[name] = "integer"
        elif kind in "iu" and len(np.unique(finite)) <= max_categories:
            kinds[name] = "integer"
        else:
            kinds[name] = "numeric"
    return kinds


def model_inputs(columns, kinds):
    """The columns as the model's inputs take them: float32 numbers (NaN
    for missing), int64 codes (-1 for missing), strings (`MISSING` for
    missing) as an object array; each of shape `(samples, 1)`."""
    out = {}
    for name, kind in kinds.items():
        values = columns[name]
        if kind == "string":
            values = np.asarray(values, dtype=object)
            missing = _missing(values)
            values = np.where(missing, MISSING, values).astype(object)
            values = np.array([v.decode() if isinstance(v, bytes) else str(v)
                               for v in values], dtype=object)
        elif kind == "integer":
            values = np.asarray(values, dtype="float64")
            values = np.where(np.isnan(values), -1, values).astype("int64")
        else:
            values = np.asarray(values, dtype="float32")
        out[name] = values
    return out


@keras.saving.register_keras_serializable(package="keras_nas")
class Impute(keras.layers.Layer):
    """Missing numbers (NaN) replaced by `value`, or with `indicator`, a
    0/1 column that says which were missing.

    Args:
        value: What a missing number becomes (the training mean).
        indicator: Output the 0/1 column instead. Defaults to `False`.
    """

    def __init__(self, value=0.0, indicator=False, **kwargs):
        super().__init__(**kwargs)
        self.value = float(value)
        self.indicator = bool(indicator)

    def call(self, x):
        x = keras.ops.cast(x, "float32")
        missing = keras.ops.isnan(x)
        if self.indicator:
            return keras.ops.cast(missing, "float32")
        return keras.ops.where(missing, self.value, x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), value=self.value,
                    indicator=self.indicator)


def layer_name(name):
    """A column's name as a layer's and a SavedModel signature's: itself
    if it holds only letters, digits, `_` and `-`, else those kept, the
    others `_`, and a checksum of the name (two columns never share one)."""
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    if safe == name:
        return name
    return f"{safe}_{zlib.crc32(name.encode()):08x}"


def encoder(name, kind, train, normalize=True):
    """The layers of one column, adapted on its training values (as
    `model_inputs` gives them): `(input, encoded)` Keras tensors."""
    safe = layer_name(name)
    dtype = {"string": "string", "integer": "int64"}.get(kind, "float32")
    inp = keras.Input(shape=(1,), dtype=dtype, name=safe)
    if kind == "numeric":
        values = train.astype("float64")
        missing = np.isnan(values)
        mean = float(np.mean(values[~missing]))
        x = Impute(mean, name=f"impute_{safe}")(inp)
        if normalize:
            norm = keras.layers.Normalization(
                name=f"normalize_{safe}")
            norm.adapt(np.where(missing, mean, values).astype(
                "float32").reshape(-1, 1))
            x = norm(x)
        if missing.any():
            x = keras.layers.Concatenate(name=f"with_missing_{safe}")(
                [x, Impute(indicator=True, name=f"missing_{safe}")(inp)])
        return inp, x
    vocabulary = _frequent(train.reshape(-1))
    if kind == "integer":  # -1 is IntegerLookup's out-of-vocabulary token.
        vocabulary = [int(v) for v in vocabulary if v != -1]
    lookup = (keras.layers.StringLookup if kind == "string"
              else keras.layers.IntegerLookup)(
        vocabulary=vocabulary, output_mode="one_hot",
        name=f"lookup_{safe}")
    return inp, lookup(inp)


def _frequent(values):
    """The `MAX_CATEGORIES` most frequent values, most frequent first (ties
    in sorted order)."""
    unique, counts = np.unique(values, return_counts=True)
    order = np.lexsort((unique, -counts))[:MAX_CATEGORIES]
    return [v.item() if hasattr(v, "item") else v for v in unique[order]]


def warn_unseen(train, validation, kinds, arg="validation data"):
    """Log, per string or integer column, the `validation` values never
    seen in `train` (they are out of vocabulary); returns `{name: count}`."""
    unseen = {}
    for name, kind in kinds.items():
        if kind == "numeric":
            continue
        known = set(_frequent(train[name].reshape(-1)))
        values = validation[name].reshape(-1)
        new = [v for v in values if (v.item() if hasattr(v, "item") else v)
               not in known]
        if new:
            unseen[name] = len(new)
            _logger.warning(
                "Column %r: %d of %d samples of the %s hold categories never "
                "seen in training (e.g. %r); they are read as out of "
                "vocabulary.", name, len(new), len(values), arg, new[0])
    return unseen
