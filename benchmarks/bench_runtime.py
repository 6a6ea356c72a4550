"""Where the runtime's time goes: the interpreter alone vs a minimal loop vs ``edgecnn run`` vs Keras, same frames.

    .venv/bin/python benchmarks/bench_runtime.py              # int8 RPS CNN, 60 frames, one thread
    .venv/bin/python benchmarks/bench_runtime.py --format float32 --frames 120 --skip-keras

On the same frames of a real video (written with OpenCV from real rps-real-pi validation images at 640x480), one
interpreter thread, one run, side by side:

  (a) interpreter alone: set_tensor + invoke + get_tensor on ready pixels;
  (b) a minimal reference loop, as the TensorFlow Raspberry Pi example does: OpenCV read, BGR->RGB, resize, invoke,
      putText;
  (c) edgecnn's full loop (``run_live``): read, contract preprocessing, invoke, dequantize, smoothing, overlay with
      top-3 bars and FPS;
  (d) the chapter's way: Keras preprocessing and ``model.predict`` per frame (needs TensorFlow; --skip-keras);
  (e) (c) with ``--hand auto``: the hand finder (palm detector when nothing is tracked, landmark model every frame)
      and the CNN on the hand's crop;
  (f) ``edgecnn run``'s default model (``edgecnn.runtime.cli.SHIPPED_MODEL``, ``--hand auto``): the hand finder
      and the hand classifier;
  (g) the other shipped hand classifier (``rps_landmarks``, 21 points only), ``--hand auto``;
  (h) (f) on a video of hand-free photos (the empty room: nothing to track, one look of the search a frame);
  (i) (f) on videos in which a hand comes into view after an empty stretch (hand-free photos, then consecutive
      frames of a real laptop-webcam session of rps-webcam-subhih's validation split): frames until the first label.

Then ``edgecnn run`` start-up (import + model load + one image, a fresh process: no TensorFlow) and its peak RSS,
for the CNN with ``--hand off`` and for the default model (both hand models loaded).
Uses the lead's trained model (artifacts/rps_cnn/) when there is one, otherwise an untrained rps_cnn from the registry
converted here (timings do not depend on the weights; the output says which was used).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: keep the table readable
REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "rps-real-pi" / "validation"
EMPTY_ROOMS = REPO.parent / "shared" / "data" / "cats-vs-dogs" / "validation"  # frames without a hand
WEBCAM = REPO.parent / "shared" / "data" / "rps-webcam-subhih" / "validation"  # consecutive frames of webcam sessions
FRAME_SIZE = (640, 480)
LANDMARKS_MODEL = REPO / "runtime" / "models" / "rps_landmarks.tflite"


def write_video(path: Path, frames: int, folder: Path = DATA) -> Path:
    images = sorted(folder.glob("*/*.jpg"))[::7][:frames]
    return write_frames(path, [images[index % len(images)] for index in range(frames)])


def write_frames(path: Path, images: list[Path]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, FRAME_SIZE)
    for image in images:
        writer.write(cv2.resize(cv2.imread(str(image)), FRAME_SIZE))
    writer.release()
    return path


def bench_hand_arrival(model: Path, workdir: Path, trials: int = 12, hand_frames: int = 12) -> list[int | None]:
    """(i): per video, the frames from the hand's first frame to the first one labelled with a class (1: that very
    frame), None when none of its ``hand_frames`` frames is. Each video: an empty stretch of 20 + k hand-free photos
    (so the hand arrives at every point of the finder's rotation), then ``hand_frames`` consecutive frames of a
    webcam session (rock, paper, scissors in turn, from four places in each class's frames)."""
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.gesture import HandGestures
    from edgecnn.runtime.live import LiveOptions, run_live
    from edgecnn.runtime.sources import open_source

    empty = sorted(EMPTY_ROOMS.glob("*/*.jpg"))[1::11]
    arrivals: list[int | None] = []
    for k in range(trials):
        session = sorted((WEBCAM / ("rock", "paper", "scissors")[k % 3]).glob("*.jpg"))
        start = (k // 3) * max(0, len(session) - hand_frames) // max(1, (trials - 1) // 3)
        stretch = 20 + k
        video = write_frames(workdir / f"arrival_{k}.avi",
                             empty[k * 7:k * 7 + stretch] + session[start:start + hand_frames])
        classifier = Classifier.open(model, backend="litert", threads=1)
        out = io.StringIO()
        run_live(classifier, open_source(str(video)), LiveOptions(headless=True, window=False), stdout=out,
                 gestures=HandGestures(classifier, "auto"))
        labels = [json.loads(line)["label"] for line in out.getvalue().splitlines()][stretch:]
        arrivals.append(next((index + 1 for index, label in enumerate(labels) if label is not None), None))
    return arrivals


def find_or_make_model(fmt: str, workdir: Path) -> tuple[Path, Path | None, str]:
    """``(tflite path, keras path or None, description)``."""
    artifact = REPO / "artifacts" / "rps_cnn"
    pattern = "*int8*.tflite" if fmt == "int8" else "*float32*.tflite"
    found = sorted(artifact.glob(pattern)) + sorted(artifact.glob(f"*/{pattern}"))
    if found:
        keras_path = artifact / "model.keras"
        return found[0], (keras_path if keras_path.is_file() else None), f"trained model {found[0]}"
    return _convert_untrained(fmt, workdir)


def _convert_untrained(fmt: str, workdir: Path) -> tuple[Path, Path, str]:
    import tensorflow as tf

    from edgecnn.runtime.contract import ModelContract
    from edgecnn.runtime.images import load_for_model
    from edgecnn.train.registry import build_model, get_spec

    spec = get_spec("rps_cnn")
    model = build_model("rps_cnn")
    keras_path = workdir / "model.keras"
    model.save(keras_path)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if fmt == "int8":
        calibration = [load_for_model(p, spec.input_shape[:2]) for p in sorted(DATA.glob("*/*.jpg"))[::40]]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([p[None].astype(np.float32)] for p in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.uint8
    path = workdir / f"rps_cnn_{fmt}.tflite"
    path.write_bytes(converter.convert())
    contract = ModelContract(model_name="rps_cnn", labels=("paper", "rock", "scissors"),
                             input_size=spec.input_shape[:2], format=f"tflite_{fmt}")
    from edgecnn.convert.embed import embed_contract

    embed_contract(path, contract)
    return path, keras_path, "UNTRAINED rps_cnn from the registry (no artifacts/rps_cnn/ export found)"


def bench_interpreter(model: Path, pixels: list[np.ndarray]) -> list[float]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model), num_threads=1)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    times = []
    for item in pixels:
        start = time.perf_counter()
        interpreter.set_tensor(inp["index"], item[None].astype(inp["dtype"]))
        interpreter.invoke()
        interpreter.get_tensor(out["index"])
        times.append(time.perf_counter() - start)
    return times


_TIMING_SCRIPT = """
import sys, time, numpy as np
from tflite_runtime.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1], num_threads=1)
interpreter.allocate_tensors()
inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
for item in np.load(sys.argv[2]):
    start = time.perf_counter()
    interpreter.set_tensor(inp["index"], item[None].astype(inp["dtype"]))
    interpreter.invoke()
    interpreter.get_tensor(out["index"])
    print(time.perf_counter() - start)
"""


def bench_tflite_runtime(python: Path, model: Path, pixels: list[np.ndarray], workdir: Path) -> list[float]:
    """(a) again with tflite-runtime 2.14, in its own numpy<2 environment (scripts/make-runtime-envs.sh)."""
    batch = workdir / "pixels.npy"
    np.save(batch, np.stack(pixels))
    result = subprocess.run([str(python), "-c", _TIMING_SCRIPT, str(model), str(batch)], capture_output=True,
                            text=True, check=True)
    return [float(line) for line in result.stdout.split()]


def bench_reference_loop(model: Path, video: Path, size: tuple[int, int]) -> list[float]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model), num_threads=1)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    labels = ("paper", "rock", "scissors")
    capture = cv2.VideoCapture(str(video))
    times, start = [], time.perf_counter()
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        resized = cv2.resize(rgb, (size[1], size[0]))
        interpreter.set_tensor(inp["index"], resized[None].astype(inp["dtype"]))
        interpreter.invoke()
        scores = interpreter.get_tensor(out["index"])[0]
        cv2.putText(frame, labels[int(np.argmax(scores))], (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 255, 0), 2)
        now = time.perf_counter()
        times.append(now - start)
        start = now
    capture.release()
    return times


class _Timer:
    needs_image = True  # like a window or --save: the overlay is drawn on every frame

    def __init__(self):
        self.stamps = [time.perf_counter()]

    def write(self, frame, annotated, record) -> None:
        self.stamps.append(time.perf_counter())

    def close(self, keep: bool) -> None:
        pass


def bench_edgecnn_loop(model: Path, video: Path, hand: str = "off") -> list[float]:
    """(c), (e), (f): ``run_live`` on the video with ``--hand`` ``hand`` (the hand finder tracks between frames)."""
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.gesture import HandGestures
    from edgecnn.runtime.live import LiveOptions, run_live
    from edgecnn.runtime.sources import open_source

    classifier = Classifier.open(model, backend="litert", threads=1)
    timer = _Timer()
    run_live(classifier, open_source(str(video)), LiveOptions(smooth=0.5, window=False), extra_sinks=(timer,),
             gestures=HandGestures(classifier, hand))
    return list(np.diff(timer.stamps))


def bench_live_lag(model: Path, video: Path, fps: float = 30.0, frames: int = 60) -> list[int]:
    """The video played as a 30 fps camera through the runtime's newest-frame thread: the most frames captured after
    the one being classified by the time its prediction was ready (the issue's target: at most 1)."""
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.live import LiveOptions, run_live
    from edgecnn.runtime.sources import LiveSource

    def open_camera():
        capture = cv2.VideoCapture(str(video))
        next_frame = [time.perf_counter()]

        def read():
            next_frame[0] += 1.0 / fps
            time.sleep(max(0.0, next_frame[0] - time.perf_counter()))  # a camera delivers at its own rate
            ok, frame = capture.read()
            if not ok:
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = capture.read()
            return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if ok else None

        return read, capture.release

    classifier = Classifier.open(model, backend="litert", threads=1)
    source = LiveSource("video as a 30 fps camera", open_camera)
    summary = run_live(classifier, source, LiveOptions(smooth=0.5, window=False, max_frames=frames),
                       extra_sinks=(_Timer(),))
    return summary.frames_behind


def bench_keras(keras_path: Path, video: Path, size: tuple[int, int], frames: int) -> list[float]:
    import keras
    import tensorflow as tf

    model = keras.models.load_model(keras_path)
    capture = cv2.VideoCapture(str(video))
    times = []
    for _ in range(frames):
        ok, frame = capture.read()
        if not ok:
            break
        start = time.perf_counter()
        image = tf.image.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), size)  # the chapter's preprocessing
        model.predict(np.expand_dims(keras.utils.img_to_array(image), 0), verbose=0)
        times.append(time.perf_counter() - start)
    capture.release()
    return times


def bench_startup(model: Path, image: Path, extra: tuple[str, ...] = (), repeats: int = 3) -> tuple[float, float]:
    """Best wall seconds and peak RSS (MB) of ``edgecnn run`` classifying one image, each time a fresh process.

    A small launcher process runs it and reports its children's peak RSS, so nothing this script loaded counts.
    """
    command = [str(REPO / ".venv" / "bin" / "edgecnn"), "run", "--model", str(model), "--source", str(image),
               "--headless", "--threads", "1", *extra]
    launcher = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
                "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
                "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    best_wall, peak_kb = float("inf"), 0
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", launcher, *command], check=True, capture_output=True, text=True)
        wall, rss_kb = out.stdout.split()
        best_wall, peak_kb = min(best_wall, float(wall)), max(peak_kb, int(rss_kb))
    return best_wall, peak_kb / 1024


_SPLIT_SCRIPT = """
import atexit, sys
def split():
    fields = dict(line.split(":", 1) for line in open("/proc/self/smaps_rollup") if ":" in line and line[0].isupper())
    kb = {name: int(fields[name].split()[0]) for name in ("Rss", "Anonymous")}
    print(kb["Anonymous"], kb["Rss"] - kb["Anonymous"], file=sys.stderr)
atexit.register(split)
from edgecnn.cli import main
sys.argv = ["edgecnn", *sys.argv[1:]]
sys.exit(main())
"""


def memory_split(model: Path, image: Path) -> tuple[float, float]:
    """``(private MB, file-backed MB)`` of an ``edgecnn run`` process on one image as it exits: anonymous memory
    (heap, model weights and buffers) and the pages of shared libraries and model files it has mapped. The second
    depends on the kernel as much as on the program (how much of a file one page fault maps), so peak RSS differs
    between machines running the same code."""
    out = subprocess.run([sys.executable, "-c", _SPLIT_SCRIPT, "run", "--model", str(model), "--source", str(image),
                          "--headless", "--threads", "1"], check=True, capture_output=True, text=True)
    private_kb, mapped_kb = out.stderr.split()[-2:]
    return int(private_kb) / 1024, int(mapped_kb) / 1024


def best_of_rounds(loops: dict, rounds: int) -> list[tuple[str, list[float]]]:
    """Runs the loops in turn ``rounds`` times and keeps each one's round with the lowest median: on a shared host
    the quietest round is the closest to what the code costs, and taking turns exposes every loop to the same load."""
    best: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, loop in loops.items():
            seconds = loop()
            if name not in best or np.median(seconds[1:]) < np.median(best[name][1:]):
                best[name] = seconds
    return list(best.items())


_DISPATCHER_SCRIPT = """
import argparse, time
start = time.perf_counter()
from edgecnn.runtime import cli
cli.register(argparse.ArgumentParser().add_subparsers())
middle = time.perf_counter()
from edgecnn.cli import build_parser
build_parser()
print(middle - start, time.perf_counter() - middle)
"""


def bench_dispatcher(repeats: int = 3) -> tuple[float, float]:
    """Best seconds to import + register ``edgecnn run``'s CLI alone, and what the dispatcher's other stages add."""
    runs = [subprocess.run([sys.executable, "-c", _DISPATCHER_SCRIPT], check=True, capture_output=True, text=True)
            for _ in range(repeats)]
    own, others = zip(*(map(float, run.stdout.split()) for run in runs))
    return min(own), min(others)


def row(name: str, seconds: list[float]) -> str:
    ms = np.array(seconds[1:] if len(seconds) > 2 else seconds) * 1000  # the first frame pays one-off set-up
    return (f"| {name} | {np.percentile(ms, 50):.2f} | {np.percentile(ms, 90):.2f} | {1000 / ms.mean():.0f} "
            f"| {len(ms)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--format", choices=("int8", "float32"), default="int8", help="TFLite export to time")
    parser.add_argument("--frames", type=int, default=60, help="frames in the test video")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (a)-(c); each row keeps its quietest")
    parser.add_argument("--keras-frames", type=int, default=20, help="frames for the (slow) Keras row")
    parser.add_argument("--arrivals", type=int, default=12,
                        help="videos of row (i): a hand coming into view after an empty stretch")
    parser.add_argument("--skip-keras", action="store_true", help="leave out (d), which needs TensorFlow")
    parser.add_argument("--tflite214-python", type=Path, default=REPO / ".venv-runtime-tflite214" / "bin" / "python",
                        help="Python of a tflite-runtime 2.14 environment for row (a'); skipped when missing")
    args = parser.parse_args()
    from edgecnn.runtime.cli import SHIPPED_MODEL  # what `edgecnn run` loads with no --model

    with tempfile.TemporaryDirectory(prefix="bench_runtime_") as tmp:
        workdir = Path(tmp)
        model, keras_path, description = find_or_make_model(args.format, workdir)
        video = write_video(workdir / "rps_640x480.avi", args.frames)
        from edgecnn.runtime.model_file import read_contract
        from edgecnn.runtime.sources import open_source

        contract = read_contract(model)
        pixels = [cv2.resize(f.image, contract.input_size[::-1]) for f in open_source(str(video))]
        loops = {"(a) interpreter alone (LiteRT)": lambda: bench_interpreter(model, pixels)}
        if args.tflite214_python.is_file():
            loops["(a') interpreter alone (tflite-runtime 2.14, numpy<2 env)"] = (
                lambda: bench_tflite_runtime(args.tflite214_python, model, pixels, workdir))
        loops["(b) minimal loop: read, BGR->RGB, resize, invoke, putText"] = (
            lambda: bench_reference_loop(model, video, contract.input_size))
        loops["(c) edgecnn run loop: + contract, smoothing, overlay, FPS"] = lambda: bench_edgecnn_loop(model, video)
        loops["(e) (c) with --hand auto: find + track the hand, CNN on its crop"] = (
            lambda: bench_edgecnn_loop(model, video, "auto"))
        loops[f"(f) edgecnn run's default: --hand auto, {SHIPPED_MODEL.stem}"] = (
            lambda: bench_edgecnn_loop(SHIPPED_MODEL, video, "auto"))
        if SHIPPED_MODEL != LANDMARKS_MODEL:
            loops["(g) --hand auto, rps_landmarks (21 points only)"] = (
                lambda: bench_edgecnn_loop(LANDMARKS_MODEL, video, "auto"))
        if EMPTY_ROOMS.is_dir():
            empty = write_video(workdir / "empty_640x480.avi", args.frames, EMPTY_ROOMS)
            loops[f"(h) (f) on hand-free frames: one look of the search a frame, {SHIPPED_MODEL.stem}"] = (
                lambda: bench_edgecnn_loop(SHIPPED_MODEL, empty, "auto"))
        results = best_of_rounds(loops, args.rounds)
        if not args.skip_keras and keras_path is not None:
            results.append(("(d) Keras: tf.image.resize + model.predict per frame",
                            bench_keras(keras_path, video, contract.input_size, args.keras_frames)))
        behind = bench_live_lag(model, video)
        arrivals = (bench_hand_arrival(SHIPPED_MODEL, workdir, args.arrivals)
                    if WEBCAM.is_dir() and EMPTY_ROOMS.is_dir() else [])
        own_cli, other_clis = bench_dispatcher()
        image = sorted(DATA.glob("rock/*.jpg"))[0]
        wall, rss = bench_startup(model, image, ("--hand", "off"))
        hand_wall, hand_rss = bench_startup(SHIPPED_MODEL, image)
        private, mapped = memory_split(SHIPPED_MODEL, image)
    print(f"model: {description} ({model.name}, {args.format}); video: {args.frames} frames {FRAME_SIZE[0]}x"
          f"{FRAME_SIZE[1]} from {DATA.relative_to(REPO.parent)}; 1 thread; best of {args.rounds} rounds; "
          f"{os.cpu_count()} CPU(s) on this host, "
          f"load average {os.getloadavg()[0]:.1f} at the end (other work on the host inflates every row)")
    print("\n| loop | p50 ms/frame | p90 ms/frame | FPS | frames |\n|---|---|---|---|---|")
    for name, seconds in results:
        print(row(name, seconds))
    p50 = {name.split(" ")[0]: float(np.median(seconds[1:])) for name, seconds in results}
    a, a_tflite = p50["(a)"], p50.get("(a')")
    print()
    if a_tflite is not None:
        print(f"(a')/(a) per frame (p50): {a_tflite / a:.1f}x  (tflite-runtime 2.14 vs LiteRT)")
    print(f"(c)/(b) per frame (p50): {p50['(c)'] / p50['(b)']:.2f}x  (target <= 1.1x)")
    if "(d)" in p50:
        print(f"(d)/(c) per frame (p50): {p50['(d)'] / p50['(c)']:.0f}x  (target >= 30x)")
    print(f"(e)/(c) per frame (p50): {p50['(e)'] / p50['(c)']:.2f}x, (f)/(c): {p50['(f)'] / p50['(c)']:.2f}x  "
          f"(--hand auto vs off; target <= 2x)")
    if "(h)" in p50:
        h_p90 = {name.split(" ")[0]: float(np.percentile(seconds[1:], 90)) for name, seconds in results}
        print(f"(h)/(f) per frame: p50 {p50['(h)'] / p50['(f)']:.2f}x (target <= 2x), p90 "
              f"{h_p90['(h)'] / h_p90['(f)']:.2f}x (target <= 3x)  (an empty room vs a tracked hand)")
    if arrivals:
        found = sorted(a for a in arrivals if a is not None)
        worst = f"{found[-1]}" if len(found) == len(arrivals) else f"not within 12 on {len(arrivals) - len(found)}"
        median = f"{np.median(found):.0f}" if found else "-"
        print(f"(i) a hand coming into view after an empty stretch ({len(arrivals)} webcam videos, "
              f"{SHIPPED_MODEL.stem}): frames until the first label p50 {median}, worst {worst} (target <= 10)")
    within = np.mean(np.array(behind) <= 1)
    print(f"live source (the video as a 30 fps camera, newest-frame thread): {within:.0%} of predictions at most 1 "
          f"frame behind the newest captured, worst {max(behind)} (target: never more than 1)")
    print(f"edgecnn run start-up (fresh process, import + load + 1 image, best of 3): {wall:.2f} s (target <= 0.5 s); "
          f"peak RSS {rss:.0f} MB (target <= 80 MB)")
    print(f"edgecnn run start-up, default model with both hand models (--hand auto): {hand_wall:.2f} s "
          f"(target <= 0.5 s); peak RSS {hand_rss:.0f} MB (target <= 90 MB)")
    print(f"  of which, as it exits: {private:.0f} MB private (heap, model weights and buffers), {mapped:.0f} MB "
          f"pages of shared libraries and model files (how much of a file one page fault maps is the kernel's)")
    print(f"  of which: importing edgecnn run's CLI {own_cli:.2f} s; the dispatcher importing the other stages' CLIs "
          f"{other_clis:.2f} s (best of 3)")


if __name__ == "__main__":
    sys.exit(main())
