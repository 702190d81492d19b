"""The preprocessing of a search: what turns the data as the user holds it
into the numbers the candidates train on, as Keras layers.

`Preprocessing` is the option (`NASSearch.fit(preprocessing=...)`).
`adapt` makes a `Preprocessor` on the training split only, once a search:
its `front` is a `keras.Model` from the raw input (strings, columns, or
numbers at their own scale) to the candidates' input. The search computes
the candidates' arrays with it once (`transform`), so every candidate, the
warm start, the latency meter and the engines see plain arrays; the
returned and exported models are `wrap(model)`: the front, then the
candidate. The preprocessor is saved in the project folder
(`preprocessing.keras` and `preprocessing.json`, each written whole or not
at all), so a reopened search and `keras-nas export` have it too.
"""

import contextlib
import dataclasses
import json
import os
import warnings
from typing import Optional, Tuple

import keras
import numpy as np

from keras_nas._atomic import write_text_atomic
from keras_nas._checks import check_int
from keras_nas.data import tables, text

__all__ = ["FILES", "Preprocessing", "Preprocessor", "adapt", "form_of",
           "needs_scaling"]

#: The input dtype of a column of each kind.
_DTYPES = {"string": "string", "integer": "int64"}
#: What a preprocessor leaves in its project folder.
FILES = ("preprocessing.keras", "preprocessing.json")


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How `fit` reads data as users hold it (docs/data.md).

    Args:
        normalize: `Normalization` of numeric features, adapted on the
            training split: `True` always, `False` never, `None` for every
            numeric column of a table of columns, and for a numeric array
            when its scale calls for it (`needs_scaling`: a feature's mean
            beyond +-10, or its standard deviation above 10 or below
            0.01). Defaults to
            `None`.
        rescale: Images of values in [0, 255] (any above 1.5) divided by
            255 inside the model: `None` when they are so, `True` always,
            `False` never. Defaults to `None`.
        categorical: Names of the integer columns of a table that are
            categories (codes such as a zip code), one-hot encoded. Defaults
            to `()`.
        max_categories: An integer column with at most this many distinct
            training values is a category too. Defaults to `10`.
        max_tokens: Most tokens in the vocabulary of raw text. Defaults to
            `None` (`text.MAX_TOKENS`, 20,000).
        sequence_length: Tokens a text is cut or padded to. Defaults to
            `None`: the 95th percentile of the training texts' lengths, at
            most `text.MAX_SEQUENCE_LENGTH` (512).
    """

    normalize: Optional[bool] = None
    rescale: Optional[bool] = None
    categorical: Tuple[str, ...] = ()
    max_categories: int = 10
    max_tokens: Optional[int] = None
    sequence_length: Optional[int] = None

    def __post_init__(self):
        for name in ("normalize", "rescale"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ValueError(
                    f"`{name}` must be None, True or False. Received: "
                    f"{name}={value!r}.")
        categorical = self.categorical
        if isinstance(categorical, str) or not all(
                isinstance(c, str) for c in categorical):
            raise ValueError(
                "`categorical` must be a list of column names. Received: "
                f"categorical={categorical!r}.")
        object.__setattr__(self, "categorical", tuple(categorical))
        check_int("max_categories", self.max_categories, 0)
        if self.max_tokens is not None:
            check_int("max_tokens", self.max_tokens, 3)
        if self.sequence_length is not None:
            check_int("sequence_length", self.sequence_length, 1)

    @classmethod
    def of(cls, argument):
        """The option of `fit(preprocessing=...)`: `None` (the defaults),
        `False` (none at all), or a `Preprocessing`."""
        if argument is None or argument is True:
            return cls()
        if argument is False or isinstance(argument, cls):
            return argument
        raise ValueError(
            "`preprocessing` must be None, False or a "
            "`keras_nas.Preprocessing`. Received: "
            f"preprocessing={argument!r}.")


def form_of(x):
    """`"columns"`, `"text"` or `"array"`: the form of `x`."""
    if tables.is_columns(x):
        return "columns"
    if text.is_text(x):
        return "text"
    return "array"


def needs_scaling(x):
    """Whether numeric features `x` are at their own scale: some
    non-constant feature (the last axis) has a mean beyond +-10 or a
    standard deviation above 10 or below 0.01 on the training split (data
    on about a unit scale is searched as it is, by a plain model)."""
    flat = np.asarray(x, dtype="float64").reshape(-1, x.shape[-1])
    std = flat.std(axis=0)
    mean = flat.mean(axis=0)
    varying = std > 0
    return bool(np.any(varying & ((np.abs(mean) > 10) | (std > 10)
                                  | (std < 0.01))))


def _is_0_255(x):
    return float(np.min(x)) >= 0 and 1.5 < float(np.max(x)) <= 255


class Preprocessor:
    """An adapted preprocessing: raw input to the candidates' input.

    Args:
        front: The `keras.Model` from the raw input to the candidates'.
        info: Its description as JSON: `form` (`"text"`, `"columns"`,
            `"array"`), and per form the columns' kinds, the vocabulary
            size, what was scaled.
    """

    def __init__(self, front, info):
        self.front = front
        self.info = dict(info)

    form = property(lambda self: self.info["form"])

    @property
    def has_strings(self):
        """Whether the model takes strings (ONNX and LiteRT do not)."""
        return self.form == "text" or "string" in self.info.get(
            "columns", {}).values()

    @property
    def vocabulary_size(self):
        """Token ids of raw text (padding and out of vocabulary included)."""
        return self.info.get("vocabulary_size")

    def inputs(self, x, arg="x"):
        """`x` as the front (and so the wrapped model) takes it: an object
        array of strings, a dict of 1-D columns, or float32."""
        if self.form == "text":
            return text.check_texts(x, arg)
        if self.form == "columns":
            if not tables.is_columns(x):
                raise ValueError(
                    f"`{arg}` must be a DataFrame or a dict of columns, as "
                    "in `fit`. Received: " + type(x).__name__ + ".")
            columns = tables.check_columns(x, arg)
            kinds = self.info["columns"]
            missing = [c for c in kinds if c not in columns]
            if missing:
                raise ValueError(
                    f"`{arg}` lacks the columns {missing} that the search "
                    f"was fitted on. Received columns: {sorted(columns)}.")
            return tables.model_inputs(columns, kinds)
        return np.asarray(x, dtype="float32")

    def transform(self, x, arg="x"):
        """The candidates' input of raw `x`, as float32."""
        out = self.front.predict(self.inputs(x, arg), batch_size=1024,
                                 verbose=0)
        return np.asarray(out, dtype="float32")

    def wrap(self, model, name=None):
        """A `keras.Model` taking the raw input: the front, then `model`."""
        if self.form == "columns":
            inputs = {n: keras.Input(shape=(1,), name=tables.layer_name(n),
                                     dtype=_DTYPES.get(k, "float32"))
                      for n, k in self.info["columns"].items()}
        elif self.form == "text":
            inputs = keras.Input(shape=(1,), dtype="string", name="text")
        else:
            # Its layers themselves, not the front as one nested model:
            # tf2onnx takes a nested model's constants for inputs.
            inputs = out = keras.Input(shape=self.front.input_shape[1:],
                                       name="features")
            for layer in self.front.layers[1:]:
                out = layer(out)
            return keras.Model(inputs, model(out), name=name or model.name)
        with _named_columns():
            return keras.Model(inputs, model(self.front(inputs)),
                               name=name or model.name)

    def check_inputs(self, n=64, seed=0):
        """`n` made-up samples of the raw input, from the vocabularies
        (export parity checks without data)."""
        rng = np.random.default_rng(seed)
        if self.form == "text":
            words = self.front.get_layer(
                "text_vectorization").get_vocabulary()[2:]
            return np.array([" ".join(rng.choice(words, rng.integers(1, 20)))
                             for _ in range(n)], dtype=object)
        if self.form == "array":
            return rng.standard_normal(
                (n,) + tuple(self.front.input_shape[1:])).astype("float32")
        out = {}
        for name, kind in self.info["columns"].items():
            if kind == "numeric":
                out[name] = rng.standard_normal(n).astype("float32")
                continue
            vocabulary = self.front.get_layer(
                f"lookup_{tables.layer_name(name)}").get_vocabulary()[1:]
            out[name] = np.array(
                [vocabulary[i] for i in rng.integers(0, len(vocabulary), n)],
                dtype=object if kind == "string" else "int64")
        return out

    # -- the project folder ----------------------------------------------

    def save(self, folder):
        """Write the front and its description into `folder`, each whole
        or not at all."""
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, FILES[0])
        tmp = os.path.join(folder, f".{FILES[0]}.tmp{os.getpid()}.keras")
        try:
            self.front.save(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        write_text_atomic(os.path.join(folder, FILES[1]),
                          json.dumps(self.info, indent=1), fsync=True)

    @classmethod
    def load(cls, folder):
        """The preprocessor saved in `folder`, or `None` if there is none."""
        paths = [os.path.join(folder, f) for f in FILES]
        if not all(os.path.exists(p) for p in paths):
            return None
        with open(paths[1]) as f:
            info = json.load(f)
        preprocessor = cls(None, info)
        if preprocessor.has_strings:
            text.check_backend("A search on strings")
        with _named_columns():
            preprocessor.front = keras.models.load_model(paths[0])
        return preprocessor

    @staticmethod
    def write(folder, preprocessor):
        """Save `preprocessor` in `folder`, or for `None` remove the one
        saved there, if any (a search run again without one)."""
        if preprocessor is not None:
            return preprocessor.save(folder)
        for name in FILES:
            path = os.path.join(folder, name)
            if os.path.exists(path):
                os.remove(path)


@contextlib.contextmanager
def _named_columns():
    """Keras warns when a dict's keys differ from its inputs' names: the
    keys are the columns' names, the inputs' names those made safe for a
    SavedModel signature (`tables.layer_name`), on purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="When providing `inputs` as a dict")
        yield


def _standardize(x):
    """Per feature (the last axis), `(x - mean) / std` of the training
    split, as `Normalization` computes it; written as a `Rescaling`, which
    tf2onnx converts (it takes a `Normalization`'s statistics for inputs).
    A constant feature is only centred."""
    flat = x.reshape(-1, x.shape[-1]).astype("float64")
    mean, std = flat.mean(axis=0), flat.std(axis=0)
    scale = 1.0 / np.where(std > 0, std, 1.0)
    return keras.layers.Rescaling(
        scale=scale.astype("float32").tolist(),
        offset=(-mean * scale).astype("float32").tolist(), name="normalize")


def adapt(x_train, options, tokens=False):
    """The `Preprocessor` of raw training data `x_train`, or `None` when
    the candidates can take it as it is.

    Args:
        x_train: The training split: strings, a dict of columns (as
            `tables.check_columns` gives them), or a numeric array.
        options: A `Preprocessing`, or `False` for none.
        tokens: Whether a numeric array holds token ids (a text space),
            which are never scaled. Defaults to `False`.
    """
    form = form_of(x_train)
    if options is False:
        if form != "array":
            raise ValueError(
                f"preprocessing=False needs numeric arrays; this `x` is "
                f"{form}. Received: preprocessing=False.")
        return None
    if form == "text":
        text.check_backend("A search on strings")
        layer = text.vectorizer(x_train, options.max_tokens,
                                options.sequence_length)
        inp = keras.Input(shape=(1,), dtype="string", name="text")
        front = keras.Model(inp, layer(inp), name="preprocessing")
        return Preprocessor(front, {
            "form": "text", "vocabulary_size": layer.vocabulary_size(),
            "sequence_length": int(layer._output_sequence_length)})
    if form == "columns":
        kinds = tables.column_kinds(x_train, options.categorical,
                                    options.max_categories)
        if "string" in kinds.values():
            text.check_backend("String columns")
        columns = tables.model_inputs(x_train, kinds)
        pairs = [tables.encoder(n, k, columns[n],
                                normalize=options.normalize is not False)
                 for n, k in kinds.items()]
        outputs = [p[1] for p in pairs]
        output = outputs[0] if len(outputs) == 1 else \
            keras.layers.Concatenate(name="columns")(outputs)
        with _named_columns():
            front = keras.Model({n: p[0] for n, p in zip(kinds, pairs)},
                                output, name="preprocessing")
        return Preprocessor(front, {"form": "columns", "columns": kinds})
    x = np.asarray(x_train)
    layers, scaled = [], []
    if x.ndim == 4 and (options.rescale or (
            options.rescale is None and _is_0_255(x))):
        layers.append(keras.layers.Rescaling(1 / 255, name="rescale"))
        scaled.append("rescale 1/255")
    if x.ndim in (2, 3) and not tokens and (options.normalize or (
            options.normalize is None and needs_scaling(x))):
        layers.append(_standardize(x))
        scaled.append("normalize")
    if not layers:
        return None
    inp = keras.Input(shape=x.shape[1:], name="features")
    out = inp
    for layer in layers:
        out = layer(out)
    return Preprocessor(keras.Model(inp, out, name="preprocessing"),
                        {"form": "array", "scaled": scaled})
