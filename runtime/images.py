"""Reading and shaping images exactly as the models expect them, shared by training, conversion and the runtime.

Training reads its images through these functions too, so the pixels a model learned on are the pixels the
runtime feeds it: OpenCV decoding, RGB order, ``cv2.resize`` with the contract's method.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.image_header import FORMATS, declared_size
from edgecnn.runtime.native import is_decoder_log, native_stderr_filtered

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MAX_IMAGE_PIXELS = 64 * 1024 * 1024
"""Largest image edgecnn decodes: 64 megapixels (8192x8192; 192 MB as RGB). Larger declared sizes are refused from
the header, before decoding."""
MAX_IMAGE_BYTES = 256 * 1024 * 1024
"""Largest image file edgecnn reads (256 MiB), checked from the file's size before reading it."""

_DECODE_LOCK = threading.Lock()
_CV2_RESIZE = {"bilinear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "area": cv2.INTER_AREA}


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image_rgb(path: str | Path) -> np.ndarray:
    """Decodes an image file to an ``(H, W, 3)`` uint8 RGB array; :class:`SourceError` when it cannot."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such image file")
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise SourceError(f"{path}: {size / 2**20:.0f} MiB is larger than the {MAX_IMAGE_BYTES // 2**20} MiB "
                              f"edgecnn reads as one image")
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as err:
        raise SourceError(f"{path}: cannot read this image ({err.strerror or err})") from None
    return decode_image(data, str(path))


def decode_image(data: np.ndarray | bytes, origin: str) -> np.ndarray:
    """The one decoder of every stage: encoded bytes -> ``(H, W, 3)`` uint8 RGB, or :class:`SourceError`.

    The header's declared size is checked against :data:`MAX_IMAGE_PIXELS` before OpenCV sees the bytes, and any
    OpenCV failure is this one typed error, so a folder run skips the image and goes on.
    """
    data = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray)) else data
    header = declared_size(data[:4 << 20].tobytes())  # JPEG EXIF blocks can push the frame header past 64 kB
    if header is None:
        raise SourceError(f"{origin}: not a readable image (corrupt, or not {', '.join(FORMATS)}; expected a file "
                          f"ending in one of {', '.join(IMAGE_SUFFIXES)})")
    kind, width, height = header
    if width * height > MAX_IMAGE_PIXELS:
        raise SourceError(f"{origin}: the {kind} declares {width}x{height} pixels, more than the "
                          f"{MAX_IMAGE_PIXELS // 2**20} megapixels edgecnn decodes")
    if width == 0 or height == 0:
        raise SourceError(f"{origin}: the {kind} declares {width}x{height} pixels; not a readable image")
    try:
        # libpng and libjpeg print to fd 2 about damaged files; capturing fd 2 is process-wide, hence the lock
        # (it serialises the training loader's decoding threads: one clean line beats their speed-up).
        with _DECODE_LOCK, native_stderr_filtered(is_decoder_log):
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f"{origin}: not a readable image (a corrupt or truncated {kind})")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    except cv2.error as err:
        reason = (str(err).strip().splitlines() or ["OpenCV error"])[-1][:200]
        raise SourceError(f"{origin}: not a readable image (OpenCV cannot decode this {kind}: {reason})") from None


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
