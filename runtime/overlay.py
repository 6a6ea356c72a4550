"""Drawing the prediction on the frame: label and confidence (or "unsure"), top-3 bars, frames per second."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

MIN_WIDTH = 320  # small images (28x28 CGI hands) are scaled up so the text stays readable
_ROW, _BARS_TOP = 18, 44


def band_height(bars: int) -> int:
    """Height in overlay pixels of the darkened band behind the title and ``bars`` probability bars."""
    return _BARS_TOP + _ROW * bars + 4


MIN_HEIGHT = 4 * band_height(3)  # smaller frames (225x150 Pi photos) are scaled up so the band covers at most a quarter
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE, _GRAY, _GREEN, _ORANGE = (255, 255, 255), (70, 70, 70), (60, 220, 60), (0, 160, 255)
_BOX = (255, 200, 0)


@dataclass(frozen=True)
class OverlayText:
    """What the overlay shows for one frame."""

    title: str
    """``"rock 97%"`` or ``"unsure (rock 41%)"``."""
    sure: bool
    """False when the confidence is below the threshold."""
    top: list[tuple[str, float]]
    """Up to three ``(label, probability)`` pairs, best first."""
    fps: float
    """Frames per second of the whole loop."""


def describe(labels: tuple[str, ...], probabilities: np.ndarray, threshold: float, fps: float) -> OverlayText:
    order = np.argsort(-probabilities)[:3]
    top = [(labels[i], float(probabilities[i])) for i in order]
    label, confidence = top[0]
    sure = confidence >= threshold
    title = f"{label} {confidence:.0%}" if sure else f"unsure ({label} {confidence:.0%})"
    return OverlayText(title, sure, top, fps)


def describe_no_hand(reason: str, fps: float) -> OverlayText:
    """The overlay of a frame with no class to show: ``reason`` (``"no hand"``, or ``"no gesture"`` for a hand that
    shows none of the model's gestures) as the title, no bars, never a class."""
    return OverlayText(reason, False, [], fps)


def draw(frame_rgb: np.ndarray, text: OverlayText, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Returns a BGR copy of the frame (scaled up to at least ``MIN_WIDTH`` x ``MIN_HEIGHT`` when smaller, aspect
    kept) with the overlay drawn on it; ``box`` (frame pixels) is the region the model was shown."""
    image = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
    scale = max(1.0, MIN_WIDTH / image.shape[1], MIN_HEIGHT / image.shape[0])
    if scale > 1.0:
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_NEAREST)
    if box is not None:
        x0, y0, x1, y1 = (round(v * scale) for v in box)
        cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), _BOX, 2)
    width = image.shape[1]
    panel = image[:min(image.shape[0], band_height(len(text.top)))]
    panel //= 3  # darken the band behind the text so it reads on any background
    _text(image, text.title, (8, 28), 0.75, _GREEN if text.sure else _ORANGE)
    fps_text = fps_label(text.fps)
    (fps_width, _), _ = cv2.getTextSize(fps_text, _FONT, 0.5, 1)
    _text(image, fps_text, (width - fps_width - 8, 55), 0.5, _WHITE)  # beside the bars, clear of long titles
    bar_width = max(40, width // 4)
    for row, (label, probability) in enumerate(text.top):
        y = _BARS_TOP + row * _ROW
        cv2.rectangle(image, (8, y), (8 + bar_width, y + 12), _GRAY, -1)
        cv2.rectangle(image, (8, y), (8 + round(bar_width * probability), y + 12), _GREEN, -1)
        _text(image, f"{label} {probability:.2f}", (14 + bar_width, y + 11), 0.45, _WHITE)
    return image


def _text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float, color) -> None:
    cv2.putText(image, text, origin, _FONT, scale, color, 1, cv2.LINE_AA)


def fps_label(fps: float) -> str:
    """``"12.3 FPS"``; ``"-- FPS"`` before there is a rate to show (one frame, a still picture)."""
    return f"{fps:.1f} FPS" if fps > 0 else "-- FPS"


class FpsMeter:
    """Frames per second over the last ``window`` frames."""

    def __init__(self, window: int = 30):
        self._times: deque[float] = deque(maxlen=window)

    def tick(self) -> float:
        self._times.append(time.perf_counter())
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-9)
