"""Motion-blurred copies of image folders: the hand a webcam sees in a dim room or mid-gesture.

A webcam's exposure grows in ordinary indoor light, and a hand moving into a gesture smears over a few to a few
dozen pixels. Measured on the held-out rps-real-kaust clips (docs/results/hands.md, per clip), most frames the
classifier gets wrong come from the two groups of frames smeared that way, while most sharp clips of other
people and rooms are read at 84-100%. Training on blurred copies shows the classifier what the hand landmark model
makes of such frames. Blur the hand-free photos the same way, so that blur alone never means "a hand".

``edgecnn data motion-blur SRC OUT`` writes ``OUT/<split>/<class>/<name>.jpg`` for every image of ``SRC``, names
kept (hold-out rules by name, such as rps-real-kaust's whole clips, put each copy where its source image is), one
straight-line blur per image with a length and direction drawn from a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgecnn.data.errors import DataError
from edgecnn.data.image_files import WriteCounts, check_output_folder, write_jpeg
from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.images import is_image_file, read_image_rgb


@dataclass(frozen=True)
class MotionBlurOptions:
    """How the copies are blurred."""

    length: tuple[float, float] = (0.03, 0.14)
    """Range of the smear's length as a fraction of the image's shorter side, drawn uniformly (5-21 pixels on the
    150-pixel pictures of the hand sets)."""
    seed: int = 0
    """Seed of the lengths and directions: the same command gives the same copies."""
    jpeg_quality: int = 92
    """Quality of the written copies."""


def line_kernel(length: int, degrees: float) -> np.ndarray:
    """A normalised ``(length, length)`` kernel: a straight smear of ``length`` pixels through its centre."""
    length = max(1, int(length)) | 1  # odd: the smear is centred on the pixel
    kernel = np.zeros((length, length), np.float32)
    centre = (length - 1) / 2.0
    dx, dy = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    for step in np.linspace(-centre, centre, 2 * length):
        kernel[int(round(centre + step * dy)), int(round(centre + step * dx))] = 1.0
    return kernel / kernel.sum()


def motion_blur(image_rgb: np.ndarray, rng: np.random.Generator, options: MotionBlurOptions = MotionBlurOptions()
                ) -> np.ndarray:
    """``image_rgb`` smeared along one random direction by a random length (see :class:`MotionBlurOptions`)."""
    length = round(min(image_rgb.shape[:2]) * rng.uniform(*options.length))
    return cv2.filter2D(image_rgb, -1, line_kernel(length, rng.uniform(0.0, 180.0)), borderType=cv2.BORDER_REFLECT)


def blur_folder(src: Path, out: Path, options: MotionBlurOptions = MotionBlurOptions()) -> WriteCounts:
    """Writes a blurred copy of every image under ``src`` to the same relative path under ``out`` (as ``.jpg``)."""
    src, out = Path(src), Path(out)
    files = sorted(p for p in src.rglob("*") if p.is_file() and is_image_file(p)) if src.is_dir() else []
    if not files:
        raise DataError(f"{src}: no image files (expected <split>/<class>/<image files>)")
    check_output_folder(src, out)
    rng = np.random.default_rng(options.seed)
    counts = WriteCounts()
    for path in files:
        draw = np.random.default_rng(rng.integers(2**63))  # one generator per file: a bad file shifts no other draw
        try:
            image = read_image_rgb(path)
        except SourceError as err:
            counts.unreadable.append(str(err))
            continue
        write_jpeg(out / path.relative_to(src).with_suffix(".jpg"), motion_blur(image, draw, options),
                   options.jpeg_quality, path)
        counts.written += 1
    return counts
