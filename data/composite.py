"""Hands at webcam scale: photos of hands placed into larger real photos, as a camera frame shows them.

The hand sets here are close-ups (the hand fills the picture), but a laptop camera sees a hand at arm's length: a
quarter to a half of the frame's height, anywhere, sometimes cut by the edge, with a room around it. The runtime's
hand finder then crops and enlarges a small hand, which a classifier trained on close-ups has never seen.
``edgecnn data composite-hands SRC BACKGROUNDS OUT`` writes one such frame per image of ``SRC``:

* ``OUT`` mirrors ``SRC``'s splits and class folders, and each frame keeps its source image's file name, so every
  hold-out rule by name (rps-real-kaust's whole clips) puts a composite where its source image is;
* the background of a split comes from the same split of ``BACKGROUNDS`` (its train photos for train, its
  validation photos for validation; train when it has no such split), so held-out photos stay held out;
* a hand photographed on a green screen (rps-real-pi: more than half of the picture's border is green) is keyed out
  and only the hand and arm are placed, upright (arm down, as a raised hand shows) or as photographed, half each;
  any other photo is placed whole, its own background around the hand;
* sizes and positions are drawn from a seeded generator: the same command gives the same frames.

:func:`place_hand` is also how ``scripts/measure_hands.py`` builds its evaluation scenes (from other hands and other
photos), so a model trained on composites is measured there on the same kind of picture, not on new kinds of rooms.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgecnn.data.errors import DataError
from edgecnn.data.image_files import WriteCounts, check_output_folder, split_folders, write_jpeg
from edgecnn.data.loader import class_folders
from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.images import is_image_file, read_image_rgb


@dataclass(frozen=True)
class CompositeOptions:
    """How hands are placed into the background photos."""

    frame_size: tuple[int, int] = (480, 640)
    """``(height, width)`` of the frames made; each background photo is resized to it (a webcam's VGA frame)."""
    hand_height: tuple[float, float] = (0.25, 0.55)
    """The hand picture's longer side, as a range of fractions of the frame height, drawn uniformly (arm's length)."""
    past_edge: float = 0.2
    """How far past the frame's edge a hand may reach, as a fraction of its own size (hands cut by the edge)."""
    seed: int = 0
    """Seed of the sizes, positions and background choices (per split, so splits do not share draws)."""
    jpeg_quality: int = 92
    """Quality of the written frames."""


GREEN_HUE = (35, 90)  # OpenCV hue (0-180) of the rps-real-pi screen, with saturation >= 60 and value >= 40
GREEN_BORDER = 0.5  # share of border pixels that must be screen green for a photo to be keyed


def green_screen_alpha(hand_rgb: np.ndarray) -> np.ndarray | None:
    """``(H, W)`` float32 alpha (1 = hand) of a photo taken on a green screen, or None when it was not."""
    hsv = cv2.cvtColor(hand_rgb, cv2.COLOR_RGB2HSV)
    green = ((hsv[..., 0] >= GREEN_HUE[0]) & (hsv[..., 0] <= GREEN_HUE[1]) & (hsv[..., 1] >= 60)
             & (hsv[..., 2] >= 40)).astype(np.uint8)
    border = np.concatenate([green[0], green[-1], green[:, 0], green[:, -1]])
    if border.mean() < GREEN_BORDER:
        return None
    hand = cv2.erode(1 - green, np.ones((3, 3), np.uint8))  # the screen's green fringe stays behind
    return cv2.GaussianBlur(hand.astype(np.float32), (5, 5), 0)


def place_hand(background_rgb: np.ndarray, hand_rgb: np.ndarray, rng: np.random.Generator,
               options: CompositeOptions = CompositeOptions(), alpha: np.ndarray | None = None) -> np.ndarray:
    """A copy of ``background_rgb`` (already at ``options.frame_size``) with ``hand_rgb`` pasted at a random size and
    position (its longer side ``hand_height`` of the frame height; up to ``past_edge`` of it outside the frame);
    with ``alpha`` (same size as the hand, 1 = hand), only the hand is blended in."""
    frame_h, frame_w = options.frame_size
    frame = background_rgb.copy()
    side = int(frame_h * rng.uniform(*options.hand_height))
    scale = side / max(hand_rgb.shape[:2])
    patch = cv2.resize(hand_rgb, (max(1, round(hand_rgb.shape[1] * scale)), max(1, round(hand_rgb.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    ph, pw = patch.shape[:2]
    x = int(rng.uniform(-options.past_edge * pw, frame_w - (1 - options.past_edge) * pw))
    y = int(rng.uniform(-options.past_edge * ph, frame_h - (1 - options.past_edge) * ph))
    x0, y0, x1, y1 = max(0, x), max(0, y), min(frame_w, x + pw), min(frame_h, y + ph)
    inside = patch[y0 - y:y1 - y, x0 - x:x1 - x]
    if alpha is None:
        frame[y0:y1, x0:x1] = inside
        return frame
    weight = cv2.resize(alpha, (pw, ph), interpolation=cv2.INTER_AREA)[y0 - y:y1 - y, x0 - x:x1 - x, None]
    frame[y0:y1, x0:x1] = (weight * inside + (1.0 - weight) * frame[y0:y1, x0:x1]).round().astype(np.uint8)
    return frame


def composite_hands(src: Path, backgrounds: Path, out: Path, options: CompositeOptions = CompositeOptions(),
                    progress=None) -> dict[str, WriteCounts]:
    """Writes ``OUT/<split>/<class>/<name>.jpg`` for every image of ``SRC/<split>/<class>/`` (see the module)."""
    src, backgrounds, out = Path(src), Path(backgrounds), Path(out)
    splits = split_folders(src)
    check_output_folder(src, out)
    counts = {}
    for split_dir in splits:
        photos = _background_files(backgrounds, split_dir.name)
        rng = np.random.default_rng([options.seed, int(hashlib.sha1(split_dir.name.encode()).hexdigest()[:8], 16)])
        done = counts[split_dir.name] = WriteCounts()
        for name in class_folders(split_dir):
            for path in sorted(p for p in (split_dir / name).iterdir() if is_image_file(p)):
                photo = photos[int(rng.integers(len(photos)))]
                try:
                    hand, room = read_image_rgb(path), read_image_rgb(photo)
                except SourceError as err:
                    done.unreadable.append(str(err))
                    continue
                room = cv2.resize(room, options.frame_size[::-1], interpolation=cv2.INTER_LINEAR)
                alpha = green_screen_alpha(hand)
                if alpha is not None and rng.random() < 0.5:  # arm to the bottom edge, as a raised hand shows
                    hand, alpha = cv2.rotate(hand, cv2.ROTATE_90_CLOCKWISE), cv2.rotate(alpha, cv2.ROTATE_90_CLOCKWISE)
                frame = place_hand(room, hand, rng, options, alpha)
                write_jpeg(out / split_dir.name / name / (path.stem + ".jpg"), frame, options.jpeg_quality, path)
                done.written += 1
        if progress is not None:
            progress(f"{split_dir.name}: {done.written} frames on {len(photos)} background photos")
    return counts


def _background_files(backgrounds: Path, split: str) -> list[Path]:
    folder = backgrounds / split if (backgrounds / split).is_dir() else backgrounds / "train"
    if not folder.is_dir():
        folder = backgrounds
    files = sorted(p for p in folder.rglob("*") if p.is_file() and is_image_file(p))
    if not files:
        places = " or ".join(dict.fromkeys((f"{split}/", "train/", "the folder itself")))
        raise DataError(f"{backgrounds}: no background photos (expected image files under {places})")
    return files
