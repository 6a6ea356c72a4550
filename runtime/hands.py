"""Finding the hand in a frame: MediaPipe's palm detector + hand landmark model, tracked between frames, TF-free.

``HandFinder.open().find(frame_rgb) -> Hand | None``. Per frame:

1. while a hand is tracked, the landmark model runs on the region the previous frame's landmarks give (no detector);
2. otherwise the palm detector (:mod:`edgecnn.runtime.palm`) proposes hand regions, best first (on the whole frame,
   then the frame zoomed out for a hand that fills it, then tiles of a large frame for a small hand);
3. when it finds none (a hand that fills the frame, or is cut by its edge: the detector needs the whole palm), the
   landmark model runs on the whole frame padded to a square before deciding there is no hand;
4. last, finer tiles for a hand at arm's length, then the landmark model on windows of the frame, upright and turned
   (a hand at arm's length that the palm detector misses).

A still picture (and the first frame of a stream after a hand was lost) gets every step. Later frames of a stream
with no hand run the whole-frame steps and one of the costlier searches (tiles, whole-frame views, fine tiles, the
windows at each turn) in turn, so an empty room costs a fraction of a full search per frame and a small hand is found
within six frames.

A region is accepted when the landmark model's hand-presence score reaches ``min_presence``; a hand found by a search
is looked at once more in the region its own landmarks give (as tracking would), a better-centred view. Its 21
landmarks give the tight box the classifier is shown (:meth:`Hand.crop_box`) and the features of the hand classifiers
(:mod:`edgecnn.runtime.hand_features`). Several hands: the one with the highest presence score (a tracked hand keeps
priority while it stays present). Both models ship in ``runtime/models`` (``scripts/fetch-hand-models.py``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgecnn.runtime.backends import Backend, open_backend
from edgecnn.runtime.errors import ModelLoadError
from edgecnn.runtime.palm import INPUT_SIZE as PALM_INPUT
from edgecnn.runtime.palm import (
    RotatedRect,
    decode_palms,
    letterbox,
    palm_to_hand_rect,
    unit_tensor,
    upright_angle,
)

MODELS_DIR = Path(__file__).resolve().parent / "models"
PALM_MODEL = MODELS_DIR / "palm_detection_lite.tflite"
LANDMARK_MODEL = MODELS_DIR / "hand_landmark_lite_embedding.tflite"
"""MediaPipe's landmark model with its pooled features as a 5th output (``scripts/expose-hand-embedding.py``)."""
LANDMARK_INPUT = 224
EMBEDDING_SIZE = 672  # the landmark model's global-average-pooled features, read by its three heads
LANDMARKS = 21
WRIST, INDEX_BASE, MIDDLE_BASE, RING_BASE, PINKY_BASE = 0, 5, 9, 13, 17
# Landmarks -> next frame's region (hand_landmark_landmarks_to_roi.pbtxt): palm points, upright, 2x, nudged up.
_PALM_POINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
TRACK_SCALE, TRACK_SHIFT_Y = 2.0, -0.1
# Whole-frame views tried, in order, when the palm detector finds nothing: (rotation in degrees, size as a fraction
# of the frame's longer side). The landmark model expects an upright hand, so a hand entering from the side (a Pi
# camera over a table) needs the frame turned; a hand that fills a tight crop needs the view zoomed out. Order and
# set: the greedy cover of hands found in samples of the rps-real-pi and rps-real-kaust training sets.
# A hand that fills the frame is too big for the palm detector's anchors: it looks again at the frame shrunk into a
# larger black square. 1.6: measured on samples of the rps-real-pi training set, 95% -> 98% hands found.
ZOOM_OUT = 1.6
TILE_FRACTION, MIN_TILE = 0.6, PALM_INPUT  # tile search: 0.6 of the longer side, never below the detector input
# Last, a finer grid (3 x 2 squares of 0.45 of the longer side: 288 px on a 640x480 frame) for a hand at arm's length
# whose palm the 0.6 tiles still show too small (docs/results/hands.md: the composited scenes, hands at 25-55% of the
# frame height). A landmark model shown a small enlarged patch imagines hands in textures more readily, so a hand found
# there needs a presence of 0.8 (SMALL_VIEW_PRESENCE), not the detector's 0.5.
FINE_TILES = (0.45, 3, 2)
SMALL_VIEW_PRESENCE = 0.8
# Last of all, the landmark model itself on windows of the frame (a 4 x 3 grid of squares of 0.35 of the longer side:
# 224 px on a 640x480 frame, the landmark model's own input size, so nothing is enlarged), upright and turned as the
# whole-frame views are: the whole-frame fallback for a hand that does not fill the frame. The palm detector misses
# hands the landmark model reads (a fist or a flat hand seen from the side, a blurred palm); a window found there needs
# the same presence of 0.8. Each turn is its own search in a stream, so a frame runs at most 12 landmark calls.
WINDOWS = (0.35, 4, 3)
WINDOW_TURNS = (0, 90, 270)
FALLBACK_VIEWS = ((0, 1.0), (90, 1.0), (270, 1.0), (270, 1.4))


@dataclass(frozen=True)
class Hand:
    """A hand found in one frame."""

    presence: float
    """The landmark model's hand-presence probability, in [0, 1]."""
    landmarks: np.ndarray
    """``(21, 3)`` float32: x, y in frame pixels, depth in frame pixels relative to the wrist (MediaPipe order)."""
    right: float
    """The landmark model's probability that this is a right hand (as seen by the camera)."""
    found_by: str
    """``"tracking"``, ``"palm"`` (the palm detector) or ``"frame"`` (landmarks on the whole frame)."""
    region: RotatedRect
    """The region the landmark model was shown."""
    embedding: np.ndarray | None = None
    """``(672,)`` float32: the landmark model's pooled features of that region (what its heads read); None when the
    landmark model file does not expose them (MediaPipe's unchanged file has 4 outputs)."""

    def crop_box(self, frame_shape: tuple[int, ...], margin: float = 0.25, square: bool = True
                 ) -> tuple[int, int, int, int]:
        """The box the classifier is shown: :func:`landmark_box` of this hand's landmarks."""
        return landmark_box(self.landmarks, frame_shape, margin, square)

class HandFinder:
    """Palm detector + landmark model on one interpreter backend, with the tracked region between frames."""

    def __init__(self, palm: Backend, landmark: Backend, min_presence: float = 0.5, min_palm_score: float = 0.5,
                 max_palms: int = 2, fallback_views: tuple[tuple[float, float], ...] = FALLBACK_VIEWS,
                 tile_search: bool = True):
        self.palm, self.landmark = palm, landmark
        self.tile_search = tile_search
        self.fallback_views = fallback_views
        self.min_presence, self.min_palm_score, self.max_palms = min_presence, min_palm_score, max_palms
        self._tracked: RotatedRect | None = None
        self._frames_without_hand = 0  # since the last hand or reset(): 0 means the full search
        _check_io(palm, ((1, PALM_INPUT, PALM_INPUT, 3),), (2,))
        self.embeds = _check_io(landmark, ((1, LANDMARK_INPUT, LANDMARK_INPUT, 3),), (4, 5)) == 5
        """Whether the landmark model returns its embedding too (:attr:`Hand.embedding`)."""

    @classmethod
    def open(cls, palm_model: str | Path = PALM_MODEL, landmark_model: str | Path = LANDMARK_MODEL,
             backend: str | None = None, threads: int | None = None, **options) -> HandFinder:
        """Loads both models (a missing or broken file is a :class:`ModelLoadError` naming it)."""
        return cls(open_backend(palm_model, backend, threads), open_backend(landmark_model, backend, threads),
                   **options)

    def settings_key(self) -> str:
        """Everything that changes what :meth:`find` returns for a still picture (cache keys of scanned folders)."""
        models = "|".join(f"{b.path.name}:{b.path.stat().st_size}" for b in (self.palm, self.landmark))
        return (f"{models}|{self.min_presence}|{self.min_palm_score}|{self.max_palms}|{self.fallback_views}|"
                f"{self.tile_search}|{TILE_FRACTION}|{ZOOM_OUT}|{FINE_TILES}|{SMALL_VIEW_PRESENCE}|refined|"
                f"{WINDOWS}|{WINDOW_TURNS}")

    def reset(self) -> None:
        """Forget the tracked hand (a new, unrelated picture follows: image folders); its search is the full one."""
        self._tracked = None
        self._frames_without_hand = 0

    def find(self, frame_rgb: np.ndarray, track: bool = True) -> Hand | None:
        """The most confident hand in an ``(H, W, 3)`` RGB frame, or None when there is none."""
        if not track:
            self.reset()
        if self._tracked is not None:
            hand = self._landmarks(frame_rgb, self._tracked, "tracking")
            if hand is not None:
                self._tracked = track_region(hand)
                return hand
            self._tracked = None
        misses = self._frames_without_hand
        searches = self._searches if misses == 0 else (self._searches[(misses - 1) % len(self._searches)],)
        hand = self._detect(frame_rgb, searches)
        self._frames_without_hand = 0 if hand is not None else misses + 1
        self._tracked = track_region(hand) if (hand is not None and track) else None
        return hand

    @property
    def _searches(self):
        """The costlier searches after the whole frame, in order (each ``frame -> Hand | None``)."""
        if not self.tile_search:
            return (self._in_views,)
        windows = tuple(functools.partial(self._in_windows, degrees=degrees) for degrees in WINDOW_TURNS)
        return (self._in_tiles, self._in_views, self._in_fine_tiles) + windows

    def _detect(self, frame_rgb: np.ndarray, searches) -> Hand | None:
        for zoom_out in (1.0, ZOOM_OUT):
            hand = self._palms_to_hand(frame_rgb, *letterbox(frame_rgb, zoom_out))
            if hand is not None:
                return hand
        for search in searches:
            hand = search(frame_rgb)
            if hand is not None:
                return hand
        return None

    def _in_tiles(self, frame_rgb: np.ndarray) -> Hand | None:
        # a hand far from the camera is a few pixels in the whole-frame view: look at each part closer
        for x0, y0, tile in tiles(frame_rgb.shape):
            hand = self._palms_in_tile(frame_rgb, x0, y0, tile)
            if hand is not None:
                return hand
        return None

    def _in_views(self, frame_rgb: np.ndarray) -> Hand | None:
        height, width = frame_rgb.shape[:2]
        for degrees, scale in self.fallback_views:
            view = RotatedRect(width / 2.0, height / 2.0, float(max(height, width)) * scale, math.radians(degrees))
            hand = self._refined(frame_rgb, self._landmarks(frame_rgb, view, "frame"))
            if hand is not None:
                return hand
        return None

    def _in_fine_tiles(self, frame_rgb: np.ndarray) -> Hand | None:
        for x0, y0, tile in tiles(frame_rgb.shape, *FINE_TILES):
            hand = self._palms_in_tile(frame_rgb, x0, y0, tile)
            if hand is not None and hand.presence >= SMALL_VIEW_PRESENCE:
                return hand
        return None

    def _in_windows(self, frame_rgb: np.ndarray, degrees: float) -> Hand | None:
        for x0, y0, side in tiles(frame_rgb.shape, *WINDOWS):
            window = RotatedRect(x0 + side / 2.0, y0 + side / 2.0, float(side), math.radians(degrees))
            hand = self._refined(frame_rgb, self._landmarks(frame_rgb, window, "frame"))
            if hand is not None and hand.presence >= SMALL_VIEW_PRESENCE:
                return hand
        return None

    def _palms_in_tile(self, frame_rgb: np.ndarray, x0: int, y0: int, tile: int) -> Hand | None:
        crop = cv2.resize(frame_rgb[y0:y0 + tile, x0:x0 + tile], (PALM_INPUT, PALM_INPUT), interpolation=cv2.INTER_AREA)
        return self._palms_to_hand(frame_rgb, unit_tensor(crop), float(tile), -float(x0), -float(y0))

    def _palms_to_hand(self, frame_rgb, tensor, side, pad_x, pad_y) -> Hand | None:
        regressors, logits = _palm_outputs(self.palm.invoke_all(tensor))
        palms = decode_palms(regressors, logits, side, pad_x, pad_y, self.min_palm_score)[: self.max_palms]
        hands = [self._refined(frame_rgb, self._landmarks(frame_rgb, palm_to_hand_rect(palm), "palm"))
                 for palm in palms]
        hands = [hand for hand in hands if hand is not None]
        return max(hands, key=lambda hand: hand.presence) if hands else None

    def _refined(self, frame_rgb: np.ndarray, first: Hand | None) -> Hand | None:
        """``first`` seen once more in the region its own landmarks give (the region tracking uses), or ``first``
        when the hand is not present there. A detector's box or a window is coarser than a tracked region, so a
        single look gave training (stills) other embeddings than the live loop (tracked frames) sees of the same
        hand; after the second look they agree (tests/runtime/test_hands.py, a still vs its next frame)."""
        if first is None:
            return None
        return self._landmarks(frame_rgb, track_region(first), first.found_by) or first

    def landmarks_in(self, frame_rgb: np.ndarray, region: RotatedRect) -> Hand | None:
        """The hand in one given region (``--hand roi``), or None when the landmark model sees none there."""
        return self._landmarks(frame_rgb, region, "roi")

    def _landmarks(self, frame_rgb: np.ndarray, region: RotatedRect, found_by: str) -> Hand | None:
        tensor = unit_tensor(region.crop(frame_rgb, LANDMARK_INPUT))
        points, presence, handedness, embedding = _landmark_outputs(self.landmark.invoke_all(tensor))
        if presence < self.min_presence:
            return None
        landmarks = region.to_frame(points.reshape(LANDMARKS, 3).astype(np.float64), LANDMARK_INPUT)
        return Hand(presence, landmarks.astype(np.float32), handedness, found_by, region, embedding)

    def mirrored_embedding(self, frame_rgb: np.ndarray, hand: Hand) -> np.ndarray:
        """The embedding of ``hand``'s region flipped left-right: the same hand as the other hand (training data)."""
        crop = np.ascontiguousarray(hand.region.crop(frame_rgb, LANDMARK_INPUT)[:, ::-1])
        embedding = _landmark_outputs(self.landmark.invoke_all(unit_tensor(crop)))[3]
        if embedding is None:
            raise ModelLoadError(f"{self.landmark.path}: this landmark model does not return its embedding "
                                 f"(expected {LANDMARK_MODEL.name}, made by scripts/expose-hand-embedding.py)")
        return embedding


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


def landmark_box(landmarks: np.ndarray, frame_shape: tuple[int, ...], margin: float = 0.25, square: bool = True
                 ) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` around ``(21, 2+)`` landmarks, grown by ``margin`` of the larger side on each side,
    clipped to the frame (a square box stays square where the frame allows)."""
    xy = landmarks[:, :2]
    (x0, y0), (x1, y1) = xy.min(0), xy.max(0)
    width, height = x1 - x0, y1 - y0
    if square:
        width = height = max(width, height)
    grow = margin * max(width, height)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half_w, half_h = width / 2.0 + grow, height / 2.0 + grow
    frame_h, frame_w = frame_shape[:2]
    left, top = max(0, int(round(cx - half_w))), max(0, int(round(cy - half_h)))
    right, bottom = min(frame_w, int(round(cx + half_w))), min(frame_h, int(round(cy + half_h)))
    return left, top, max(right, left + 1), max(bottom, top + 1)


def track_region(hand: Hand) -> RotatedRect:
    """The region to look in next frame: the palm points' box, upright, grown 2x and nudged towards the fingers."""
    points = hand.landmarks[:, :2].astype(np.float64)
    angle = upright_angle(points[WRIST], points[MIDDLE_BASE])
    cos, sin = math.cos(angle), math.sin(angle)
    palm = points[list(_PALM_POINTS)]
    # coordinates in the hand's upright frame, to take an axis-aligned box there
    local = np.stack([palm[:, 0] * cos + palm[:, 1] * sin, -palm[:, 0] * sin + palm[:, 1] * cos], axis=1)
    (lx0, ly0), (lx1, ly1) = local.min(0), local.max(0)
    width, height = lx1 - lx0, ly1 - ly0
    lcx, lcy = (lx0 + lx1) / 2.0, (ly0 + ly1) / 2.0 + TRACK_SHIFT_Y * height
    cx, cy = lcx * cos - lcy * sin, lcx * sin + lcy * cos
    return RotatedRect(cx, cy, max(width, height) * TRACK_SCALE, angle)


def _palm_outputs(outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    by_width = sorted(outputs, key=lambda o: o.shape[-1])
    return by_width[1], by_width[0]  # (1, 2016, 18) regressors, (1, 2016, 1) score logits


def _landmark_outputs(outputs: list[np.ndarray]) -> tuple[np.ndarray, float, float, np.ndarray | None]:
    # MediaPipe's order: landmarks (63), presence (1), handedness (1), world landmarks (63), then ours: embedding (672)
    # the lite model ends both scores in its own sigmoid (measured: 0.014 presence on a black picture)
    points, presence, handedness = outputs[0], outputs[1], outputs[2]
    embedding = outputs[4].reshape(EMBEDDING_SIZE).astype(np.float32) if len(outputs) > 4 else None
    return points, _probability(presence), _probability(handedness), embedding


def _probability(tensor: np.ndarray) -> float:
    value = float(tensor.ravel()[0])
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0


def _check_io(backend: Backend, inputs: tuple[tuple[int, ...], ...], outputs: tuple[int, ...]) -> int:
    """How many outputs the model has, after checking its input shape and that the count is one of ``outputs``."""
    shape = tuple(1 if d is None else d for d in backend.input.shape)
    if shape != inputs[0]:
        raise ModelLoadError(f"{backend.path}: expected a hand model taking {inputs[0]}, this one takes {shape}")
    results = backend.invoke_all(np.zeros(inputs[0], dtype=np.float32))
    if len(results) not in outputs or (len(results) == 5 and results[4].size != EMBEDDING_SIZE):
        raise ModelLoadError(f"{backend.path}: expected a hand model with {' or '.join(map(str, outputs))} outputs, "
                             f"this one has {len(results)}")
    return len(results)
