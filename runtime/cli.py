"""``edgecnn run``: classify a camera, video, image or folder live with a converted model."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from edgecnn.help_format import DefaultsHelpFormatter, count
from edgecnn.runtime.backends import MAX_THREADS, backend_names
from edgecnn.runtime.contract import CHANNEL_ORDERS
from edgecnn.runtime.errors import ModelLoadError, OptionError

# The default: rock-paper-scissors from the hand landmark model's embedding and points, "no hand" when there is none
# (scripts/ship-hand-model.sh; measured best on held-out people, rooms and empty frames: docs/results/hands.md).
# The 21-points-only classifier and the chapter's CNN ship too.
SHIPPED_MODEL = Path(__file__).resolve().parent / "models" / "rps_hand_embedding.tflite"
SHIPPED_CNN = Path(__file__).resolve().parent / "models" / "rps_int8.tflite"

# Where a display exists but OpenCV cannot open a window (opencv-python-headless, what every install gets), the
# live view is served on 127.0.0.1 and opened in the browser instead. A file source waits for the page before its
# first frame, plays at its own frame rate, and the page stays until it was sent the last frame: a short clip would
# otherwise be over before a browser has even started.
VIEWER_WAIT_S = 30.0
"""Browser view, file sources: how long the first frame waits for a browser to open the page."""
LAST_FRAME_WAIT_S = 10.0
"""Browser view: how long a run that ended on its own waits for a browser to be sent the last frame."""
IMAGES_FPS = 2.0
"""Browser view: images (and videos that state no frame rate) are shown at this rate unless --fps says."""

EXAMPLES = """examples:
  edgecnn run --model rps_int8.tflite                     # default camera, window with label, top-3, FPS
                                                          # (no OpenCV window: the same in the browser)
  edgecnn run --model rps_int8.tflite --source clip.mp4 --headless > predictions.jsonl
  edgecnn run --model rps_int8.tflite --source picamera --serve 0.0.0.0:8000   # Pi without a screen
  edgecnn run --model other.tflite --labels cat,dog --input-size 150x150 --channels RGB   # no contract inside
"""


class _HelpFormatter(DefaultsHelpFormatter):
    """Shows real defaults only: a None or False default is said in words in the help text itself."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="classify a camera, video, image or folder live", formatter_class=_HelpFormatter,
        description="Classify frames live with a .tflite or .onnx model. Preprocessing and labels come from the "
                    "model contract inside the file (or its sidecar).\n\n" + EXAMPLES)
    parser.add_argument("--model", type=Path, default=None, metavar="FILE",
                        help=f"model file (.tflite or .onnx), or an artifact folder (its float32 .tflite for a hand "
                             f"model, int8 for an image model, else what is there); default: the model shipped "
                             f"with edgecnn "
                             f"({SHIPPED_MODEL.name}, when installed)")
    parser.add_argument("--source", default="0",
                        help="camera index, /dev/videoN, video file, image file, folder, rtsp:// or http:// URL, "
                             "or 'picamera'")
    parser.add_argument("--backend", choices=backend_names(), default=None,
                        help="interpreter; default: litert then tflite_runtime for .tflite, onnxruntime for .onnx")
    parser.add_argument("--threads", type=count(1, MAX_THREADS), default=None, metavar="N",
                        help="interpreter threads; default: cores, at most 4")
    parser.add_argument("--threshold", type=float, default=0.5, metavar="P",
                        help='below this confidence the overlay says "unsure"')
    parser.add_argument("--smooth", type=float, default=0.0, metavar="W",
                        help="probability smoothing: weight of the previous average in [0, 1); 0 = off; it starts "
                             "afresh when the hand leaves and at each file of a folder")
    parser.add_argument("--headless", action="store_true",
                        help="no window; print one JSON line per frame to stdout (start-up notes go to stderr)")
    parser.add_argument("--save", type=Path, default=None, metavar="FILE",
                        help="write the annotated video to this .mp4/.avi file")
    parser.add_argument("--serve", metavar="HOST:PORT", default=None,
                        help="web view with MJPEG stream and live label; a bare PORT binds 127.0.0.1")
    parser.add_argument("--no-browser", action="store_true",
                        help="where OpenCV cannot open a window and the live view is served on 127.0.0.1 "
                             "instead, only print its URL; do not open a browser")
    parser.add_argument("--max-frames", type=count(1), default=None, metavar="N",
                        help="stop after this many frames; default: when the source ends")
    parser.add_argument("--fps", type=float, default=0.0, metavar="N",
                        help="pace video/image sources at this frame rate (0: as fast as possible)")
    parser.add_argument("--loop", action="store_true", help="start video/image sources over at their end")
    parser.add_argument("--hand", choices=("auto", "roi", "off"), default=None,
                        help="what the model is shown: auto = find the hand (MediaPipe palm + landmark models) and "
                             "classify its crop, 'no hand' when there is none; roi = a fixed box in the middle of "
                             "the picture; off = the whole frame. Default: auto when the model's contract asks for "
                             "a hand crop, else off")
    parser.add_argument("--invert", action="store_true",
                        help="invert pixels (light-on-dark models such as Fashion-MNIST on ordinary photos)")
    contract = parser.add_argument_group("models without a contract (all three are needed; they override an "
                                         "embedded contract)")
    contract.add_argument("--labels", default=None, metavar="A,B,C", help="comma-separated labels in class-index order")
    contract.add_argument("--input-size", default=None, metavar="HxW", help="model input size, e.g. 150x150")
    contract.add_argument("--channels", choices=CHANNEL_ORDERS, default=None, help="model input channels")
    parser.set_defaults(handler=handle_run)


def handle_run(args: argparse.Namespace) -> int:
    from edgecnn.runtime.backends import open_backend
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.live import LiveOptions, run_live
    from edgecnn.runtime.model_file import read_contract
    from edgecnn.runtime.sources import open_source

    logging.basicConfig(stream=sys.stderr, format="edgecnn run: %(message)s", level=logging.INFO)
    notes = sys.stderr if args.headless else sys.stdout
    shown_in = _where_to_show(args, notes)
    options = LiveOptions(threshold=args.threshold, smooth=args.smooth, headless=args.headless, save=args.save,
                          serve=args.serve, window=shown_in == "window", max_frames=args.max_frames, fps=args.fps)
    model_path = resolve_model_path(args.model)
    backend = open_backend(model_path, args.backend, args.threads)
    contract = _contract_from_flags(args, model_path, backend) or read_contract(model_path)
    classifier = Classifier(backend, contract, invert=args.invert)
    gestures = _hand_gestures(args, classifier, notes)  # before the source: a camera need not open for a bad flag
    source = open_source(args.source, loop=args.loop)
    info = backend.info
    print(f"edgecnn run: {model_path.name} ({contract.format}, {', '.join(contract.labels)}) on {info.name} "
          f"{info.version}, {info.threads} thread(s)", file=notes, flush=True)
    if contract.extra.get("light_on_dark") and not args.invert:
        print(f"edgecnn run: note: {model_path.name} learned light objects on black (like Fashion-MNIST); "
              f"pass --invert for ordinary dark-on-light photos", file=notes, flush=True)
    if args.serve and not source.live and not args.loop:
        # A clip or folder ends in well under a second at this speed: the page would be gone before a browser opens.
        print(f"edgecnn run: note: {args.source} is a file source; the page stops when it ends. Add --loop to "
              "keep serving it until Ctrl-C", file=notes, flush=True)
    extra_sinks = ()
    if shown_in == "browser":
        options, extra_sinks = _browser_view(args, source, options, notes)
    summary = run_live(classifier, source, options, gestures=gestures, extra_sinks=extra_sinks)
    if summary.frames:
        latency = sorted(summary.latency_ms)[len(summary.latency_ms) // 2]
        behind = (f", at most {max(summary.frames_behind)} frame(s) behind the camera"
                  if summary.frames_behind else "")
        print(f"edgecnn run: {summary.frames} frames, median {latency:.2f} ms per frame{behind}", file=notes)
    return 0


def _where_to_show(args: argparse.Namespace, notes) -> str:
    """"window", "browser" (a display but no OpenCV window), or "none" (the flags' own outputs only)."""
    from edgecnn.runtime.sinks import NO_WINDOW_ALTERNATIVES, display_available, opencv_has_gui

    if args.headless or args.serve:
        return "none"
    if not display_available():
        if args.save:
            print(f"edgecnn run: no display: writing {args.save} only, no window", file=notes, flush=True)
            return "none"
        raise OptionError(f"cannot open a window here (no display: DISPLAY and WAYLAND_DISPLAY are unset); "
                          f"{NO_WINDOW_ALTERNATIVES}")
    return "window" if opencv_has_gui() else "browser"


def _browser_view(args: argparse.Namespace, source, options, notes):
    """The web view on a free 127.0.0.1 port, opened in the browser: what stands in for the OpenCV window."""
    import dataclasses

    from edgecnn.runtime.sinks import WebViewSink, open_browser

    view = WebViewSink("127.0.0.1:0", linger_s=LAST_FRAME_WAIT_S, announce=False)
    try:
        where = ("the live view is at" if args.no_browser else "showing the live view in your browser at")
        print(f"edgecnn run: no OpenCV window here (opencv-python-headless); {where} {view.url} (Ctrl-C stops)",
              file=notes, flush=True)
        if not args.no_browser:
            open_browser(view.url)
        if not source.live:
            fps = args.fps or source.fps or IMAGES_FPS
            options = dataclasses.replace(options, fps=fps)
            print(f"edgecnn run: note: {args.source} starts when the page is open (waiting at most "
                  f"{VIEWER_WAIT_S:.0f} s) and plays at {fps:g} frames per second", file=notes, flush=True)
            view.wait_for_viewer(VIEWER_WAIT_S)
    except BaseException:
        view.close(keep=False)
        source.close()
        raise
    return options, (view,)


def _hand_gestures(args: argparse.Namespace, classifier, notes):
    from edgecnn.runtime.gesture import HandGestures, default_hand_mode

    mode = args.hand or default_hand_mode(classifier)
    gestures = HandGestures(classifier, mode)
    if gestures.uses_default_crop:
        print(f"edgecnn run: note: {classifier.path.name}'s contract has no hand crop; --hand {mode} crops with "
              f"the defaults (margin {gestures.crop.margin}, square), then the model's own resize", file=notes,
              flush=True)
    elif mode != "off":
        print(f"edgecnn run: --hand {mode}: the model sees only the hand; frames without one say 'no hand'",
              file=notes, flush=True)
    return gestures


# An artifact folder ('edgecnn train' + 'edgecnn convert') as --model: its best export for this kind of model. A hand
# classifier reads ~735 features: float32 costs nothing next to the hand finder and is what verify compares exactly,
# so it comes first; an image CNN runs fastest as int8 on a CPU (the chapter's export for the Pi).
HAND_EXPORTS = ("tflite_float32", "tflite_int8", "tflite_dynamic", "tflite_float16", "onnx_float32", "onnx_int8")
IMAGE_EXPORTS = ("tflite_int8", "tflite_dynamic", "tflite_float16", "tflite_float32", "onnx_int8", "onnx_float32")


def resolve_model_path(model: Path | None, shipped: Path = SHIPPED_MODEL) -> Path:
    """``--model`` when given (an artifact folder: :func:`best_export`), else the model shipped inside the package."""
    if model is not None:
        return best_export(model) if Path(model).is_dir() else model
    if shipped.is_file():
        return shipped
    raise ModelLoadError(f"no model shipped with this edgecnn ({shipped} is missing); pass --model FILE "
                         f"(a .tflite or .onnx from 'edgecnn convert')")


def best_export(folder: Path) -> Path:
    """The export of an artifact folder ``edgecnn run --model FOLDER`` uses: the first of :data:`HAND_EXPORTS` (a
    hand-feature model, as its ``model.keras`` contract says) or :data:`IMAGE_EXPORTS` that is there."""
    from edgecnn.runtime.contract import HAND_FEATURE_SHAPES, read_sidecar
    from edgecnn.runtime.errors import ContractError

    folder = Path(folder)
    try:
        contract = read_sidecar(folder / "model.keras")
    except ContractError:
        contract = None
    order = HAND_EXPORTS if contract is not None and contract.input_kind in HAND_FEATURE_SHAPES else IMAGE_EXPORTS
    for name in order:
        path = folder / f"model_{name}{'.onnx' if name.startswith('onnx') else '.tflite'}"
        if path.is_file():
            return path
    others = sorted(p for p in folder.glob("model_*") if p.suffix in (".tflite", ".onnx"))
    if others:
        return others[0]
    raise ModelLoadError(f"--model {folder}: a folder with no .tflite or .onnx export; run 'edgecnn convert "
                         f"{folder}' first, or pass the model file")


def _contract_from_flags(args: argparse.Namespace, model_path: Path, backend):
    """A contract from --labels/--input-size/--channels, or None when none of them is given."""
    from edgecnn.runtime.contract import ModelContract

    given = {"--labels": args.labels, "--input-size": args.input_size, "--channels": args.channels}
    if not any(given.values()):
        return None
    missing = [flag for flag, value in given.items() if not value]
    if missing:
        raise OptionError(f"{model_path}: describing a model by flags needs all of --labels, --input-size and "
                          f"--channels; missing {', '.join(missing)}")
    labels = tuple(label.strip() for label in args.labels.split(","))
    if not all(labels) or len(set(labels)) != len(labels):
        raise OptionError(f"--labels {args.labels!r}: expected distinct, non-empty labels separated by commas, "
                          f"e.g. cat,dog")
    units = backend.output.shape[-1] if backend.output.shape else None
    # One output unit with two labels can only be a sigmoid: P(labels[1]).
    activation = "sigmoid" if units == 1 and len(labels) == 2 else "softmax"
    return ModelContract(model_name=model_path.stem, labels=labels, input_size=_parse_size(args.input_size),
                         channel_order=args.channels, output_activation=activation,
                         format=model_path.suffix.lstrip(".").lower())


def _parse_size(text: str) -> tuple[int, int]:
    parts = text.lower().replace(",", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise OptionError(f"--input-size {text!r}: expected HEIGHTxWIDTH, e.g. 150x150")
    return int(parts[0]), int(parts[1])
