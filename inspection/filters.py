"""A hand-written filter, then 2x2 max pooling, on any image: the chapter's convolution exercise in numpy/OpenCV.

No TensorFlow: this runs with the runtime-only install. The arithmetic is what a Conv2D layer with one filter and
'valid' padding does (a 3x3 filter turns 28x28 into 26x26), followed by MaxPooling2D(2, 2) (26x26 into 13x13).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgecnn.inspect.errors import InspectError
from edgecnn.inspect.kernels import Kernel
from edgecnn.runtime.images import read_image_rgb, to_channels


@dataclass(frozen=True)
class FilterResult:
    """The three stages of the exercise, as arrays (the picture is drawn from these)."""

    kernel: Kernel
    """The filter that was applied."""
    original: np.ndarray
    """``(H, W)`` uint8 grayscale input."""
    filtered: np.ndarray
    """``(H-2, W-2)`` float32 filter response, clamped to 0..255 as the chapter's exercise does."""
    pooled: np.ndarray
    """``((H-2)//2, (W-2)//2)`` float32: the maximum of each 2x2 block of ``filtered``."""


def convolve_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slides ``kernel`` over a 2-D image without padding (Keras 'valid'); output shrinks by kernel size - 1.

    Cross-correlation, not a flipped convolution: the same arithmetic as Conv2D, so the picture matches the layer.
    """
    kh, kw = kernel.shape
    height, width = image.shape
    if height < kh or width < kw:
        raise InspectError(f"image of {width}x{height} pixels is smaller than the {kw}x{kh} kernel")
    response = cv2.filter2D(image.astype(np.float32), cv2.CV_32F, kernel.astype(np.float32),
                            borderType=cv2.BORDER_CONSTANT)
    # filter2D keeps the size by padding; cut the border where the kernel hung over the edge.
    top, left = kh // 2, kw // 2
    return response[top: top + height - kh + 1, left: left + width - kw + 1]


def max_pool(image: np.ndarray, size: int = 2) -> np.ndarray:
    """Maximum of each ``size`` x ``size`` block; an odd last row/column is dropped (Keras 'valid' pooling)."""
    height, width = image.shape[0] // size, image.shape[1] // size
    if height == 0 or width == 0:
        raise InspectError(f"a {image.shape[1]}x{image.shape[0]} image is too small for {size}x{size} pooling")
    blocks = image[: height * size, : width * size].reshape(height, size, width, size, *image.shape[2:])
    return blocks.max(axis=(1, 3))


def apply_filter(image_gray: np.ndarray, kernel: Kernel) -> FilterResult:
    """Filter (clamped to 0..255), then 2x2 max pooling, of a 2-D uint8 grayscale image."""
    if image_gray.ndim != 2:
        raise InspectError(f"expected a 2-D grayscale image, got an array of shape {image_gray.shape}")
    # The chapter's exercise clamps each response to 0..255 so the result is again a picture.
    filtered = np.clip(convolve_valid(image_gray, kernel.array), 0.0, 255.0)
    return FilterResult(kernel, image_gray, filtered, max_pool(filtered, 2))


def filter_image_file(path: str | Path, kernel: Kernel) -> FilterResult:
    """Decodes an image file (as the runtime does), turns it gray and applies :func:`apply_filter`."""
    gray = to_channels(read_image_rgb(path), "GRAY")[..., 0]
    try:
        return apply_filter(gray, kernel)
    except InspectError as err:
        raise InspectError(f"{path}: {err}") from None
