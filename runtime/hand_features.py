"""What a hand classifier reads of a found hand: its 21 points made position-, size- and roll-free, and the hand
landmark model's own embedding (the contract's ``hand_landmarks`` and ``hand_embedding`` input kinds)."""

from __future__ import annotations

import math

import numpy as np

from edgecnn.runtime.errors import ContractError, ModelLoadError
from edgecnn.runtime.hands import LANDMARK_MODEL, LANDMARKS, MIDDLE_BASE, WRIST


def landmark_features(landmarks: np.ndarray) -> np.ndarray:
    """``(21, 3)`` landmarks -> 63 float32 features that do not depend on where the hand is, how big, or its roll.

    Relative to the wrist, turned so that wrist -> middle-finger base points up, divided by that distance. Depth is
    scaled the same way. Mirror images (left vs right hand) are left to the classifier's training (x flipped).
    """
    points = np.asarray(landmarks, dtype=np.float64)[:, :3] - np.asarray(landmarks, dtype=np.float64)[WRIST, :3]
    axis = points[MIDDLE_BASE, :2]
    length = float(np.hypot(*axis))
    if not math.isfinite(length) or length < 1e-6:
        return np.zeros(LANDMARKS * 3, dtype=np.float32)
    angle = math.atan2(axis[0], -axis[1])  # rotation that takes "up" (0, -1) to the palm axis
    cos, sin = math.cos(angle), math.sin(angle)
    x = points[:, 0] * cos + points[:, 1] * sin
    y = -points[:, 0] * sin + points[:, 1] * cos
    upright = np.stack([x, y, points[:, 2]], axis=1) / length
    return upright.astype(np.float32).ravel()


def hand_features(landmarks: np.ndarray, embedding: np.ndarray | None, kind: str, mirrored: bool = False
                  ) -> np.ndarray:
    """The flat float32 features a model of contract ``input_kind`` ``kind`` reads for one hand.

    ``hand_landmarks``: the 63 :func:`landmark_features`. ``hand_embedding``: the landmark model's 672-value
    embedding followed by those 63. ``mirrored``: the landmark part flipped left-right (x negated), for the mirror
    image of the hand; the caller passes the mirror image's own embedding (:meth:`HandFinder.mirrored_embedding`).
    """
    points = landmark_features(landmarks)
    if mirrored:
        points[0::3] *= -1.0
    if kind == "hand_landmarks":
        return points
    if kind != "hand_embedding":
        raise ContractError(f"input_kind {kind!r} is not read from a hand (expected hand_landmarks or hand_embedding)")
    if embedding is None:
        raise ModelLoadError(f"this model reads the hand landmark model's embedding, which {LANDMARK_MODEL.name} "
                             f"returns and this landmark model does not")
    return np.concatenate([np.asarray(embedding, dtype=np.float32).ravel(), points])
