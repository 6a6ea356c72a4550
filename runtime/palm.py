"""MediaPipe's palm detector in numpy: SSD anchors, box and keypoint decoding, weighted NMS, palm -> hand box.

The model (``palm_detection_lite.tflite``, Apache-2.0, see ``models/HAND_MODELS.md``) takes a 192x192 RGB
picture scaled to [0, 1] (measured: with [-1, 1] it puts palms in the corners), the frame letterboxed into a
square, and gives 2016 anchored candidates: 18 regressed values (box centre, size, 7 palm keypoints) and one score
logit each. The constants below are the ones MediaPipe's own graph
(``palm_detection_cpu.pbtxt``, ``palm_detection_detection_to_roi.pbtxt``) uses with this model; changing them
silently changes every box, so they live here and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

INPUT_SIZE = 192
STRIDES = (8, 16, 16, 16)
ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 plus the interpolated scale, fixed anchor size
SCORE_CLIP = 100.0
NMS_IOU = 0.3
# Palm box -> whole-hand box (palm_detection_detection_to_roi.pbtxt): rotate wrist -> middle-finger base to upright,
# shift half a box towards the fingers, square on the long side, and grow 2.6x to hold the fingers.
WRIST, MIDDLE_BASE = 0, 2
HAND_SCALE, HAND_SHIFT_Y = 2.6, -0.5


@dataclass(frozen=True)
class Palm:
    """One palm found in a frame, in frame pixels."""

    score: float
    """Detector confidence after the sigmoid, in [0, 1]."""
    box: tuple[float, float, float, float]
    """``(x0, y0, x1, y1)`` of the palm."""
    keypoints: np.ndarray
    """``(7, 2)`` palm keypoints ``(x, y)``: wrist, finger bases, thumb."""


@dataclass(frozen=True)
class RotatedRect:
    """A square region of the frame, possibly rotated: what the landmark model is shown."""

    cx: float
    """Centre x in frame pixels."""
    cy: float
    """Centre y in frame pixels."""
    size: float
    """Side length in frame pixels."""
    angle: float
    """Rotation in radians (positive turns the picture's up towards the frame's right)."""

    def crop_matrix(self, out_size: int) -> np.ndarray:
        """2x3 affine map from output-crop pixels to frame pixels (use with ``cv2.WARP_INVERSE_MAP``)."""
        scale = self.size / out_size
        cos, sin = math.cos(self.angle) * scale, math.sin(self.angle) * scale
        half = out_size / 2.0
        return np.array([[cos, -sin, self.cx - cos * half + sin * half],
                         [sin, cos, self.cy - sin * half - cos * half]], dtype=np.float64)

    def crop(self, frame_rgb: np.ndarray, out_size: int) -> np.ndarray:
        """The region as an ``(out_size, out_size, 3)`` picture; outside the frame is black."""
        return cv2.warpAffine(frame_rgb, self.crop_matrix(out_size), (out_size, out_size),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)

    def to_frame(self, points: np.ndarray, out_size: int) -> np.ndarray:
        """Crop-pixel ``(N, 2+)`` points -> frame pixels (extra columns such as depth are scaled, not moved)."""
        matrix = self.crop_matrix(out_size)
        xy = points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
        rest = points[:, 2:] * (self.size / out_size)
        return np.concatenate([xy, rest], axis=1)


def ssd_anchors() -> np.ndarray:
    """``(2016, 2)`` anchor centres in [0, 1], in the model's output order (row, column, anchor)."""
    centres = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        same = sum(1 for s in STRIDES[layer:] if s == stride)  # layers sharing a stride share one grid
        cells = math.ceil(INPUT_SIZE / stride)
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, same * ANCHORS_PER_LAYER, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float32)


_ANCHORS = ssd_anchors()


def unit_tensor(image_rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 -> ``(1, H, W, 3)`` float32 in [0, 1]: what both hand models take."""
    return (image_rgb.astype(np.float32) * np.float32(1.0 / 255.0))[None]


def letterbox(frame_rgb: np.ndarray, zoom_out: float = 1.0) -> tuple[np.ndarray, float, float, float]:
    """The frame padded to a centred square (``zoom_out`` times its longer side) and resized to the detector's
    input, scaled to [0, 1].

    Returns the ``(1, 192, 192, 3)`` float32 tensor and ``(side, pad_x, pad_y)`` to map results back.
    """
    height, width = frame_rgb.shape[:2]
    side = int(round(max(height, width) * max(1.0, zoom_out)))
    pad_x, pad_y = (side - width) // 2, (side - height) // 2
    scale = INPUT_SIZE / side
    placed = [value * scale for value in (pad_x, pad_y, width, height)]
    if all(abs(value - round(value)) < 1e-9 for value in placed):
        # The black border is whole detector pixels (640x480 at both zooms, 1280x720, 512x384): shrinking the frame
        # first and padding the small picture gives the same tensor (INTER_AREA never mixes border and frame here;
        # tests/runtime/test_hands.py compares both) at a third of the cost of shrinking the padded square.
        left, top, small_w, small_h = (int(round(value)) for value in placed)
        small = cv2.resize(frame_rgb, (small_w, small_h), interpolation=cv2.INTER_AREA)
        square = cv2.copyMakeBorder(small, top, INPUT_SIZE - top - small_h, left, INPUT_SIZE - left - small_w,
                                    cv2.BORDER_CONSTANT, value=(0, 0, 0))
        return unit_tensor(square), float(side), float(pad_x), float(pad_y)
    square = cv2.copyMakeBorder(frame_rgb, pad_y, side - height - pad_y, pad_x, side - width - pad_x,
                                cv2.BORDER_CONSTANT, value=(0, 0, 0))
    small = cv2.resize(square, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
    return unit_tensor(small), float(side), float(pad_x), float(pad_y)


def decode_palms(regressors: np.ndarray, logits: np.ndarray, side: float, pad_x: float, pad_y: float,
                 min_score: float) -> list[Palm]:
    """The detector's raw outputs -> palms above ``min_score`` in frame pixels, after weighted NMS, best first."""
    raw = regressors.reshape(-1, 18)
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return []
    raw, scores, anchors = raw[keep], scores[keep], _ANCHORS[keep]
    centre = raw[:, 0:2] / INPUT_SIZE + anchors
    half = raw[:, 2:4] / INPUT_SIZE / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:18].reshape(-1, 7, 2) / INPUT_SIZE + anchors[:, None, :]
    palms = []
    for group in _nms_groups(boxes, scores):
        weights = scores[group][:, None]
        box = (boxes[group] * weights).sum(0) / weights.sum()  # MediaPipe's WEIGHTED NMS: average the cluster
        points = (keypoints[group] * weights[:, :, None]).sum(0) / weights.sum()
        offset = np.array([pad_x, pad_y])
        box_px = np.concatenate([box[:2] * side - offset, box[2:] * side - offset])
        palms.append(Palm(float(scores[group[0]]), tuple(float(v) for v in box_px), points * side - offset))
    return palms


def _nms_groups(boxes: np.ndarray, scores: np.ndarray) -> list[np.ndarray]:
    """Clusters of candidates overlapping the best remaining one by more than :data:`NMS_IOU`, best first."""
    order = np.argsort(-scores)
    groups = []
    while order.size:
        best = boxes[order[0]]
        others = boxes[order]
        inter_w = np.clip(np.minimum(best[2], others[:, 2]) - np.maximum(best[0], others[:, 0]), 0, None)
        inter_h = np.clip(np.minimum(best[3], others[:, 3]) - np.maximum(best[1], others[:, 1]), 0, None)
        inter = inter_w * inter_h
        area = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
        best_area = (best[2] - best[0]) * (best[3] - best[1])
        iou = inter / np.maximum(area + best_area - inter, 1e-9)
        members = iou > NMS_IOU
        groups.append(order[members])
        order = order[~members]
    return groups


def upright_angle(start: np.ndarray, end: np.ndarray) -> float:
    """Rotation that turns the vector ``start -> end`` (frame pixels) to point straight up."""
    angle = math.pi / 2 - math.atan2(-(end[1] - start[1]), end[0] - start[0])
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def palm_to_hand_rect(palm: Palm) -> RotatedRect:
    """The square region that holds the whole hand of a detected palm (MediaPipe's palm -> ROI rule)."""
    x0, y0, x1, y1 = palm.box
    angle = upright_angle(palm.keypoints[WRIST], palm.keypoints[MIDDLE_BASE])
    width, height = x1 - x0, y1 - y0
    shift = HAND_SHIFT_Y * height  # along the hand's own up axis, towards the fingers
    cx = (x0 + x1) / 2.0 - shift * math.sin(angle)
    cy = (y0 + y1) / 2.0 + shift * math.cos(angle)
    return RotatedRect(cx, cy, max(width, height) * HAND_SCALE, angle)
