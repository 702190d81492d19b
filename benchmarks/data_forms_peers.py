"""Data as users hold it, against its peers at equal wall time (issue 35):
raw strings and a table with categories and missing values, searched by
the default `NASSearch`, by Keras Tuner over a hand-written preprocessing
and model, and by AutoKeras 3.0.

    flock /tmp/keras_nas_bench.lock python benchmarks/data_forms_peers.py \\
        --tasks table text --seeds 1 2 3 --budget 60

Tasks, generated with a known rule (no download), a seeded split per seed
(25 % test, never seen by any search; 20 % of the rest for validation,
given to every system as `validation_data`):

- `table`: 4,000 customers, `city` (12 strings, 5 % missing), `plan` (3
  strings), `age` (5 % missing), `income` (5,000 to 300,000, 3 % missing),
  `visits`, `tenure_days` -> whether a score (a per-city effect, a sine of
  age, log income times a per-plan slope, visits, tenure, noise) is above
  its median; a pandas `DataFrame`;
- `text`: 4,000 reviews of 10 to 40 words drawn (Zipf) from 400 made-up
  words, with 1 or 3 sentiment words, each negated ("not good") with
  probability 0.25; the label is the sign of the sum of their negated
  polarities, flipped for 5 % of the reviews (so 95 % is the ceiling, and
  a bag of words without word order stays well below it); strings.

Systems, each in a fresh Python process, the order rotating with the seed:

- `nas`: `keras_nas.NASSearch(max_time_s=budget)` with its defaults, on
  the raw `DataFrame` or strings;
- `kt`: Keras Tuner's random search (`equal_time.stop_at`) over a model
  written by hand: for the table, missing values filled with the training
  median or "missing", then a `keras.utils.FeatureSpace` (strings one-hot,
  numbers normalized); for text, a `TextVectorization`; either adapted on
  the training split outside the tuner and applied once (the arrays are
  what the models train on), then 1 to 3 dense layers (units, dropout,
  learning rate searched; for text an embedding and an average pooling or
  a convolution first); early stopping with patience 3;
- `autokeras`: AutoKeras 3.0's `StructuredDataClassifier` (the table as a
  2-D object array with `column_names`) or `TextClassifier`, run by
  `--autokeras-python` (a separate environment: `python -m venv
  --system-site-packages /tmp/akvenv && /tmp/akvenv/bin/pip install
  autokeras==3.0.0 keras==3.12.0`: with Keras 3.15 its heads fail, see
  results/data_forms.md; not a dependency of keras_nas). Its own early
  stopping (`EarlyStopping(patience=10, min_delta=1e-4)` on `val_loss`)
  is passed explicitly, the same as the one it inserts by default, so
  that it returns the best trial's model instead of training it again
  after the budget (its final fit); text as a numpy array of `str` (it
  refuses an object array);
- `autokeras-filled` (table only): the same, on the table with its
  missing values filled as for `kt` (AutoKeras 3.0 fails on missing
  strings; `autokeras` records the error).

Equal wall time: every clock starts before any preprocessing. Keras Tuner
and AutoKeras start no trial once the budget has run out, and the trial in
flight stops at its next epoch, which is what `max_time_s` does for
`NASSearch`. Each system trains at most `--epochs` epochs a trial. Reported
per system and seed: the test accuracy of the returned model, trials
trained, wall seconds; then mean +- standard error over seeds and the gaps
to `nas` paired by seed. Rows are appended to
`results/data_forms_peers.jsonl` (a run that fails is a row with its
error); an interrupted run resumes; `--summary-only` prints the tables.
Seeds start at 1: Keras Tuner takes a seed of 0 for none.
"""

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from equal_time import _mean_se, read, stop_at  # noqa: E402

SYSTEMS = ("nas", "kt", "autokeras", "autokeras-filled")
OUT = os.path.join(HERE, "results", "data_forms_peers.jsonl")
_CITIES = ("paris rome oslo lima cairo delhi tokyo quito accra perth "
           "dublin hanoi").split()
_SLOPES = {"basic": -1.0, "plus": 0.5, "pro": 1.5}
_STRINGS = ("city", "plan")  # The table's string columns.
_POSITIVE = ("good great excellent lovely superb brilliant enjoyable "
             "charming moving delightful fresh clever").split()
_NEGATIVE = ("bad awful dull boring weak poor tedious clumsy bland messy "
             "flat silly").split()
_NEGATIONS = ("not", "never", "hardly")


def table(n, seed):
    """The customers `DataFrame` and its 0/1 labels."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    effect = dict(zip(_CITIES, np.random.default_rng(7).normal(0, 1, 12)))
    frame = pd.DataFrame({
        "city": rng.choice(_CITIES, n),
        "plan": rng.choice(list(_SLOPES), n, p=[0.5, 0.3, 0.2]),
        "age": rng.uniform(18, 80, n),
        "income": np.clip(rng.lognormal(10.5, 0.6, n), 5e3, 3e5),
        "visits": rng.poisson(5, n),
        "tenure_days": rng.integers(0, 3650, n),
    })
    score = (frame.city.map(effect) + 1.2 * np.sin((frame.age - 18) / 9)
             + (np.log(frame.income) - 10.5) * frame.plan.map(_SLOPES)
             + 0.08 * (frame.visits - 5) + 0.5 * (frame.tenure_days > 730)
             + rng.normal(0, 0.5, n))
    y = (score > np.median(score)).to_numpy().astype("int64")
    frame["city"] = frame.city.astype(object)
    for column, share in (("city", 0.05), ("age", 0.05), ("income", 0.03)):
        frame.loc[rng.random(n) < share, column] = (
            None if column == "city" else np.nan)
    return frame, y


def reviews(n, seed):
    """Review strings and their 0/1 labels (see the module docstring)."""
    words = np.random.default_rng(11)
    syllables = ["ka", "lo", "mi", "tur", "ben", "sa", "vo", "rin", "pe",
                 "dal", "qu", "zo"]
    noise = sorted({"".join(words.choice(syllables, words.integers(2, 4)))
                    for _ in range(600)})[:400]
    weights = 1 / np.arange(1, len(noise) + 1)
    weights /= weights.sum()
    rng = np.random.default_rng(seed)
    texts, y = [], []
    for _ in range(n):
        body = list(rng.choice(noise, rng.integers(10, 41), p=weights))
        for i in np.flatnonzero(rng.random(len(body)) < 0.04):
            body[i] = f"{rng.choice(_NEGATIONS)} {body[i]}"  # Negations
            # that negate nothing, so that "not" alone tells nothing.
        total = 0
        for _ in range(rng.choice([1, 3])):
            polarity, negated = rng.choice([-1, 1]), rng.random() < 0.25
            word = rng.choice(_POSITIVE if polarity * (-1 if negated else 1)
                              > 0 else _NEGATIVE)
            phrase = f"{rng.choice(_NEGATIONS)} {word}" if negated else word
            body.insert(rng.integers(0, len(body) + 1), phrase)
            total += polarity
        texts.append(" ".join(body))
        y.append(int((total > 0) != (rng.random() < 0.05)))
    return np.array(texts, dtype=object), np.array(y, dtype="int64")


def data(task, seed, n=4000):
    """`(train, validation, test)` pairs of the task, split by `seed`."""
    from keras_nas.data.prepare import split

    x, y = (table if task == "table" else reviews)(n, seed)
    (rest, _), (test, _) = split(np.arange(n), y, 0.25, seed=seed)
    (train, _), (val, _) = split(rest, y[rest], 0.2, seed=seed)
    take = (lambda i: x.iloc[i].reset_index(drop=True)) if task == "table" \
        else (lambda i: x[i])
    return [(take(i), y[i]) for i in (train, val, test)]


# -- Keras Tuner over a hand-written preprocessing and model ---------------

def _filled(frame, medians):
    """Missing numbers as the training median, missing strings as a word."""
    frame = frame.copy()
    for name in frame.columns:
        frame[name] = (frame[name].fillna("missing") if name in _STRINGS
                       else frame[name].fillna(medians[name]))
    return frame


def _table_arrays(train, val, test):
    import keras
    import tensorflow as tf

    medians = train.median(numeric_only=True)
    frames = [_filled(x, medians) for x in (train, val, test)]

    def columns(frame):
        return {n: frame[n].to_numpy() if n in _STRINGS else
                frame[n].to_numpy("float32") for n in frame.columns}

    space = keras.utils.FeatureSpace(features={
        n: (keras.utils.FeatureSpace.string_categorical(num_oov_indices=1)
            if n in _STRINGS else
            keras.utils.FeatureSpace.float_normalized())
        for n in train.columns}, output_mode="concat")
    space.adapt(tf.data.Dataset.from_tensor_slices(columns(frames[0]))
                .batch(256))
    return [np.asarray(space(columns(f))) for f in frames]


def _text_arrays(train, val, test):
    import keras

    vectorize = keras.layers.TextVectorization(
        max_tokens=20000, output_sequence_length=64)
    vectorize.adapt(train.astype(str))
    return [np.asarray(vectorize(x.astype(str))) for x in (train, val, test)]


def _hypermodel(task, vocabulary_size):
    import keras
    from keras import layers

    def build(hp):
        if task == "text":
            inputs = keras.Input((64,), dtype="int64")
            x = layers.Embedding(vocabulary_size,
                                 hp.Choice("embedding", [32, 64]))(inputs)
            if hp.Choice("body", ["average", "conv"]) == "conv":
                x = layers.Conv1D(hp.Choice("filters", [32, 64, 128]),
                                  hp.Choice("kernel", [3, 5]),
                                  activation="relu")(x)
                x = layers.GlobalMaxPooling1D()(x)
            else:
                x = layers.GlobalAveragePooling1D()(x)
        else:
            inputs = x = keras.Input((vocabulary_size,))
        for i in range(hp.Int("layers", 1, 3)):
            x = layers.Dense(hp.Choice(f"units_{i}", [32, 64, 128, 256]),
                             activation="relu")(x)
            x = layers.Dropout(hp.Choice("dropout", [0.0, 0.25, 0.5]))(x)
        model = keras.Model(inputs, layers.Dense(1, "sigmoid")(x))
        model.compile(keras.optimizers.Adam(hp.Float(
            "learning_rate", 1e-4, 1e-2, sampling="log")),
            loss="binary_crossentropy", metrics=["accuracy"])
        return model
    return build


def _run_kt(task, seed, budget, epochs, parts, start, workdir):
    import keras
    import keras_tuner

    arrays = (_table_arrays if task == "table" else _text_arrays)(
        *(x for x, _ in parts))
    (y, y_val, y_test) = (y for _, y in parts)
    size = arrays[0].shape[1] if task == "table" else 20000
    Oracle, Stop = stop_at(start + budget)
    tuner = keras_tuner.Tuner(
        oracle=Oracle(objective=keras_tuner.Objective("val_accuracy", "max"),
                      max_trials=10000, seed=seed),
        hypermodel=_hypermodel(task, size), directory=workdir,
        overwrite=True)
    tuner.search(arrays[0], y, validation_data=(arrays[1], y_val),
                 epochs=epochs, verbose=0, callbacks=[
                     keras.callbacks.EarlyStopping(
                         "val_accuracy", patience=3, mode="max"), Stop()])
    wall = time.perf_counter() - start
    test = tuner.get_best_models(1)[0].evaluate(
        arrays[2], y_test, verbose=0, return_dict=True)["accuracy"]
    trials = sum(t.status == "COMPLETED"
                 for t in tuner.oracle.trials.values())
    return wall, test, trials


def _run_autokeras(task, seed, budget, epochs, parts, start, workdir,
                   filled=False):
    import autokeras
    import keras

    (x, y), val, (x_test, y_test) = parts
    if filled:  # As the Keras Tuner baseline fills them, by hand.
        medians = x.median(numeric_only=True)
        x, val, x_test = _filled(x, medians), (_filled(val[0], medians),
                                               val[1]), _filled(x_test,
                                                                medians)
    if task == "table":
        names = list(x.columns)
        x, val, x_test = x.to_numpy(), (val[0].to_numpy(), val[1]), \
            x_test.to_numpy()
        model = autokeras.StructuredDataClassifier(
            column_names=names, max_trials=10000, seed=seed,
            directory=workdir, overwrite=True)
    else:  # It takes numpy strings, not an object array of them.
        x, val, x_test = x.astype(str), (val[0].astype(str), val[1]), \
            x_test.astype(str)
        model = autokeras.TextClassifier(max_trials=10000, seed=seed,
                                         directory=workdir, overwrite=True)
    _, Stop = stop_at(start + budget)
    oracle, populate = model.tuner.oracle, model.tuner.oracle.populate_space

    def populate_space(trial_id):  # No trial after the budget.
        if time.perf_counter() >= start + budget:
            return {"status": "STOPPED", "values": None}
        return populate(trial_id)
    oracle.populate_space = populate_space
    model.fit(x, y, validation_data=val, epochs=epochs, verbose=0,
              callbacks=[keras.callbacks.EarlyStopping(
                  patience=10, min_delta=1e-4), Stop()])
    wall = time.perf_counter() - start
    test = float(model.evaluate(x_test, y_test, verbose=0)[1])
    trials = sum(t.status == "COMPLETED" for t in oracle.trials.values())
    return wall, test, trials


def _run_nas(task, seed, budget, epochs, parts, start, workdir):
    import keras_nas

    (x, y), val, test = parts
    search = keras_nas.NASSearch(max_trials=10000, max_time_s=budget,
                                 seed=seed, directory=workdir, overwrite=True)
    search.fit(x, y, epochs=epochs, validation_data=val, verbose=0)
    wall = time.perf_counter() - start
    accuracy = search.evaluate(*test, return_dict=True)["accuracy"]
    trials = sum(r.status == "COMPLETED" for r in search.results())
    return wall, accuracy, trials


def run(system, task, seed, budget, epochs):
    """One system and seed, in this process: its row (with the error, if it
    failed)."""
    parts = data(task, seed)
    row = {"task": task, "system": system, "seed": seed, "budget": budget,
           "epochs": epochs}
    workdir = tempfile.mkdtemp(prefix=f"data-forms-{system}-")
    runner = {"nas": _run_nas, "kt": _run_kt, "autokeras": _run_autokeras,
              "autokeras-filled": functools.partial(_run_autokeras,
                                                    filled=True)}[system]
    try:
        wall, test, trials = runner(task, seed, budget, epochs, parts,
                                    time.perf_counter(), workdir)
    except Exception as error:  # Recorded as the result, not retried.
        return dict(row, error=f"{type(error).__name__}: {error}"[:2000],
                    traceback=traceback.format_exc()[-4000:])
    import keras

    versions = {"keras": keras.__version__}
    if system.startswith("autokeras"):
        import autokeras

        versions["autokeras"] = autokeras.__version__
    return dict(row, wall=round(wall, 1), test_accuracy=round(float(test), 4),
                trials=int(trials), versions=versions)


def run_isolated(system, task, seed, budget, epochs, python):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        if not os.path.exists(python):
            return {"task": task, "system": system, "seed": seed,
                    "budget": budget, "epochs": epochs,
                    "error": f"no interpreter at {python}"}
        subprocess.run([python, os.path.abspath(__file__), "--one", system,
                        "--tasks", task, "--seeds", str(seed), "--budget",
                        str(budget), "--epochs", str(epochs), "--row-out",
                        out], check=True)
        with open(out) as f:
            return json.load(f)
    finally:
        os.remove(out)


def _cell(mean, se, n, sign=""):
    return "-" if mean is None else (
        f"{mean:{sign}.4f} ± {se:.4f}" + (f" (n={n})" if sign else ""))


def summary(rows):
    """Markdown: per task, test accuracy per seed and mean, trials and wall
    seconds; then each system minus `nas`, paired by seed."""
    lines = []
    for task in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == task]
        seeds = sorted({r["seed"] for r in mine})
        by = {(r["system"], r["seed"]): r for r in mine}
        budget = mine[0]["budget"]
        lines += [f"**{task}**, {budget:g} s a system; test accuracy of the "
                  "returned model", "",
                  "| system | " + " | ".join(f"seed {s}" for s in seeds)
                  + " | mean ± se | trials | wall s |",
                  "|---|" + "---|" * (len(seeds) + 3)]
        for system in SYSTEMS:
            got = [by.get((system, s), {}) for s in seeds]
            if not any(got):
                continue
            ok = [g for g in got if "test_accuracy" in g]
            lines.append(
                f"| {system} | " + " | ".join(
                    f"{g['test_accuracy']:.4f}" if "test_accuracy" in g
                    else ("failed" if g else "-") for g in got)
                + f" | {_cell(*_mean_se([g['test_accuracy'] for g in ok]))}"
                + " | " + (f"{np.mean([g['trials'] for g in ok]):.1f} | "
                           f"{np.mean([g['wall'] for g in ok]):.1f}"
                           if ok else "- | -") + " |")
        lines.append("")
        for system in SYSTEMS[1:]:
            diffs = [by[("nas", s)]["test_accuracy"]
                     - by[(system, s)]["test_accuracy"] for s in seeds
                     if "test_accuracy" in by.get(("nas", s), {})
                     and "test_accuracy" in by.get((system, s), {})]
            if diffs:
                lines.append(f"nas − {system}, paired by seed: "
                             f"{_cell(*_mean_se(diffs), sign='+')}")
        for r in mine:
            if "error" in r:
                lines.append(f"{r['system']} seed {r['seed']} failed: "
                             f"`{r['error'].splitlines()[0][:300]}`")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--tasks", nargs="+", default=["table", "text"],
                        choices=["table", "text"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds a system (max_time_s)")
    parser.add_argument("--epochs", type=int, default=20,
                        help="most epochs a trial")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS),
                        choices=SYSTEMS)
    parser.add_argument("--autokeras-python", default="/tmp/akvenv/bin/python")
    parser.add_argument("--out", default=OUT, help="JSON lines, appended")
    parser.add_argument("--summary-only", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--row-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # A child of `run_isolated`.
        row = run(args.one, args.tasks[0], args.seeds[0], args.budget,
                  args.epochs)
        with open(args.row_out, "w") as f:
            json.dump(row, f)
        return
    if not args.summary_only:
        done = {(r["task"], r["system"], r["seed"], r["budget"], r["epochs"])
                for r in read(args.out)}
        for task in args.tasks:
            for i, seed in enumerate(args.seeds):
                k = i % len(args.systems)
                for system in args.systems[k:] + args.systems[:k]:
                    if (task, system, seed, args.budget, args.epochs) in done:
                        continue
                    if system == "autokeras-filled" and task != "table":
                        continue  # Text has nothing missing.
                    python = (args.autokeras_python
                              if system.startswith("autokeras")
                              else sys.executable)
                    row = run_isolated(system, task, seed, args.budget,
                                       args.epochs, python)
                    with open(args.out, "a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(f"{task} {system} seed {seed}: " + (
                        f"{row['test_accuracy']:.4f} test accuracy, "
                        f"{row['trials']} trials, {row['wall']} s"
                        if "error" not in row else row["error"][:300]),
                        flush=True)
    print(summary(read(args.out)))


if __name__ == "__main__":
    main()
