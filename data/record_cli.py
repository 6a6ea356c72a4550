"""``edgecnn record DIR --label NAME``: record frames of one gesture for ``edgecnn train hand_gestures``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from edgecnn.help_format import DefaultsHelpFormatter, count

LIVE_COUNT = 60
"""A live camera records this many frames unless --count says."""
COUNTDOWN_S = 3.0
"""A live camera starts recording after this countdown (time to get the hand in place)."""

EXAMPLES = """examples:
  edgecnn record gestures --label thumb_up                  # webcam: 3 s countdown, then 60 frames, every 5th
  edgecnn record gestures --label thumb_up --source photos/ # every photo with a hand
  edgecnn record gestures --label ok --source clip.mp4 --count 40 --split validation
  edgecnn train hand_gestures --data gestures --out artifacts/gestures
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "record", help="record frames of one hand gesture (for 'edgecnn train hand_gestures')",
        formatter_class=DefaultsHelpFormatter,
        description="Frames with a hand from a camera, video, image or folder, written to DIR/train/LABEL/ (or "
                    "DIR/validation/LABEL/). Frames without a hand are counted and skipped; recording a label "
                    "again adds to it, never overwriting.\n\n" + EXAMPLES)
    parser.add_argument("dir", type=Path, metavar="DIR", help="the data folder (train/ and validation/ go in it)")
    parser.add_argument("--label", required=True, metavar="NAME", help="the gesture's name (its folder)")
    parser.add_argument("--source", default="0",
                        help="camera index, /dev/videoN, video file, image file, folder, rtsp:// URL or 'picamera'")
    parser.add_argument("--count", type=count(1), default=None, metavar="N",
                        help=f"stop after N frames with a hand; default: {LIVE_COUNT} from a camera, every frame "
                             f"of a file or folder")
    parser.add_argument("--split", choices=("train", "validation"), default="train",
                        help="validation: frames held out from training, to measure on")
    parser.add_argument("--every", type=count(1), default=5, metavar="K",
                        help="live camera: record every K-th frame, so the samples vary")
    parser.add_argument("--headless", action="store_true", help="live camera: no picture, progress lines only")
    parser.set_defaults(handler=handle_record)


def handle_record(args: argparse.Namespace) -> int:
    from edgecnn.data.errors import DataError
    from edgecnn.data.record import Recorder, RecordOptions, file_bytes
    from edgecnn.runtime.sources import open_source

    options = RecordOptions(out=args.dir, label=args.label, split=args.split, count=args.count)
    source = open_source(args.source)
    if source.live and options.count is None:
        options = RecordOptions(args.dir, args.label, args.split, LIVE_COUNT)
    recorder = Recorder(options)
    offered = 0
    try:
        if source.live:
            offered = _record_live(source, recorder, args)
        else:
            for frame in source:
                recorder.offer(frame.image, file_bytes(frame.source))
                offered += 1
                if recorder.done:
                    break
    finally:
        source.close()
        summary = recorder.close()
    if not summary.written:
        raise DataError(f"{args.source}: no hand found in any of its {offered} frame(s); nothing recorded "
                        f"(the whole hand must be in the picture)")
    print(f"edgecnn record: {len(summary.written)} frame(s) with a hand -> {summary.folder} (now "
          f"{summary.before + len(summary.written)}; session {summary.session}); {summary.no_hand} without a "
          f"hand skipped, of {offered}")
    return 0


def _record_live(source, recorder, args) -> int:
    """Countdown, then every ``--every``-th frame offered, the picture shown (window or browser) with a counter."""
    from edgecnn.runtime.hands import landmark_box
    from edgecnn.runtime.overlay import OverlayText, draw

    view = None if args.headless else _open_view(source)
    started, offered, number = time.monotonic(), 0, 0
    try:
        for frame in source:
            left = COUNTDOWN_S - (time.monotonic() - started)
            if left <= 0 and number % args.every == 0:
                recorder.offer(frame.image)
                offered += 1
                if view is None and recorder.summary.written:
                    print(f"edgecnn record: {len(recorder.summary.written)}/{recorder.options.count}",
                          file=sys.stderr, flush=True)
            number += 1 if left <= 0 else 0
            if view is not None:
                hand = recorder.last_hand
                box = None if hand is None else landmark_box(hand.landmarks, frame.image.shape)
                title = (f"get ready: {int(left) + 1}" if left > 0 else
                         f"recording {recorder.options.label}: {len(recorder.summary.written)}/"
                         f"{recorder.options.count}")
                annotated = draw(frame.image, OverlayText(title, left <= 0, [], 0.0), box)
                if view.write(frame, annotated, {"label": recorder.options.label}) is False:
                    break
            if recorder.done:
                break
    finally:
        if view is not None:
            view.close(keep=True)
    return offered


def _open_view(source):
    """The live picture: an OpenCV window where one can open, else the browser view; None with no display."""
    from edgecnn.runtime.sinks import WebViewSink, WindowSink, display_available, open_browser, opencv_has_gui

    if not display_available():
        print("edgecnn record: no display: recording without a picture (progress lines below)", file=sys.stderr)
        return None
    if opencv_has_gui():
        return WindowSink(source.name)
    view = WebViewSink("127.0.0.1:0", announce=False)
    print(f"edgecnn record: showing the camera in your browser at {view.url} (Ctrl-C stops)", flush=True)
    open_browser(view.url)
    return view
