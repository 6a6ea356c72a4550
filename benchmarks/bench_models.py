"""Every chapter CNN side by side: int8 vs float32 TFLite, the best export vs Keras ``predict``, and GFLOP/s vs peak.

    .venv/bin/python benchmarks/bench_models.py                          # the four chapter CNNs, one thread
    .venv/bin/python benchmarks/bench_models.py --models rps_cnn --runs 100 --json /tmp/models.json
    .venv/bin/python benchmarks/bench_models.py --models inception_transfer --runs 10   # big: built with random weights

For each model: build it from the registry (untrained: latency does not depend on the weight values), save it as an
artifact folder laid out as ``edgecnn train`` writes it (model.keras + contract naming the model's real dataset, so
int8 calibration reads real images), export tflite_float32, tflite_int8_uint8io ("int8" in the table: camera pixels
as-is) and tflite_int8 (float32 input/output) with ``edgecnn.convert``, then time, on real held-out images loaded as
the runtime loads them, one thread each, taking turns every round:

  - each export's interpreter alone (the runtime's own backend: ``Classifier.open(path, threads=1).backend.invoke``
    on a ready input tensor);
  - Keras the chapter's way: ``model.predict(image[None])`` per frame, batch 1, one TensorFlow thread.

p50/p90 of ``--runs`` timed frames after ``--warmup`` frames; each row keeps its quietest of ``--rounds`` rounds.
FLOPs per frame are counted from the Keras model: Conv2D 2*Hout*Wout*kh*kw*Cin*Cout/groups + Hout*Wout*Cout bias,
Dense 2*in*out + out bias; pooling, activations and rescaling are not counted (under 1% here), nor batch norm
(InceptionV3's; the converter folds it into the convolutions).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: keep the table readable
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
os.environ.setdefault("EDGECNN_DATA", str(SHARED_DATA))  # where the registry's datasets are found
DEFAULT_MODELS = ("fashion_cnn", "cats_dogs_cnn", "rps_cnn", "horses_humans_cnn")
FLOAT32, INT8, INT8_FLOAT_IO = "tflite_float32", "tflite_int8_uint8io", "tflite_int8"
FORMATS = (FLOAT32, INT8, INT8_FLOAT_IO)


def build_untrained_artifact(name: str, out: Path):
    """``(artifact folder, Keras model, contract)`` of the registered model ``name`` with random weights."""
    from edgecnn.train.untrained import write_untrained_artifact

    return write_untrained_artifact(name, out)


def real_images(contract, count: int) -> tuple[np.ndarray, str]:
    """``count`` held-out images of the contract's dataset, ``(N, H, W, C)`` uint8 as the runtime loads them."""
    from edgecnn.data.description import DataDescription
    from edgecnn.runtime.images import is_image_file, load_for_model

    description = DataDescription.from_extra(contract.extra)
    held_out = description.held_out()
    if description.kind == "fashion_mnist_idx":
        from edgecnn.data.idx import load_fashion_split

        images, _ = load_fashion_split(held_out.root, held_out.split)
        return images[:count], f"{held_out.root} ({held_out.split})"
    folder = held_out.root / held_out.split if held_out.split else held_out.root
    files = sorted(p for p in folder.rglob("*") if is_image_file(p) and (held_out.keep is None or held_out.keep(p))
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    files = files[:: max(1, len(files) // count)][:count]  # spread over every class folder
    pixels = [load_for_model(p, contract.input_size, contract.channel_order, contract.resize) for p in files]
    return np.stack(pixels), str(folder.relative_to(REPO.parent) if folder.is_relative_to(REPO.parent) else folder)


def count_flops(model) -> int:
    """Floating-point operations of one frame (see the module docstring for what is counted)."""
    import keras

    total, seen = 0, set()

    def walk(layers):
        nonlocal total
        for layer in layers:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if hasattr(layer, "layers"):  # a nested model
                walk(layer.layers)
            elif isinstance(layer, keras.layers.Conv2D):
                _, height, width, cout = layer.output.shape
                cin = layer.input.shape[-1]
                kh, kw = layer.kernel_size
                positions = height * width
                total += 2 * positions * kh * kw * cin * cout // layer.groups
                total += positions * cout if layer.use_bias else 0
            elif isinstance(layer, keras.layers.Dense):
                fan_in, units = layer.input.shape[-1], layer.units
                rows = int(np.prod(layer.input.shape[1:-1]))  # 1 after Flatten
                total += rows * (2 * fan_in * units + (units if layer.use_bias else 0))

    walk(model.layers)
    return int(total)


def single_core_peak() -> tuple[float, str]:
    """``(GFLOP/s, explanation)``: float32 peak of one core = clock (GHz, from /proc/cpuinfo) x FLOP/cycle (ISA)."""
    text = Path("/proc/cpuinfo").read_text()
    fields = dict(line.split(":", 1) for line in text.split("\n\n")[0].splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    ghz = float(fields.get("cpu MHz", "0")) / 1000
    flags = set(fields.get("flags", "").split())
    if "avx512f" in flags:
        per_cycle, isa = 64, "avx512f: 2 FMA units x 16 float32 lanes x 2"
    elif {"avx2", "fma"} <= flags:
        per_cycle, isa = 32, "avx2+fma: 2 FMA units x 8 float32 lanes x 2"
    else:
        per_cycle, isa = 8, "sse: 4-lane add + 4-lane multiply"
    return ghz * per_cycle, (f"single-core float32 peak = {ghz:.3f} GHz ('cpu MHz' of /proc/cpuinfo: the nominal/"
                             f"current clock, not turbo) x {per_cycle} FLOP/cycle ({isa}) = {ghz * per_cycle:.1f} "
                             f"GFLOP/s ({fields.get('model name', '?')}, family {fields.get('cpu family', '?')})")


def time_loop(call, inputs: list, warmup: int, runs: int) -> list[float]:
    """Seconds of ``runs`` calls after ``warmup`` untimed ones, cycling through ``inputs``."""
    for index in range(warmup):
        call(inputs[index % len(inputs)])
    seconds = []
    for index in range(runs):
        item = inputs[index % len(inputs)]
        start = time.perf_counter()
        call(item)
        seconds.append(time.perf_counter() - start)
    return seconds


def best_of_rounds(loops: dict, rounds: int) -> dict[str, list[float]]:
    """The loops in turn, ``rounds`` times; each keeps its round with the lowest median (the quietest)."""
    best: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, loop in loops.items():
            seconds = loop()
            if name not in best or np.median(seconds) < np.median(best[name]):
                best[name] = seconds
    return best


def bench_model(name: str, workdir: Path, args, peak: float) -> dict:
    from edgecnn.convert.calibration import CalibrationOptions
    from edgecnn.convert.runner import ConvertOptions, convert_artifact
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.preprocess import pixels_to_tensor

    print(f"{name}: building, exporting {', '.join(FORMATS)} ...", file=sys.stderr, flush=True)
    artifact, model, contract = build_untrained_artifact(name, workdir / name)
    flops = count_flops(model)
    start = time.perf_counter()
    # In this process, except for InceptionV3: its converters keep ~16 GB alive in one process (convert/runner.py).
    options = ConvertOptions(formats=FORMATS, calibration=CalibrationOptions(count=args.calib_count),
                             isolate=name == "inception_transfer")
    with contextlib.redirect_stdout(sys.stderr):  # the TFLite converter prints its SavedModel signature
        records = {record.format: record for record in convert_artifact(artifact, options)}
    convert_seconds = time.perf_counter() - start
    pixels, source = real_images(contract, args.images)
    loops = {}
    for fmt, record in records.items():
        backend = Classifier.open(record.path, backend="litert", threads=1).backend
        tensors = [pixels_to_tensor(p[None], contract, backend.input) for p in pixels]
        loops[fmt] = lambda b=backend, t=tensors: time_loop(b.invoke, t, args.warmup, args.runs)
    frames = [p[None].astype(np.float32) for p in pixels]  # the chapter: img_to_array + expand_dims
    loops["keras"] = lambda: time_loop(lambda x: model.predict(x, verbose=0), frames, args.warmup,
                                       args.keras_runs)
    print(f"{name}: timing on {len(pixels)} images of {source} ...", file=sys.stderr, flush=True)
    best = best_of_rounds(loops, args.rounds)
    row = {"model": name, "input": list(contract.input_shape), "flops": flops, "images": source,
           "convert_seconds": round(convert_seconds, 1), "formats": {}}
    for fmt, seconds in best.items():
        ms = np.array(seconds) * 1000
        p50, p90 = float(np.percentile(ms, 50)), float(np.percentile(ms, 90))
        entry = {"p50_ms": p50, "p90_ms": p90, "runs": len(ms), "gflops": flops / (p50 / 1000) / 1e9}
        entry["percent_of_peak"] = 100 * entry["gflops"] / peak
        if fmt in records:
            entry["size_bytes"] = records[fmt].size_bytes
        row["formats"][fmt] = entry
    exports = {fmt: e for fmt, e in row["formats"].items() if fmt != "keras"}
    row["best_format"] = min(exports, key=lambda fmt: exports[fmt]["p50_ms"])
    row["int8_over_float32"] = exports[INT8]["p50_ms"] / exports[FLOAT32]["p50_ms"]
    row["int8_float_io_over_float32"] = exports[INT8_FLOAT_IO]["p50_ms"] / exports[FLOAT32]["p50_ms"]
    row["keras_over_best"] = row["formats"]["keras"]["p50_ms"] / exports[row["best_format"]]["p50_ms"]
    return row


def table(rows: list[dict]) -> str:
    short = {FLOAT32: "float32", INT8: "int8", INT8_FLOAT_IO: "int8 float-io"}
    lines = ["| model | FLOPs | float32 p50/p90 ms | int8 p50/p90 ms | int8/float32 | int8 float-io p50/p90 ms "
             "| Keras p50 ms | Keras/best | best GFLOP/s | % of peak |", "|---" * 10 + "|"]
    for row in rows:
        f = row["formats"]
        best = f[row["best_format"]]
        lines.append(
            f"| {row['model']} {'x'.join(map(str, row['input']))} | {row['flops'] / 1e6:,.0f} M "
            f"| {f[FLOAT32]['p50_ms']:.2f} / {f[FLOAT32]['p90_ms']:.2f} | {f[INT8]['p50_ms']:.2f} / "
            f"{f[INT8]['p90_ms']:.2f} | {row['int8_over_float32']:.2f} | {f[INT8_FLOAT_IO]['p50_ms']:.2f} / "
            f"{f[INT8_FLOAT_IO]['p90_ms']:.2f} | {f['keras']['p50_ms']:.1f} | {row['keras_over_best']:.0f}x "
            f"({short[row['best_format']]}) | {best['gflops']:.1f} | {best['percent_of_peak']:.0f}% |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), metavar="NAME",
                        help="registered models (inception_transfer is built with weights='random')")
    parser.add_argument("--runs", type=int, default=40, help="timed frames per export and round")
    parser.add_argument("--keras-runs", type=int, default=20, help="timed model.predict calls per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed frames before each timed loop")
    parser.add_argument("--rounds", type=int, default=3, help="rounds taken in turn; each row keeps its quietest")
    parser.add_argument("--images", type=int, default=20, help="distinct real held-out images cycled through")
    parser.add_argument("--calib-count", type=int, default=50, help="int8 calibration images (real, training split)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    from edgecnn.train.registry import model_names

    unknown = sorted(set(args.models) - set(model_names()))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {model_names()}")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)  # Keras on one thread too, like the interpreters
    tf.config.threading.set_inter_op_parallelism_threads(1)
    peak, peak_line = single_core_peak()
    load_before = os.getloadavg()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_models_") as tmp:
        rows = [bench_model(name, Path(tmp), args, peak) for name in args.models]
    load_after = os.getloadavg()
    import ai_edge_litert
    import keras

    print(f"untrained registry models, real held-out images; LiteRT {ai_edge_litert.__version__} (1 thread), "
          f"Keras {keras.__version__} / TensorFlow {tf.__version__} (1 intra-op, 1 inter-op thread); p50/p90 of "
          f"{args.runs} frames ({args.keras_runs} Keras calls) after {args.warmup} warm-up, quietest of "
          f"{args.rounds} rounds; {os.cpu_count()} CPU(s), load average {load_before[0]:.1f} at the start and "
          f"{load_after[0]:.1f} at the end (other work on the host inflates every figure); "
          f"{time.perf_counter() - start:.0f} s in all")
    print("int8 = tflite_int8_uint8io (uint8 pixels in, uint8 out); int8 float-io = tflite_int8; best = the fastest "
          "export by p50; GFLOP/s = FLOPs / p50 of the best export\n")
    print(table(rows))
    print()
    print(peak_line)
    ratios = [row["int8_over_float32"] for row in rows]
    keras_ratios = [row["keras_over_best"] for row in rows]
    print(f"int8/float32 (p50): {min(ratios):.2f}-{max(ratios):.2f} (target <= 1.0 for every model: "
          f"{'met' if max(ratios) <= 1.0 else 'NOT met'}); Keras/best (p50): {min(keras_ratios):.0f}-"
          f"{max(keras_ratios):.0f}x (target >= 30x: {'met' if min(keras_ratios) >= 30 else 'NOT met'})")
    if args.json:
        args.json.write_text(json.dumps({"peak_gflops": peak, "peak": peak_line, "load_average": [
            load_before[0], load_after[0]], "args": {k: str(v) for k, v in vars(args).items()}, "rows": rows},
            indent=2))


if __name__ == "__main__":
    sys.exit(main())
