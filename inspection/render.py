"""Drawing with OpenCV only (no matplotlib): captioned panels, rows, bars, and an atomic PNG write.

Pictures are BGR uint8 arrays, OpenCV's own layout; callers hand in RGB or gray and :func:`to_bgr` converts.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgecnn.inspect.errors import InspectError
from edgecnn.runtime.atomic import write_bytes_atomic

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
BAR = (200, 120, 40)
FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_SCALE = 0.45
LINE_PX = 18
GAP_PX = 8


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Gray ``(H, W)`` / ``(H, W, 1)`` or RGB ``(H, W, 3)`` uint8 -> BGR uint8."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)


def normalize(values: np.ndarray) -> np.ndarray:
    """Stretches one feature map to 0..255 so its pattern shows; a constant map (a dead ReLU) becomes black."""
    values = values.astype(np.float32)
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.round((values - low) * (255.0 / (high - low))).astype(np.uint8)


def scale_image(image: np.ndarray, factor: float) -> np.ndarray:
    """Blocky (nearest) when enlarging, so single pixels stay visible; area-averaged when shrinking."""
    height, width = image.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    method = cv2.INTER_NEAREST if factor >= 1 else cv2.INTER_AREA
    return cv2.resize(image, size, interpolation=method)


def text_width(text: str) -> int:
    return cv2.getTextSize(text, FONT, TEXT_SCALE, 1)[0][0]


def caption(image_bgr: np.ndarray, lines: list[str]) -> np.ndarray:
    """Adds a white band with ``lines`` of text above the picture (widened if the text is wider)."""
    width = max([image_bgr.shape[1]] + [text_width(line) + 4 for line in lines])
    band = np.full((LINE_PX * len(lines) + 4, width, 3), WHITE, dtype=np.uint8)
    for row, line in enumerate(lines):
        cv2.putText(band, line, (2, LINE_PX * (row + 1) - 4), FONT, TEXT_SCALE, BLACK, 1, cv2.LINE_AA)
    return vstack([band, image_bgr], gap=0)


def hstack(pictures: list[np.ndarray], gap: int = GAP_PX) -> np.ndarray:
    """Side by side, top-aligned, on white."""
    height = max(picture.shape[0] for picture in pictures)
    width = sum(picture.shape[1] for picture in pictures) + gap * (len(pictures) - 1)
    canvas = np.full((height, width, 3), WHITE, dtype=np.uint8)
    x = 0
    for picture in pictures:
        canvas[: picture.shape[0], x: x + picture.shape[1]] = picture
        x += picture.shape[1] + gap
    return canvas


def vstack(pictures: list[np.ndarray], gap: int = GAP_PX) -> np.ndarray:
    """One above the other, left-aligned, on white."""
    width = max(picture.shape[1] for picture in pictures)
    height = sum(picture.shape[0] for picture in pictures) + gap * (len(pictures) - 1)
    canvas = np.full((height, width, 3), WHITE, dtype=np.uint8)
    y = 0
    for picture in pictures:
        canvas[y: y + picture.shape[0], : picture.shape[1]] = picture
        y += picture.shape[0] + gap
    return canvas


def border(picture: np.ndarray, px: int = 1, color: tuple[int, int, int] = (160, 160, 160)) -> np.ndarray:
    return cv2.copyMakeBorder(picture, px, px, px, px, cv2.BORDER_CONSTANT, value=color)


def probability_bars(probabilities: dict[str, float], bar_px: int = 200, top: int = 10) -> np.ndarray:
    """One line per label, most likely first: ``label 0.873`` and a bar of that length."""
    ranked = sorted(probabilities.items(), key=lambda item: -item[1])[:top]
    label_px = max(text_width(f"{label} 0.000") for label, _ in ranked) + 8
    canvas = np.full((LINE_PX * len(ranked) + 4, label_px + bar_px + 4, 3), WHITE, dtype=np.uint8)
    for row, (label, probability) in enumerate(ranked):
        baseline = LINE_PX * (row + 1) - 4
        cv2.putText(canvas, f"{label} {probability:.3f}", (2, baseline), FONT, TEXT_SCALE, BLACK, 1, cv2.LINE_AA)
        length = int(round(bar_px * min(max(probability, 0.0), 1.0)))
        cv2.rectangle(canvas, (label_px, baseline - 11), (label_px + length, baseline), BAR, thickness=-1)
    return canvas


def write_png(path: str | Path, picture_bgr: np.ndarray) -> Path:
    """Encodes and writes the picture atomically; the path must end in .png."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InspectError(f"{path}: expected an output file ending in .png")
    ok, encoded = cv2.imencode(".png", picture_bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise InspectError(f"{path}: OpenCV could not encode the picture as PNG")
    return write_bytes_atomic(path, encoded.tobytes())
