"""The preprocessing of data as users hold it, adapted on the training split
only: raw text, tables of columns, numbers at their own scale; and the
errors before any training, naming the column."""

import logging
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_nas.data import preprocessing, raw, tables, text
from keras_nas.data.csv_table import read_csv
from keras_nas.data.preprocessing import Preprocessing, Preprocessor

pd = pytest.importorskip("pandas")


def _texts(n=40):
    words = ["good", "bad", "movie", "plot", "great", "awful"]
    rng = np.random.default_rng(0)
    return np.array([" ".join(rng.choice(words, rng.integers(2, 7)))
                     for _ in range(n)])


def _frame(n=60):
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "city": rng.choice(["paris", "rome", "oslo"], n),
        "income": rng.normal(50000, 20000, n),
        "rooms": rng.integers(1, 4, n),
        "target": np.arange(n) % 2,
    })


def test_text_is_vectorized_on_the_training_split_only():
    texts = _texts()
    texts[0] = "zebra"  # Only in the training split below.
    y = np.arange(len(texts)) % 2
    data, pre, val = raw.prepare(texts, y, validation_data=(
        np.array(["unicorn good", "bad"]), np.array([1, 0])))
    layer = pre.front.get_layer("text_vectorization")
    assert isinstance(layer, keras.layers.TextVectorization)
    vocabulary = layer.get_vocabulary()
    assert "zebra" in vocabulary and "unicorn" not in vocabulary
    assert pre.vocabulary_size == len(vocabulary)
    # The sequence length: the 95th percentile of the training lengths.
    assert data.input_shape == (6,)
    # The unseen word is out of vocabulary (1), the known one its id.
    assert list(data.validation[0][0][:2]) == [
        1, vocabulary.index("good")]
    assert list(val) == ["unicorn good", "bad"]


def test_text_options_set_the_vocabulary_and_length():
    data, pre, _ = raw.prepare(
        list(_texts()), np.arange(40) % 2,
        preprocessing=Preprocessing(max_tokens=4, sequence_length=3))
    assert pre.vocabulary_size == 4 and data.input_shape == (3,)


def test_a_table_is_looked_up_normalized_and_imputed(caplog):
    frame = _frame()
    frame.loc[0, "income"] = np.nan
    valid = _frame(10).drop(columns="target")
    valid.loc[0, "city"] = "lima"
    with caplog.at_level(logging.WARNING, "keras_nas.data.tables"):
        data, pre, inputs = raw.prepare(
            frame, "target",
            validation_data=(valid, np.arange(10) % 2))
    assert "Column 'city'" in caplog.text and "'lima'" in caplog.text
    kinds = pre.info["columns"]
    assert kinds == {"city": "string", "income": "numeric",
                     "rooms": "integer"}
    assert isinstance(pre.front.get_layer("lookup_city"),
                      keras.layers.StringLookup)
    assert isinstance(pre.front.get_layer("lookup_rooms"),
                      keras.layers.IntegerLookup)
    # city: OOV + 3; income and its missing indicator; rooms: OOV + 3.
    assert data.input_shape == (4 + 2 + 4,)
    x = data.x
    income = x[:, 4]
    assert abs(float(income.mean())) < 0.1 and abs(
        float(income.std()) - 1) < 0.1
    assert x[:, 5].sum() == 1  # The one missing income, said.
    assert data.validation[0][0, 0] == 1  # 'lima': out of vocabulary.
    assert set(inputs) == {"city", "income", "rooms"}


def test_integer_columns_named_categorical_are_categories():
    frame = _frame()
    frame["zip"] = np.arange(60) % 20  # 20 values: numeric by default.
    _, pre, _ = raw.prepare(frame, "target")
    assert pre.info["columns"]["zip"] == "numeric"
    _, pre, _ = raw.prepare(frame, "target",
                            preprocessing=Preprocessing(categorical=["zip"]))
    assert pre.info["columns"]["zip"] == "integer"


def test_a_dict_of_columns_works_as_a_frame():
    frame = _frame()
    columns = {name: frame[name].to_numpy() for name in frame.columns}
    a = raw.prepare(frame, "target")[0]
    b = raw.prepare(columns, "target")[0]
    np.testing.assert_allclose(a.x, b.x)


@pytest.mark.parametrize("scale, normalized", [(1.0, False), (1000.0, True)])
def test_numbers_at_their_own_scale_are_standardized(scale, normalized):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(50, 3)) * scale).astype("float32")
    data, pre, _ = raw.prepare(x, np.arange(50) % 2)
    assert (pre is not None) == normalized
    if normalized:
        assert np.all(np.abs(data.x.std(axis=0) - 1) < 0.05)
        assert pre.info["scaled"] == ["normalize"]
    # Turned off, or forced on.
    assert raw.prepare(x, np.arange(50) % 2,
                       preprocessing=False)[1] is None
    assert raw.prepare(x, np.arange(50) % 2, preprocessing=Preprocessing(
        normalize=True))[1] is not None


def test_images_in_0_255_are_rescaled_and_token_ids_never_scaled():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 4, 4, 1)).astype("float32")
    data, pre, _ = raw.prepare(images, np.arange(30) % 2)
    assert pre.info["scaled"] == ["rescale 1/255"]
    assert data.x.max() <= 1.0
    tokens = rng.integers(0, 500, (30, 6)).astype("float32")
    assert raw.prepare(tokens, np.arange(30) % 2, tokens=True)[1] is None


def test_a_preprocessor_saved_and_loaded_transforms_alike(tmp_path):
    frame = _frame()
    _, pre, _ = raw.prepare(frame, "target")
    pre.save(tmp_path)
    loaded = Preprocessor.load(tmp_path)
    np.testing.assert_allclose(loaded.transform(frame), pre.transform(frame))
    Preprocessor.write(tmp_path, None)
    assert Preprocessor.load(tmp_path) is None


@pytest.mark.parametrize("x, y, message", [
    (np.array([], dtype=str), [], "`x` is an empty array of strings"),
    (["a", 3] * 10, [0, 1] * 10, "`x` mixes strings with other values"),
    (pd.DataFrame({"a": [1.0] * 20, "t": [0, 1] * 10}), "label",
     "`y` names the target column 'label', which is not a column of `x`"),
    (pd.DataFrame({"a": [1, "x"] * 10, "t": [0, 1] * 10}), "t",
     "Column 'a' of `x` mixes types"),
    (pd.DataFrame({"a": [None] * 20, "b": [1.0] * 20, "t": [0, 1] * 10}),
     "t", "Column 'a' of `x` is all missing"),
    (pd.DataFrame({"a": [np.nan] * 20, "t": [0, 1] * 10}), "t",
     "Column 'a' of `x` is all missing"),
])
def test_bad_input_is_refused_naming_the_column(x, y, message):
    with pytest.raises(ValueError, match="^" + message.replace(
            "(", r"\(").replace(")", r"\)")):
        raw.prepare(x, y)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="`categorical` must be a list"):
        Preprocessing(categorical="zip")
    with pytest.raises(ValueError, match="`normalize` must be None"):
        Preprocessing(normalize="yes")
    with pytest.raises(ValueError, match="`preprocessing` must be None"):
        Preprocessing.of("auto")
    with pytest.raises(ValueError, match="preprocessing=False needs"):
        raw.prepare(_texts(), np.arange(40) % 2, preprocessing=False)


def test_scaling_rule():
    assert not preprocessing.needs_scaling(np.ones((5, 2)))  # Constant.
    assert preprocessing.needs_scaling(np.array([[0.0], [100.0]]))
    assert not preprocessing.needs_scaling(np.array([[0.0], [10.0]]))
    assert not preprocessing.needs_scaling(np.array([[0.0], [1.0]]))


def test_a_csv_with_strings_and_gaps_is_a_table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("city,size,label\nparis,1.5,yes\n,2,no\nrome,,yes\n")
    x, y = read_csv(str(path), "label")
    assert list(x["city"]) == ["paris", None, "rome"]
    assert np.isnan(x["size"][2]) and list(y) == ["yes", "no", "yes"]
    path.write_text("a,label\n1,0\n2,1\n")
    x, y = read_csv(str(path), "label")
    assert x.shape == (2, 1) and y.dtype == np.int64
    with pytest.raises(ValueError, match="no target column 'kind'"):
        read_csv(str(path), "kind")


def test_column_names_made_safe_stay_distinct():
    assert tables.layer_name("zip_code") == "zip_code"
    assert tables.layer_name("a b") != tables.layer_name("a_b") == "a_b"
    assert tables.layer_name("a b").startswith("a_b_")


def test_the_forms_are_told_apart():
    assert text.is_text(["a"]) and not text.is_text(np.zeros(3))
    assert preprocessing.form_of(np.zeros((3, 2))) == "array"
    assert tables.is_columns({"a": [1]}) and tables.is_columns(_frame())


def test_under_jax_numbers_are_scaled_and_strings_refused():
    script = (
        "import numpy as np\n"
        "from keras_nas.data import raw\n"
        "x = np.random.default_rng(0).normal(500, 100, (40, 3))\n"
        "data, pre, _ = raw.prepare(x, np.arange(40) % 2)\n"
        "print(pre.info['scaled'], round(float(data.x.std()), 1))\n"
        "try:\n"
        "    raw.prepare(['a b'] * 20, [0, 1] * 10)\n"
        "except ValueError as e:\n"
        "    print(str(e).split(';')[0])\n")
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True,
        env=dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3"),
        timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == [
        "['normalize'] 1.0",
        "A search on strings: string tensors need the TensorFlow backend"]


def test_an_image_dataset_in_0_255_is_rescaled_in_the_pipeline():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 4, 4, 3)).astype("float32")
    y = np.arange(40) % 2

    def dataset(part):
        return tf.data.Dataset.from_tensor_slices(
            (images[part], y[part])).batch(8)

    data, pre, _ = raw.prepare(dataset(slice(0, 32)),
                               validation_data=dataset(slice(32, 40)))
    assert pre.info["scaled"] == ["rescale 1/255"]
    batch = next(iter(data.x))[0].numpy()
    np.testing.assert_allclose(batch, images[:8] / 255, rtol=1e-6)
    np.testing.assert_allclose(pre.transform(images[:8]), batch, rtol=1e-6)
    data, pre, _ = raw.prepare(dataset(slice(0, 32)).map(
        lambda x, t: (x / 255, t)), validation_data=dataset(slice(32, 40)))
    assert pre is None
