"""Shared helpers of the inspect tests (a unique module name, so it cannot clash with other stages' helpers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def first_image(root: Path) -> Path:
    """The first JPEG (sorted) under ``root``: a real photo from ../shared/data."""
    return sorted(root.rglob("*.jpg"))[0]


def filter_by_hand(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'valid' cross-correlation written out as the chapter's loop does, vectorized over pixels; clamped to 0..255."""
    kh, kw = kernel.shape
    height, width = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    total = np.zeros((height, width), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            total += kernel[i, j] * image[i: i + height, j: j + width].astype(np.float64)
    return np.clip(total, 0, 255)


def max_of_2x2(values: np.ndarray) -> np.ndarray:
    """2x2 max pooling written out: the maximum of the four pixels of each block, odd edges dropped."""
    height, width = values.shape[0] // 2 * 2, values.shape[1] // 2 * 2
    corners = [values[di:height:2, dj:width:2] for di in (0, 1) for dj in (0, 1)]
    return np.maximum.reduce(corners)
