"""The kernel registry: the chapter's hand-written 3x3 filters, plus 3x3 kernels read from a text or JSON file.

The chapter shows what a convolution does by sliding hand-written filters over a photo: one brings out vertical
lines, one horizontal lines. A learned Conv2D layer is many such filters whose values training chose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.inspect.errors import InspectError


@dataclass(frozen=True)
class Kernel:
    """A small 2-D filter slid over a grayscale image (cross-correlation, as Keras' Conv2D does)."""

    name: str
    """Registry key, or the file name for a kernel read from a file."""
    weights: tuple[tuple[float, ...], ...]
    """Rows of the filter, top to bottom; the chapter's filters are 3x3."""
    description: str = ""
    """What the filter brings out, for --help and the picture's caption."""

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.weights, dtype=np.float32)


# Sobel-style line detectors and a sharpen filter as written out in the chapter's convolution exercise.
KERNELS: dict[str, Kernel] = {
    kernel.name: kernel
    for kernel in (
        Kernel("vertical", ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)), "brings out vertical lines"),
        Kernel("horizontal", ((-1, -2, -1), (0, 0, 0), (1, 2, 1)), "brings out horizontal lines"),
        Kernel("sharpen", ((0, -1, 0), (-1, 5, -1), (0, -1, 0)), "sharpens edges, keeps the picture"),
        Kernel("edge", ((0, 1, 0), (1, -4, 1), (0, 1, 0)), "outlines edges in every direction (Laplacian)"),
    )
}


def kernel_names() -> list[str]:
    return list(KERNELS)


def get_kernel(name_or_file: str | Path) -> Kernel:
    """A registered kernel by name, else a 3x3 kernel read from the file of that path."""
    if str(name_or_file) in KERNELS:
        return KERNELS[str(name_or_file)]
    path = Path(name_or_file)
    if not path.is_file():
        raise InspectError(f"unknown kernel {str(name_or_file)!r}: choose one of {', '.join(KERNELS)} "
                           f"or give a file holding a 3x3 kernel (text rows or a JSON list of lists)")
    return read_kernel_file(path)


def read_kernel_file(path: str | Path) -> Kernel:
    """Reads a 3x3 kernel: JSON ``[[a,b,c],[d,e,f],[g,h,i]]`` or three text lines of three numbers."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InspectError(f"{path}: cannot read the kernel file ({err})") from None
    rows = _parse_rows(text, path)
    if len(rows) != 3 or any(len(row) != 3 for row in rows):
        raise InspectError(f"{path}: expected a 3x3 kernel (3 rows of 3 numbers), got rows of lengths "
                           f"{[len(row) for row in rows]}")
    return Kernel(path.name, tuple(tuple(row) for row in rows), f"read from {path}")


def _parse_rows(text: str, path: Path) -> list[list[float]]:
    stripped = text.strip()
    try:
        if stripped.startswith("["):
            data = json.loads(stripped)
            if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
                raise ValueError("expected a JSON list of rows")
            rows = [[float(value) for value in row] for row in data]
        else:
            lines = [line.split("#")[0].replace(",", " ") for line in stripped.splitlines()]
            rows = [[float(value) for value in line.split()] for line in lines if line.strip()]
    except (ValueError, TypeError) as err:
        raise InspectError(f"{path}: expected a 3x3 kernel of numbers (JSON list of lists or 3 text lines), "
                           f"could not parse it ({err})") from None
    if not all(np.isfinite(value) for row in rows for value in row):
        raise InspectError(f"{path}: the kernel holds a non-finite number (nan or inf)")
    return rows
