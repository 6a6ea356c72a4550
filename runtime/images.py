"""Reading and shaping images exactly as the models expect them, shared by training, conversion and the runtime.

Training reads its images through these functions too, so the pixels a model learned on are the pixels the
runtime feeds it: OpenCV decoding, RGB order, ``cv2.resize`` with the contract's method.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgecnn.runtime.errors import SourceError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

_CV2_RESIZE = {"bilinear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "area": cv2.INTER_AREA}


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image_rgb(path: str | Path) -> np.ndarray:
    """Decodes an image file to an ``(H, W, 3)`` uint8 RGB array; :class:`SourceError` when it cannot."""
    path = Path(path)
    data = np.fromfile(path, dtype=np.uint8) if path.is_file() else None
    if data is None:
        raise SourceError(f"{path}: no such image file")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise SourceError(f"{path}: not a readable image (corrupt or unsupported format; "
                          f"expected one of {', '.join(IMAGE_SUFFIXES)})")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def resize(image: np.ndarray, size: tuple[int, int], method: str = "bilinear") -> np.ndarray:
    """Resizes an ``(H, W, C)`` image to ``size = (height, width)`` with the contract's resize method."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    resized = cv2.resize(image, (width, height), interpolation=_CV2_RESIZE[method])
    return resized[..., None] if resized.ndim == 2 else resized


def to_channels(image_rgb: np.ndarray, channel_order: str, invert: bool = False) -> np.ndarray:
    """RGB ``(H, W, 3)`` -> the model's channels: unchanged for ``"RGB"``, ``(H, W, 1)`` luma for ``"GRAY"``.

    ``invert`` turns dark-on-light photos into the light-on-dark look of Fashion-MNIST.
    """
    if channel_order == "GRAY":
        image = image_rgb if image_rgb.ndim == 2 else cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
        image = image[..., None]
    else:
        image = image_rgb
    return 255 - image if invert else image


def load_for_model(path: str | Path, size: tuple[int, int], channel_order: str = "RGB",
                   method: str = "bilinear", invert: bool = False) -> np.ndarray:
    """Reads an image file and returns the ``(H, W, C)`` uint8 pixels the model takes (before any scaling)."""
    image = read_image_rgb(path)
    return resize(to_channels(image, channel_order, invert), size, method)
