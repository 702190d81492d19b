"""The digits search's best model in each runtime: file size, batch-1
latency (median of 100) and test accuracy, for Keras, a SavedModel, ONNX
Runtime, and LiteRT float32 / float16 / int8; and the batch-1 latency of a
few block candidates on Keras and on LiteRT, to see whether their ranking
changes; with `--budget`, searches of the image blocks under a latency
budget measured on Keras and on LiteRT, and the winners' latency in LiteRT.

    python benchmarks/export_runtimes.py --seeds 0 1
    python benchmarks/export_runtimes.py --budget 1.0 0.025 --seeds 0
    python benchmarks/export_runtimes.py --largest

`--largest` times the largest image-block model (six of the widest
blocks, on 32x32x3, untrained: sizes and latency only) in each runtime.
"""

import argparse
import os
import tempfile

import numpy as np

import keras_nas
from keras_nas.front.export import json_path_of
from keras_nas.scoring import latency
from keras_nas.export import runtimes

CANDIDATES = [
    ["conv3x3-32", "maxpool", "dense-64"],
    ["sepconv3x3-32", "maxpool", "dense-64"],
    ["convbnrelu3x3-32", "resblock-32", "gap"],
    ["mbconv3x3-e6-32", "mbconv5x5-e6-se-64-s2", "gap"],
    ["mbconv3x3-e1-16", "resblock-64-s2", "dense-64"],
    ["conv5x5-32", "conv3x3-64", "avgpool", "dense-128"],
]
EXPORTS = [("keras", None, "m.keras"), ("tf_saved_model", None, "m_sm"),
           ("onnx", None, "m.onnx"), ("onnx", "int8", "m8.onnx"),
           ("litert", None, "m.tflite"), ("litert", "float16", "m16.tflite"),
           ("litert", "int8", "m8.tflite")]


def one_seed(seed, folder):
    (x, y), (xt, yt) = keras_nas.load_digits(seed=seed)
    search = keras_nas.NASSearch(max_trials=6, seed=seed, directory=folder,
                                 project_name=f"s{seed}")
    search.fit(x, y, epochs=5, verbose=0)
    rows = []
    for fmt, q, name in EXPORTS:
        path = os.path.join(folder, f"{seed}_{name}")
        search.export(path, format=fmt, quantize=q, validation_data=(xt, yt))
        import json

        with open(json_path_of(path)) as f:
            info = json.load(f)
        runner = runtimes.load(path, fmt)
        ms = runner.latency_ms(xt[:1].astype("float32"), repeats=100)
        rows.append((f"{runtimes.runtime_of(fmt)} {q or 'float32'}",
                     info["file_size"], ms, info["checks"]["exported"]))
    return search.best_architecture(), rows


def ranking(shape=(8, 8, 1)):
    out = {}
    for runtime in ("keras", "litert", "onnxruntime"):
        out[runtime] = [latency.measure_latency(ops, shape, repeats=100,
                                                runtime=runtime)
                        for ops in CANDIDATES]
    return out


def budget_search(max_ms, runtime, seed, folder):
    (x, y), (xt, yt) = keras_nas.load_digits(seed=seed)
    search = keras_nas.NASSearch(
        space=keras_nas.SearchSpace("image-blocks", max_depth=3),
        max_trials=6, seed=seed, directory=folder, warm_start=False,
        project_name=f"b{runtime}{max_ms}{seed}",
        latency=latency.Latency(max_ms=max_ms, runtime=runtime))
    search.fit(x, y, epochs=3, verbose=0)
    meter = search.tuner.latency
    model = search.best_model()
    path = os.path.join(folder, f"best{runtime}{max_ms}{seed}.tflite")
    runtimes.convert(model, path, "litert")
    sample = xt[:1].astype("float32")
    lite_ms = runtimes.load(path, "litert").latency_ms(sample, repeats=100)
    keras_ms = runtimes.runner_of(model).latency_ms(sample, repeats=100)
    accuracy = search.evaluate(xt, yt, return_dict=True)["accuracy"]
    trained = len([r for r in search.results() if r.status == "COMPLETED"])
    print(f"| {runtime} | {max_ms:g} | {' > '.join(search.best_architecture())}"
          f" | {accuracy:.4f} | {keras_ms:.3f} | {lite_ms:.3f} | "
          f"{meter.measured - trained} of {meter.measured} | "
          f"{meter.conversion_seconds:.1f} of {meter.seconds:.1f} |")


LARGEST = ["mbconv5x5-e6-se-128", "mbconv5x5-e6-se-128-s2", "resblock-128",
           "mbconv5x5-e6-se-128-s2", "convbnrelu5x5-128", "resblock-128-s2",
           "gap"]


def largest(folder):
    from keras_nas.space.builder import build_model

    model = build_model(LARGEST, (32, 32, 3), num_classes=10)
    x = np.random.default_rng(0).standard_normal((64, 32, 32, 3)).astype(
        "float32")
    ref = model.predict(x, verbose=0)
    print(f"{' > '.join(LARGEST)}: {model.count_params():,} params")
    print("| runtime | file bytes | batch-1 ms | class agreement with Keras |")
    print("| --- | --- | --- | --- |")
    for fmt, q, name in EXPORTS:
        path = os.path.join(folder, "L" + name)
        runtimes.convert(model, path, fmt, q, representative=x)
        runner = runtimes.load(path, fmt)
        agree = float(np.mean(runner.predict(x).argmax(1) == ref.argmax(1)))
        ms = runner.latency_ms(x[:1], repeats=100)
        size = sum(os.path.getsize(os.path.join(r, f))
                   for r, _, fs in os.walk(path) for f in fs) \
            if os.path.isdir(path) else os.path.getsize(path)
        print(f"| {runtimes.runtime_of(fmt)} {q or 'float32'} | {size:,} | "
              f"{ms:.3f} | {agree:.3f} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--largest", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--budget", type=float, nargs="+", default=None)
    args = parser.parse_args()
    if args.largest:
        with tempfile.TemporaryDirectory() as folder:
            largest(folder)
        return
    if args.budget:
        print("| measured on | budget ms | winner | test accuracy | Keras ms "
              "| LiteRT ms | over budget (of measured) | converting s (of "
              "latency s) |")
        print("| --- |" + " --- |" * 7)
        with tempfile.TemporaryDirectory() as folder:
            for seed in args.seeds:
                for max_ms in args.budget:
                    for runtime in ("keras", "litert"):
                        try:
                            budget_search(max_ms, runtime, seed, folder)
                        except Exception as e:  # No candidate in budget.
                            print(f"| {runtime} | {max_ms:g} | failed: "
                                  f"{str(e).splitlines()[0][:80]} |")
        return
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            ops, rows = one_seed(seed, folder)
            print(f"seed {seed}: {' > '.join(ops)}")
            print("| runtime | file bytes | batch-1 ms | test accuracy |")
            print("| --- | --- | --- | --- |")
            for name, size, ms, acc in rows:
                print(f"| {name} | {size:,} | {ms:.3f} | {acc:.4f} |")
    times = ranking()
    print("\n| candidate | " + " | ".join(times) + " |")
    print("| --- |" + " --- |" * len(times))
    for i, ops in enumerate(CANDIDATES):
        print(f"| {' > '.join(ops)} | " + " | ".join(
            f"{times[r][i]:.3f}" for r in times) + " |")
    for r in times:
        print(r, "rank:", list(np.argsort(times[r])))


if __name__ == "__main__":
    main()
