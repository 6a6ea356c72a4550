"""The live loop: read a frame -> classify -> smooth -> overlay -> JSON / window / video file / web view.

Kept short on purpose: like the TensorFlow Raspberry Pi example, it should be readable in one sitting. Each output
is a small sink (``runtime/sinks.py``) with ``write(frame, annotated_bgr, record)`` and ``close()``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from edgecnn.runtime.classifier import Classifier
from edgecnn.runtime.errors import OptionError
from edgecnn.runtime.gesture import GestureResult, HandGestures
from edgecnn.runtime.overlay import FpsMeter, describe, describe_no_hand, draw
from edgecnn.runtime.sinks import VIDEO_CODECS, JsonLinesSink, VideoFileSink, WebViewSink, WindowSink
from edgecnn.runtime.smoothing import ProbabilitySmoother
from edgecnn.runtime.sources import Frame, Source

log = logging.getLogger("edgecnn.runtime")


@dataclass(frozen=True)
class LiveOptions:
    """How ``edgecnn run`` shows and records the predictions."""

    threshold: float = 0.5
    """Below this confidence the overlay says "unsure"."""
    smooth: float = 0.0
    """Weight of the previous average in the probability smoothing, in [0, 1); 0 = off. A frame with no hand, and
    each file of a folder, starts the average afresh."""
    headless: bool = False
    """Print one JSON line per frame to stdout instead of opening a window."""
    save: Path | None = None
    """Write the annotated frames to this .mp4/.avi file."""
    serve: str | None = None
    """``HOST:PORT`` of the web view, or None."""
    window: bool = True
    """Show the annotated frames in a window (q or Esc quits)."""
    max_frames: int | None = None
    """Stop after this many frames (None: until the source ends)."""
    fps: float = 0.0
    """Pace file sources at this many frames per second (0: as fast as they decode)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise OptionError(f"--threshold must be in [0, 1], got {self.threshold}")
        if self.max_frames is not None and self.max_frames < 1:
            raise OptionError(f"--max-frames must be >= 1, got {self.max_frames}")
        if self.fps < 0:
            raise OptionError(f"--fps must be >= 0, got {self.fps}")
        if self.save is not None and Path(self.save).suffix.lower() not in VIDEO_CODECS:
            raise OptionError(f"--save {self.save}: expected a file ending in {', '.join(VIDEO_CODECS)}")


@dataclass
class RunSummary:
    """What a run did, for the closing line on stderr."""

    frames: int = 0
    """Frames classified."""
    latency_ms: list[float] = field(default_factory=list)
    """Per-frame classify latency."""
    frames_behind: list[int] = field(default_factory=list)
    """Live sources, per prediction: frames captured after the one classified, by the time its prediction was ready
    (0 or 1 while the model is faster than the camera; more when a frame's processing took longer than that)."""


def prediction_record(frame: Frame, labels: tuple[str, ...], probabilities: np.ndarray, latency_ms: float) -> dict:
    """The JSON line of one frame (``--headless``, ``/predictions``)."""
    index = int(np.argmax(probabilities))
    return {"timestamp": frame.timestamp, "source": frame.source, "label": labels[index], "index": index,
            "confidence": float(probabilities[index]),
            "probabilities": {label: float(p) for label, p in zip(labels, probabilities)},
            "latency_ms": latency_ms}


def no_hand_record(frame: Frame, result: GestureResult) -> dict:
    """The JSON line of a frame where the model was given nothing to classify: never a class."""
    return {"timestamp": frame.timestamp, "source": frame.source, "label": None, "index": None,
            "confidence": None, "probabilities": None, "reason": result.reason, "latency_ms": result.latency_ms}


def _hand_fields(result: GestureResult) -> dict:
    fields: dict = {"box": None if result.box is None else list(result.box)}
    if result.hand is not None:
        fields["hand"] = {"presence": round(result.hand.presence, 4), "found_by": result.hand.found_by}
    return fields


def run_live(classifier: Classifier, source: Source, options: LiveOptions,
             stdout: IO[str] | None = None, extra_sinks: tuple = (), gestures: HandGestures | None = None
             ) -> RunSummary:
    """Runs the loop until the source ends, ``max_frames`` is reached, or q/Esc in the window.

    ``gestures`` decides what the model is shown (``--hand``); None: the whole frame. ``extra_sinks`` are added
    to the ones the options ask for (same interface: ``needs_image``, ``write(frame, annotated_bgr, record)``,
    ``close(keep)``, optionally ``drain()`` once the source ended), e.g. a benchmark's timer or the CLI's browser
    view; they are closed with the others.
    """
    gestures = gestures or HandGestures(classifier, "off")
    sinks = _open_sinks(options, stdout, source, extra_sinks)
    smoother = ProbabilitySmoother(options.smooth)
    fps_meter, summary = FpsMeter(), RunSummary()
    pace = _Pacer(0.0 if source.live else options.fps)
    finished, last_source = False, None
    try:
        for frame in source:
            pace.wait()
            if not frame.source.isdigit() and frame.source != last_source:
                gestures.reset()  # another file of a folder: nothing to track from the last one
                smoother.reset()  # nor to average with
            last_source = frame.source
            result = gestures.classify(frame.image)
            if source.live:
                summary.frames_behind.append(source.captured - frame.captured)
            if result.prediction is None:
                smoother.reset()  # the hand left: the next one is not averaged with it
                record = no_hand_record(frame, result)
                text = describe_no_hand(result.reason or "no hand", fps_meter.tick())
            else:
                probabilities = smoother.update(result.prediction.probabilities)
                record = prediction_record(frame, classifier.labels, probabilities, result.latency_ms)
                text = describe(classifier.labels, probabilities, options.threshold, fps_meter.tick())
            if gestures.mode != "off":
                record.update(_hand_fields(result))
            annotated = draw(frame.image, text, result.box) if _needs_image(sinks) else None
            summary.frames += 1
            summary.latency_ms.append(result.latency_ms)
            if any(sink.write(frame, annotated, record) is False for sink in sinks):
                break
            if options.max_frames is not None and summary.frames >= options.max_frames:
                break
        finished = True
        for sink in sinks:
            if hasattr(sink, "drain"):
                sink.drain()  # e.g. the browser view: until a browser was sent the last frame
    except KeyboardInterrupt:
        finished = True  # Ctrl-C is how a camera run stops: keep what was recorded
        raise
    finally:
        for sink in sinks:
            sink.close(keep=finished)
        source.close()
    return summary


class _Pacer:
    def __init__(self, fps: float):
        self.period = 1.0 / fps if fps > 0 else 0.0
        self.next = time.perf_counter()

    def wait(self) -> None:
        if self.period:
            delay = self.next - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.next = max(self.next, time.perf_counter() - self.period) + self.period


def _needs_image(sinks: list) -> bool:
    return any(sink.needs_image for sink in sinks)


def _open_sinks(options: LiveOptions, stdout: IO[str] | None, source: Source, extra_sinks: tuple = ()) -> list:
    openers = []
    if options.headless:
        openers.append(lambda: JsonLinesSink(stdout))
    if options.save is not None:
        openers.append(lambda: VideoFileSink(Path(options.save), options.fps or source.fps or 10.0))
    if options.serve is not None:
        openers.append(lambda: WebViewSink(options.serve))
    if options.window and not options.headless:
        openers.append(lambda: WindowSink(source.name))
    sinks: list = []
    try:
        for open_sink in openers:
            sinks.append(open_sink())
    except BaseException:
        for sink in sinks + list(extra_sinks):  # e.g. the web server started but no window can open: stop it again
            sink.close(keep=False)
        source.close()
        raise
    return sinks + list(extra_sinks)
