"""Finding the hand in a frame: MediaPipe's palm detector + hand landmark model, tracked between frames, TF-free.

``HandFinder.open().find(frame_rgb) -> Hand | None``. Per frame:

1. while a hand is tracked, the landmark model runs on the region the previous frame's landmarks give (no detector);
2. otherwise it searches (:mod:`edgecnn.runtime.hand_search`): the palm detector on the whole frame, the frame zoomed
   out and tiles of a large frame, the landmark model on whole-frame views (a hand that fills the frame or is cut by
   its edge: the detector needs the whole palm), finer tiles, then the landmark model on windows of the frame,
   upright and turned (a hand at arm's length that the palm detector misses).

A still picture (and the first frame of a stream) gets the whole search. Later frames of a stream with no hand get
one look each, mostly one landmark call: an empty room costs about what a tracked hand does.

A region is accepted when the landmark model's hand-presence score reaches ``min_presence``; a hand found by a search
is looked at once more in the region its own landmarks give (as tracking would), a better-centred view. Its 21
landmarks give the tight box the classifier is shown (:meth:`Hand.crop_box`) and the features of the hand classifiers
(:mod:`edgecnn.runtime.hand_features`). Several hands: the one with the highest presence score (a tracked hand keeps
priority while it stays present). Both models ship in ``runtime/models`` (``scripts/fetch-hand-models.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgecnn.runtime.backends import Backend, open_backend
from edgecnn.runtime.errors import ModelLoadError
from edgecnn.runtime.hand_search import (
    FALLBACK_VIEWS,
    FINE_TILES,
    SMALL_VIEW_PRESENCE,
    TILE_FRACTION,
    WINDOW_TURNS,
    WINDOWS,
    ZOOM_OUT,
    Look,
    PalmLook,
    StreamSearch,
    search_looks,
)
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
        self._stream: StreamSearch | None = None  # a stream's search while no hand is tracked; None: a full one next
        self._looks: tuple[tuple[int, ...], tuple[Look, ...]] | None = None  # (frame shape, its looks)
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
        self._stream = None

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
            self._stream.lost()  # the search starts at the whole frame, one look per frame
        looks = self.looks(frame_rgb.shape)
        if self._stream is None or self._stream.looks is not looks:
            # a still, or a stream's first frame: every look until one finds a hand
            hand = next((found for found in (self.look(frame_rgb, look) for look in looks) if found), None)
            if track:  # a stream: its next frames get one look each
                self._stream = StreamSearch(looks, frame_rgb.shape)
                self._stream.see(frame_rgb)  # what changes on the next frames is measured against this one
        else:
            hand = self.look(frame_rgb, self._stream.next_look(frame_rgb))
        self._tracked = track_region(hand) if (hand is not None and track) else None
        return hand

    def looks(self, shape: tuple[int, ...]) -> tuple[Look, ...]:
        """The looks of a full search of a frame of ``shape``, in order (:func:`~.hand_search.search_looks`)."""
        if self._looks is None or self._looks[0] != tuple(shape[:2]):
            self._looks = (tuple(shape[:2]), search_looks(shape, self.tile_search, self.fallback_views))
        return self._looks[1]

    def look(self, frame_rgb: np.ndarray, look: Look) -> Hand | None:
        """The hand ``look`` finds in the frame, or None."""
        if isinstance(look, PalmLook):
            if look.tile is None:
                hand = self._palms_to_hand(frame_rgb, *letterbox(frame_rgb, look.zoom_out))
            else:
                x0, y0, side = look.tile
                crop = cv2.resize(frame_rgb[y0:y0 + side, x0:x0 + side], (PALM_INPUT, PALM_INPUT),
                                  interpolation=cv2.INTER_AREA)
                hand = self._palms_to_hand(frame_rgb, unit_tensor(crop), float(side), -float(x0), -float(y0))
        else:  # a LandmarkLook
            hand = self._refined(frame_rgb, self._landmarks(frame_rgb, look.region, "frame"))
        return hand if hand is not None and hand.presence >= look.min_presence else None

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
