"""Where the hand finder looks while no hand is tracked: the search as a list of looks, each of bounded cost.

A look is one palm-detector call on a square of the frame (:class:`PalmLook`: the whole frame, the frame zoomed out,
a tile) or up to two landmark-model calls on regions of it (:class:`LandmarkLook`: whole-frame views, windows), plus
the landmark calls that confirm a hand it finds. :func:`search_looks` lists them in the order a full search tries
them; the finder runs them (:meth:`edgecnn.runtime.hands.HandFinder.find`).

* A still picture, and the first frame of a stream, gets every look in order until one finds a hand.
* Later frames of a stream with no hand get one look each (:func:`look_for_frame`): the whole frame on the first two
  frames after a hand is lost and on every other frame after that (the look that finds almost every hand a search
  finds, so a hand coming into view is found within two frames), and the costlier looks in turn between them. An empty
  room then costs one detector call (or two landmark calls) per frame, about twice a tracked frame, instead of up to
  60 calls; a hand only the last looks find (at arm's length, edge-on) waits for its turn, at most
  ``2 * (len(looks) - 1)`` frames. The costs per state are in benchmarks/README.md (``benchmarks/hand_search_cost.py``).

The constants say what each look is; changing one changes what a still finds, so all of them are in
:meth:`~edgecnn.runtime.hands.HandFinder.settings_key` (the cache key of scanned folders).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

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
LANDMARK_CALLS_PER_LOOK = 2  # a landmark call costs about half a detector call: two make a look of the same cost


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
    """The landmark model on regions of the frame, in order; the first hand present enough there wins."""

    name: str
    """What this look is, for benchmarks and tests (``"views 1-2/4"``, ``"windows 90deg 3-4/12"``)."""
    regions: tuple[RotatedRect, ...]
    """The regions shown to the landmark model, in order."""
    min_presence: float = 0.0
    """The presence a hand found here needs, on top of the finder's own ``min_presence``."""

    @property
    def calls(self) -> tuple[int, int]:
        """``(palm detector calls, landmark calls)`` when it finds nothing."""
        return 0, len(self.regions)


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


def look_for_frame(looks: tuple[Look, ...], frames_searched: int) -> Look:
    """The one look of a stream's frame ``frames_searched`` frames into a search (0: the frame the hand was lost, or
    the frame after a full search found nothing): the whole frame at 0, 1, 3, 5, ...; the other looks in turn at 2,
    4, 6, ... (see the module docstring)."""
    if frames_searched < 2 or frames_searched % 2 == 1 or len(looks) == 1:
        return looks[0]
    rest = looks[1:]
    return rest[(frames_searched // 2 - 1) % len(rest)]


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
    step = LANDMARK_CALLS_PER_LOOK
    return [LandmarkLook(f"{name} {n + 1}-{min(n + step, len(regions))}/{len(regions)}",
                         tuple(regions[n:n + step]), min_presence) for n in range(0, len(regions), step)]
