"""A search on data as users hold it (raw text, a DataFrame, numbers at
their own scale): the returned, reopened and exported models take it in
that form, in this process and in a fresh one."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_nas
from keras_nas import cli

pd = pytest.importorskip("pandas")

_POSITIVE, _NEGATIVE = ["good", "great", "lovely"], ["bad", "awful", "dull"]


def _reviews(n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    texts = [" ".join(list(rng.choice(["the", "movie", "plot", "a"], 3))
                      + list(rng.choice(_POSITIVE if t else _NEGATIVE, 2)))
             for t in y]
    return np.array(texts), y


def _placed_reviews(n, seed, positions):
    """Reviews of 15 filler words and one sentiment word, inserted at a
    position drawn from `positions` (a `(low, high)` range)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = []
    for label in y:
        words = [f"w{i}" for i in rng.integers(0, 30, 15)]
        words.insert(rng.integers(*positions),
                     rng.choice(_POSITIVE if label else _NEGATIVE))
        texts.append(" ".join(words))
    return np.array(texts, dtype=object), y


def _houses(n=80, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "city": rng.choice(["paris", "rome", "oslo"], n),
        "area": rng.normal(80, 30, n),
        "rooms": rng.integers(1, 5, n),
    })
    frame["expensive"] = ((frame.city == "paris") | (frame.area > 100)
                          ).astype(int)
    return frame


def _search(tmp_path, name):
    return keras_nas.NASSearch(
        max_trials=1, directory=str(tmp_path), project_name=name, seed=0,
        initial_architectures=[["dense-16"]] if name != "text" else None,
        warm_start=False)


def test_a_default_text_search_reads_a_word_wherever_it_stands(tmp_path):
    # Trained with the sentiment word in the first half of each text,
    # validated with it in the second half: a model that flattens the
    # token sequence has never seen the word there (0.53 to 0.74 with the
    # former conventional models, three seeds), one that pools does.
    x, y = _placed_reviews(300, 0, (0, 8))
    x_val, y_val = _placed_reviews(200, 100, (8, 16))
    search = keras_nas.NASSearch(max_trials=2, seed=0, warm_start=False,
                                 directory=str(tmp_path))
    search.fit(x, y, epochs=10, validation_data=(x_val, y_val), verbose=0)
    assert max(r.value for r in search.results()) >= 0.9


def test_raw_text_in_and_out(tmp_path):
    texts, y = _reviews()
    search = _search(tmp_path, "text").fit(texts, y, epochs=1, verbose=0)
    assert search.space_.kind == "text"
    model = search.best_model()
    assert isinstance(model.get_layer("preprocessing").get_layer(
        "text_vectorization"), keras.layers.TextVectorization)
    assert search.predict(["a good movie"]).shape == (1, 1)
    np.testing.assert_allclose(
        search.predict(list(texts[:4])),
        model.predict(np.array(texts[:4], dtype=object), verbose=0))
    assert len(search.evaluate(texts[:10], y[:10])) == 2
    search.export(tmp_path / "text.keras")
    info = json.loads((tmp_path / "text.json").read_text())
    assert info["preprocessing"]["form"] == "text"
    assert info["checks"]["passed"] and info["checks"]["samples"] == 16
    with pytest.raises(ValueError, match="export to a `.keras` file"):
        search.export(tmp_path / "text.onnx")
    retrained = search.retrain(epochs=1)
    assert retrained.predict(np.array(["bad"], dtype=object),
                             verbose=0).shape == (1, 1)


def test_a_frame_in_and_out_and_reopened(tmp_path):
    frame = _houses()
    search = _search(tmp_path, "table").fit(frame, "expensive", epochs=1,
                                            verbose=0)
    features = frame.drop(columns="expensive")
    expected = search.predict(features.head(5))
    assert expected.shape == (5, 1)
    columns = {n: features[n].to_numpy() for n in features.columns}
    np.testing.assert_allclose(search.predict(columns), search.predict(
        features))
    reopened = keras_nas.NASSearch.load(str(tmp_path), "table")
    np.testing.assert_allclose(reopened.predict(features.head(5)), expected,
                               rtol=1e-5)
    with pytest.raises(ValueError, match=r"lacks the columns \['rooms'\]"):
        search.predict(features.drop(columns="rooms"))
    search.export(tmp_path / "table_saved")  # A SavedModel takes columns.
    info = json.loads((tmp_path / "table_saved.json").read_text())
    assert info["checks"]["passed"] and info["preprocessing"]["columns"] == {
        "city": "string", "area": "numeric", "rooms": "integer"}


def test_numbers_at_their_own_scale_carry_their_normalization(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (80, 4)) * [1, 10, 100, 1000] + 500
    y = (x[:, 0] > 500).astype(int)
    search = _search(tmp_path, "scaled").fit(x, y, epochs=1, verbose=0)
    model = search.best_model()
    assert model.get_layer("normalize") is not None
    search.export(tmp_path / "scaled.onnx")  # ONNX carries it.
    info = json.loads((tmp_path / "scaled.json").read_text())
    assert info["checks"]["passed"]
    plain = _search(tmp_path, "plain").fit(
        rng.normal(size=(80, 4)), y, epochs=1, verbose=0)
    assert plain.raw_ is None
    assert isinstance(plain.best_model(), keras.Sequential)


def _vocabularies(search):
    """The adapted state of a search's preprocessing: its lookup
    vocabularies and normalization weights, by layer name."""
    front = search.raw_.preprocessor.front
    layers = [inner for layer in front.layers
              for inner in getattr(layer, "layers", [layer])]
    return {layer.name: (layer.get_vocabulary() if hasattr(
        layer, "get_vocabulary") else [w.tolist() for w in
                                       layer.get_weights()])
            for layer in layers if layer.get_weights()
            or hasattr(layer, "get_vocabulary")}


@pytest.mark.parametrize("form", ["text", "table"])
def test_a_search_on_raw_data_resumes_with_the_same_preprocessing(
        tmp_path, form):
    if form == "text":
        x, y = _reviews()
        raw = np.array(["a good movie", "dull plot"], dtype=object)
    else:
        x, y = _houses(), "expensive"
        raw = x.drop(columns="expensive").head(2)

    def search(max_trials):  # The same folder, resumed (no overwrite).
        return keras_nas.NASSearch(
            max_trials=max_trials, directory=str(tmp_path), project_name=form,
            seed=0, warm_start=False, overwrite=False)

    first = search(1).fit(x, y, epochs=1, verbose=0)
    adapted, before = _vocabularies(first), first.results()
    predicted = first.best_model(trial_id="0").predict(
        first.raw_.inputs(raw), verbose=0)
    checkpoint = tmp_path / form / "trial_0" / "checkpoint.weights.h5"
    stamp = checkpoint.stat().st_mtime_ns

    trained = []
    again = search(2).fit(x, y, epochs=1, verbose=0, callbacks=[
        keras.callbacks.LambdaCallback(
            on_train_begin=lambda logs: trained.append(1))])
    assert _vocabularies(again) == adapted and any(
        isinstance(v[0], str) for v in adapted.values())
    records = again.results()
    assert [r.trial_id for r in records] == ["0", "1"]
    assert records[:1] == before
    assert checkpoint.stat().st_mtime_ns == stamp and len(trained) == 1
    # The kept trial behind the resumed preprocessing predicts as before.
    np.testing.assert_allclose(again.best_model(trial_id="0").predict(
        again.raw_.inputs(raw), verbose=0), predicted, rtol=1e-5)
    assert again.predict(raw).shape == (2, 1)
    reopened = keras_nas.NASSearch.load(str(tmp_path), form)
    assert _vocabularies(reopened) == adapted


def test_a_search_going_on_keeps_its_preprocessing_whatever_the_new_data(
        tmp_path):
    """Resumed on other texts (new words), a search keeps the vocabulary
    its trials trained on instead of adapting another under them; data of
    another form is refused, naming both; a search started without
    preprocessing goes on without it."""
    def search(max_trials, name="text"):
        return keras_nas.NASSearch(
            max_trials=max_trials, directory=str(tmp_path), project_name=name,
            seed=0, warm_start=False, overwrite=False)

    first = search(1).fit(*_reviews(), epochs=1, verbose=0)
    adapted = _vocabularies(first)
    raw = np.array(["a good movie", "dull plot"], dtype=object)
    predicted = first.best_model(trial_id="0").predict(
        first.raw_.inputs(raw), verbose=0)
    other, y = _placed_reviews(80, 1, (0, 15))
    # Other words: a vocabulary adapted on them would differ.
    assert not set(w for t in other for w in t.split()) <= set(
        w for t in _reviews()[0] for w in t.split())
    again = search(2).fit(other, y, epochs=1, verbose=0)
    assert [r.trial_id for r in again.results()] == ["0", "1"]
    assert _vocabularies(again) == adapted
    assert _vocabularies(keras_nas.NASSearch.load(
        str(tmp_path), "text")) == adapted
    np.testing.assert_allclose(again.best_model(trial_id="0").predict(
        again.raw_.inputs(raw), verbose=0), predicted, rtol=1e-5)

    with pytest.raises(ValueError, match=r"started on strings.*Received: "
                       r"a table .*overwrite=True"):
        search(3).fit(_houses(), "expensive", epochs=1, verbose=0)

    rng = np.random.default_rng(0)
    scaled = rng.normal(size=(80, 4)) * 1000.0
    labels = (scaled[:, 0] > 0).astype(int)
    plain = search(1, "numbers").fit(scaled, labels, epochs=1, verbose=0,
                                     preprocessing=False)
    assert plain.raw_ is None
    more = search(2, "numbers").fit(scaled, labels, epochs=1, verbose=0)
    assert more.raw_ is None and len(more.results()) == 2
    assert not any(layer.name == "normalize"
                   for layer in more.best_model().layers)


@pytest.mark.slow
def test_exported_models_take_raw_data_in_a_fresh_process(tmp_path):
    texts, y = _reviews()
    _search(tmp_path, "text").fit(texts, y, epochs=1, verbose=0)
    csv = tmp_path / "houses.csv"
    _houses().to_csv(csv, index=False)
    assert cli.main(["search", "--data", str(csv), "--target", "expensive",
                     "--max-trials", "1", "--epochs", "1", "--directory",
                     str(tmp_path), "--project", "csv", "--verbose", "0",
                     "--no-warm-start"]) == 0
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import pandas as pd
        import keras, keras_nas
        from keras_nas import cli

        folder = sys.argv[1]
        for project in ("text", "csv"):
            assert cli.main(["export", f"{folder}/{project}",
                             f"{folder}/{project}.keras"]) == 0
        text = keras.models.load_model(f"{folder}/text.keras")
        print(text.predict(np.array(["a good movie"], dtype=object),
                           verbose=0).shape)
        table = keras.models.load_model(f"{folder}/csv.keras")
        frame = pd.read_csv(f"{folder}/houses.csv").drop(
            columns="expensive")
        print(table.predict({n: frame[n].to_numpy() for n in frame.columns},
                            verbose=0).shape)
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                         capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-4:] == ["(1,", "1)", "(80,", "1)"]
