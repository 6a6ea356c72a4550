"""Where the hand finder looks while no hand is tracked: the search as a list of looks, each of bounded cost.

A look is one palm-detector call on a square of the frame (:class:`PalmLook`: the whole frame, the frame zoomed out,
a tile) or one landmark-model call on a region of it (:class:`LandmarkLook`: a whole-frame view, a window), plus the
landmark calls that confirm a hand it finds. :func:`search_looks` lists them in the order a full search tries them;
the finder runs them (:meth:`edgecnn.runtime.hands.HandFinder.find`).

* A still picture, and the first frame of a stream, gets every look in order until one finds a hand.
* Later frames of a stream with no hand get one look each (:class:`StreamSearch`): the whole frame on the first two
  frames after a hand is lost and on every fourth frame after that (the look that finds almost every hand a search
  finds: a hand coming into view is found within four frames); between them, first the looks over what changed in
  a still picture, then the other looks in turn. A tracked frame costs one landmark call; an empty room costs one
  landmark call on most frames and one detector call (about two landmark calls) on the rest, instead of up to 50
  calls; a hand that only a costlier look finds waits for it (benchmarks/bench_hand_arrival.py). The costs per state
  are in benchmarks/README.md (``benchmarks/hand_search_cost.py``).

The constants up to ``WINDOW_TURNS`` say what each look is; changing one changes what a still finds, so all of them
are in :meth:`~edgecnn.runtime.hands.HandFinder.settings_key` (the cache key of scanned folders). The rest set a
stream's rhythm (``WHOLE_FRAME_EVERY``, ``MOTION_*``), which a still never meets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import cv2
import numpy as np

from edgecnn.runtime.palm import INPUT_SIZE as PALM_INPUT
from edgecnn.runtime.palm import RotatedRect

# A hand that fills the frame is too big for the palm detector's anchors: it looks again at the frame shrunk into a
# larger black square. 1.6: measured on samples of the rps-real-pi training set, 95% -> 98% hands found.
ZOOM_OUT = 1.6
TILE_FRACTION, MIN_TILE = 0.6, PALM_INPUT  # tile search: 0.6 of the longer side, never below the detector input
# Whole-frame views tried, in order, when the palm detector finds nothing: (rotation in degrees, size as a fraction
# of the frame's longer side). The landmark model expects an upright hand, so a hand entering from the side (a Pi
# camera over a table) needs the frame turned; a hand that fills a tight crop needs the view zoomed out. Order and
# set: the greedy cover of hands found in samples of the rps-real-pi and rps-real-kaust training sets.
FALLBACK_VIEWS = ((0, 1.0), (90, 1.0), (270, 1.0), (270, 1.4))
# Then a finer grid (3 x 2 squares of 0.45 of the longer side: 288 px on a 640x480 frame) for a hand at arm's length
# whose palm the 0.6 tiles still show too small (docs/results/hands.md: the composited scenes, hands at 25-55% of the
# frame height). A landmark model shown a small enlarged patch imagines hands in textures more readily, so a hand found
# there needs a presence of 0.8 (SMALL_VIEW_PRESENCE), not the detector's 0.5.
FINE_TILES = (0.45, 3, 2)
SMALL_VIEW_PRESENCE = 0.8
# Last of all, the landmark model itself on windows of the frame (a 4 x 3 grid of squares of 0.35 of the longer side:
# 224 px on a 640x480 frame, the landmark model's own input size, so nothing is enlarged), upright and turned as the
# whole-frame views are: the whole-frame fallback for a hand that does not fill the frame. The palm detector misses
# hands the landmark model reads (a fist or a flat hand seen from the side, a blurred palm); a window found there needs
# the same presence of 0.8.
WINDOWS = (0.35, 4, 3)
WINDOW_TURNS = (0, 90, 270)
WHOLE_FRAME_EVERY = 4  # frames of a stream with no hand: the whole frame on one of each (after the first two)
# What changed since the last frame, on grey thumbnails: a webcam's noise averages out at this size, a hand does not.
MOTION_SIZE = (64, 48)  # thumbnail (width, height)
MOTION_LEVEL = 24  # grey levels (of 255) a thumbnail pixel must change by
MOTION_PIXELS = 3  # a look over at least this many changed thumbnail pixels (about 17 x 17 frame pixels) is queued
MOTION_EVERYWHERE = 0.5  # when this share of the picture changed (a cut, the light), it says nothing of where to look


@dataclass(frozen=True)
class PalmLook:
    """The palm detector on one square of the frame; the best hand its palms lead to."""

    name: str
    """What this look is, for benchmarks and tests (``"whole frame"``, ``"tile 2/4"``)."""
    tile: tuple[int, int, int] | None = None
    """``(x0, y0, side)`` of a square inside the frame; None: the whole frame padded to a square (letterboxed)."""
    zoom_out: float = 1.0
    """The whole frame only: the square's side as a multiple of the frame's longer side."""
    min_presence: float = 0.0
    """The presence a hand found here needs, on top of the finder's own ``min_presence``."""

    @property
    def calls(self) -> tuple[int, int]:
        """``(palm detector calls, landmark calls)`` when it finds nothing."""
        return 1, 0


@dataclass(frozen=True)
class LandmarkLook:
    """The landmark model on one region of the frame."""

    name: str
    """What this look is, for benchmarks and tests (``"views 1/4"``, ``"windows 90deg 3/12"``)."""
    region: RotatedRect
    """The region shown to the landmark model."""
    min_presence: float = 0.0
    """The presence a hand found here needs, on top of the finder's own ``min_presence``."""

    @property
    def calls(self) -> tuple[int, int]:
        """``(palm detector calls, landmark calls)`` when it finds nothing."""
        return 0, 1


Look = Union[PalmLook, LandmarkLook]
"""One step of the search."""


def search_looks(shape: tuple[int, ...], tile_search: bool = True,
                 views: tuple[tuple[float, float], ...] = FALLBACK_VIEWS) -> tuple[Look, ...]:
    """Every look of a full search of a frame of ``shape``, in order: the whole frame, zoomed out, the tiles, the
    whole-frame views, the fine tiles, then the windows at each turn. ``tile_search=False``: the first two and the
    views only."""
    height, width = shape[:2]
    looks: list = [PalmLook("whole frame"), PalmLook("zoomed out", zoom_out=ZOOM_OUT)]
    if tile_search:
        looks += _tile_looks("tile", tiles(shape))
    side = float(max(height, width))
    regions = [RotatedRect(width / 2.0, height / 2.0, side * scale, math.radians(degrees)) for degrees, scale in views]
    looks += _landmark_looks("views", regions, 0.0)
    if not tile_search:
        return tuple(looks)
    looks += _tile_looks("fine tile", tiles(shape, *FINE_TILES), SMALL_VIEW_PRESENCE)
    grid = tiles(shape, *WINDOWS)
    for degrees in WINDOW_TURNS:
        windows = [RotatedRect(x0 + s / 2.0, y0 + s / 2.0, float(s), math.radians(degrees)) for x0, y0, s in grid]
        looks += _landmark_looks(f"windows {degrees}deg", windows, SMALL_VIEW_PRESENCE)
    return tuple(looks)


class StreamSearch:
    """Which look each frame of a stream gets while no hand is tracked: one look a frame.

    The whole frame on the first two frames after a hand is lost and on every fourth frame after that (the look that
    finds almost every hand a search finds: a hand coming into view is found within four frames; on one frame in
    four, so that most frames cost about what a tracked frame does: one landmark call). Between them, first
    the looks over a part of the picture that changed (a hand coming into view at arm's length, in an otherwise still
    room: the tightest look around the change first, each once per change), then the other looks in turn, where
    the turn left off. A change over half the picture (a cut, the light) says nothing of where to look.
    """

    def __init__(self, looks: tuple[Look, ...], shape: tuple[int, ...]):
        self.looks = looks
        self.frames = 0
        """Frames searched since the hand was lost (or since the full search of the stream's first frame)."""
        self._turn = 0  # the next look of the turn, an index into looks[1:]
        self._queued: list[int] = []  # looks over a changed part of the picture, in the order they run
        self._previous: np.ndarray | None = None
        height, width = shape[:2]
        scale = np.array([MOTION_SIZE[0] / width, MOTION_SIZE[1] / height] * 2)
        self._boxes = [tuple(int(v) for v in np.round(np.array(look_box(look, shape)) * scale)) for look in looks]

    def lost(self) -> None:
        """The tracked hand was lost: the whole frame on the next two frames; what changes is measured afresh."""
        self.frames = 0
        self._queued, self._previous = [], None

    def next_look(self, frame_rgb: np.ndarray) -> Look:
        """The look of this frame (call once per frame: it compares the frame with the last one seen)."""
        self.see(frame_rgb)
        index, self.frames = self.frames, self.frames + 1
        if index < 2 or index % WHOLE_FRAME_EVERY == 1 or len(self.looks) == 1:
            return self.looks[0]
        if self._queued:
            return self.looks[self._queued.pop(0)]
        self._turn += 1
        return self.looks[1 + (self._turn - 1) % (len(self.looks) - 1)]

    def see(self, frame_rgb: np.ndarray) -> None:
        """Queues the looks over what changed since the last frame seen (a frame searched in full is seen too)."""
        small = cv2.cvtColor(cv2.resize(frame_rgb, MOTION_SIZE, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        previous, self._previous = self._previous, small
        if previous is None:
            return
        moved = cv2.absdiff(small, previous) >= MOTION_LEVEL
        if moved.mean() >= MOTION_EVERYWHERE:
            self._queued = []  # a new picture: what was queued for the old one is stale, and nothing says where
            return
        shares = []
        for index, (x0, y0, x1, y1) in enumerate(self._boxes[1:], 1):
            area = moved[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
            if area.sum() >= MOTION_PIXELS and index not in self._queued:
                shares.append((-float(area.mean()), index))  # the tightest look around the change first
        self._queued += [index for _, index in sorted(shares)]


def look_box(look: Look, shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` in frame pixels around what ``look`` looks at (may reach past the frame)."""
    height, width = shape[:2]
    if isinstance(look, PalmLook):
        if look.tile is None:
            return 0.0, 0.0, float(width), float(height)
        x0, y0, side = look.tile
        return float(x0), float(y0), float(x0 + side), float(y0 + side)
    region = look.region
    half = region.size / 2.0 * (abs(math.cos(region.angle)) + abs(math.sin(region.angle)))
    return region.cx - half, region.cy - half, region.cx + half, region.cy + half


def tiles(shape: tuple[int, ...], fraction: float = TILE_FRACTION, across: int = 2, down: int = 2
          ) -> list[tuple[int, int, int]]:
    """Overlapping squares ``(x0, y0, side)`` of ``fraction`` of the frame's longer side, ``across`` x ``down``
    evenly spaced from edge to edge, covering a frame large enough to need them (by default a 2x2 grid on a 640x480
    frame); none for small pictures."""
    height, width = shape[:2]
    tile = int(round(max(height, width) * fraction))
    if tile < MIN_TILE or tile >= min(height, width):
        return []
    xs = sorted({int(round(x)) for x in np.linspace(0, width - tile, across)})
    ys = sorted({int(round(y)) for y in np.linspace(0, height - tile, down)})
    return [(x, y, tile) for y in ys for x in xs]


def _tile_looks(name: str, squares: list[tuple[int, int, int]], min_presence: float = 0.0) -> list[PalmLook]:
    return [PalmLook(f"{name} {n}/{len(squares)}", tile=square, min_presence=min_presence)
            for n, square in enumerate(squares, 1)]


def _landmark_looks(name: str, regions: list[RotatedRect], min_presence: float) -> list[LandmarkLook]:
    return [LandmarkLook(f"{name} {n}/{len(regions)}", region, min_presence)
            for n, region in enumerate(regions, 1)]
