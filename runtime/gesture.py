"""Frame -> hand -> classifier: what ``edgecnn run --hand {auto,roi,off}`` shows the model.

* ``auto``: :class:`~edgecnn.runtime.hands.HandFinder` finds the hand; an image model sees the square crop around its
  landmarks (the contract's :class:`~edgecnn.runtime.contract.HandCrop`); a hand-feature model
  (``hand_landmarks``, ``hand_embedding``) reads the landmarks, or the landmark model's embedding of the hand.
  No hand: no class, ``reason`` says why (:data:`NO_HAND`). A hand the model reads as none of its gestures (the
  contract's ``no_gesture_label``): no class either, reason :data:`NO_GESTURE`.
* ``roi``: a fixed box in the middle of the frame ("hold your hand here"); the model sees only that box, and only
  when the landmark model sees a hand in it.
* ``off``: the whole frame, as the chapter's models were trained.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from edgecnn.runtime.classifier import Classifier, Prediction
from edgecnn.runtime.contract import HandCrop
from edgecnn.runtime.errors import OptionError
from edgecnn.runtime.hand_features import hand_features
from edgecnn.runtime.hands import LANDMARK_MODEL, Hand, HandFinder
from edgecnn.runtime.palm import RotatedRect

HAND_MODES = ("auto", "roi", "off")
ROI_FRACTION = 0.6  # the fixed box's side, as a fraction of the frame's shorter side
DEFAULT_CROP = HandCrop()
NO_HAND = "no hand"
"""The ``reason`` of a frame with no hand in it (or only what the model's no-hand label calls not a hand)."""
NO_GESTURE = "no gesture"
"""The ``reason`` of a frame whose hand shows none of the model's gestures (the contract's no-gesture label)."""


@dataclass(frozen=True)
class GestureResult:
    """What the model said about one frame, and where it looked."""

    prediction: Prediction | None
    """The classifier's answer; None when there is no hand to classify."""
    box: tuple[int, int, int, int] | None
    """``(x0, y0, x1, y1)`` the model was shown (frame pixels); None for the whole frame or no hand."""
    hand: Hand | None
    """The hand found (``auto``, and ``roi`` for landmark models), else None."""
    reason: str | None
    """Why there is no prediction (:data:`NO_HAND` or :data:`NO_GESTURE`), else None."""
    latency_ms: float
    """Hand finding + classification time."""


def default_hand_mode(classifier: Classifier) -> str:
    """``auto`` for a model whose contract asks for a hand crop, ``off`` otherwise (the chapter's models)."""
    return "auto" if classifier.contract.hand_crop is not None else "off"


class HandGestures:
    """Classifies frames in one ``--hand`` mode; keeps the tracked hand between the frames of a stream."""

    def __init__(self, classifier: Classifier, mode: str, finder: HandFinder | None = None):
        if mode not in HAND_MODES:
            raise OptionError(f"--hand must be one of {', '.join(HAND_MODES)}, got {mode!r}")
        reads_hand = classifier.contract.reads_hand_features
        if reads_hand and mode == "off":
            raise OptionError(f"{classifier.path}: this model reads a hand's features; --hand off cannot feed it "
                              f"(use --hand auto or roi)")
        self.classifier, self.mode = classifier, mode
        self.crop = classifier.contract.hand_crop or DEFAULT_CROP
        self.uses_default_crop = classifier.contract.hand_crop is None and mode != "off"
        needs_finder = mode != "off"  # roi too: an empty box is "no hand", not a class
        self.finder = finder if finder is not None or not needs_finder else HandFinder.open(
            backend=None, threads=classifier.backend.info.threads, min_presence=self.crop.min_presence)
        if classifier.contract.input_kind == "hand_embedding" and self.finder is not None and not self.finder.embeds:
            raise OptionError(f"{classifier.path}: this model reads the hand landmark model's embedding, which "
                              f"{self.finder.landmark.path} does not return (use {LANDMARK_MODEL.name})")

    def reset(self) -> None:
        """The next frame is unrelated to the last (another file of a folder)."""
        if self.finder is not None:
            self.finder.reset()

    def classify(self, frame_rgb: np.ndarray) -> GestureResult:
        start = time.perf_counter()
        if self.mode == "off":
            prediction = self.classifier.classify(frame_rgb)
            return GestureResult(prediction, None, None, None, prediction.latency_ms)
        if self.mode == "roi":
            box = roi_box(frame_rgb.shape)
            x0, y0, x1, y1 = box
            region = RotatedRect((x0 + x1) / 2.0, (y0 + y1) / 2.0, float(max(x1 - x0, y1 - y0)) * 1.3, 0.0)
            hand = self.finder.landmarks_in(frame_rgb, region)
            if hand is None:
                return self._no_hand(start, box)
        else:
            hand = self.finder.find(frame_rgb)
            if hand is None:
                return self._no_hand(start, None)
            box = hand.crop_box(frame_rgb.shape, self.crop.margin, self.crop.square)
        prediction = self._predict(frame_rgb, box, hand)
        reason = {self.crop.no_hand_label: NO_HAND, self.crop.no_gesture_label: NO_GESTURE}.get(prediction.label)
        if reason is not None:
            return GestureResult(None, box, hand, reason, (time.perf_counter() - start) * 1000.0)
        return GestureResult(prediction, box, hand, None, (time.perf_counter() - start) * 1000.0)

    def _predict(self, frame_rgb: np.ndarray, box: tuple[int, int, int, int], hand: Hand | None) -> Prediction:
        contract = self.classifier.contract
        if hand is not None and contract.reads_hand_features:
            start = time.perf_counter()
            features = hand_features(hand.landmarks, hand.embedding, contract.input_kind)
            probabilities = self.classifier.predict_features(features[None])[0]
            index = int(np.argmax(probabilities))
            return Prediction(index, self.classifier.labels[index], float(probabilities[index]), probabilities,
                              (time.perf_counter() - start) * 1000.0)
        x0, y0, x1, y1 = box
        return self.classifier.classify(np.ascontiguousarray(frame_rgb[y0:y1, x0:x1]))

    def _no_hand(self, start: float, box) -> GestureResult:
        return GestureResult(None, box, None, NO_HAND, (time.perf_counter() - start) * 1000.0)


def roi_box(frame_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The fixed ``--hand roi`` box: a centred square of :data:`ROI_FRACTION` of the shorter side."""
    height, width = frame_shape[:2]
    side = max(1, int(min(height, width) * ROI_FRACTION))
    x0, y0 = (width - side) // 2, (height - side) // 2
    return x0, y0, x0 + side, y0 + side
