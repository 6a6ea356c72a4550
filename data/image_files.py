"""Writing derived image folders (``edgecnn data composite-hands``, ``motion-blur``, ``crop-hands``): one JPEG per
source image, atomically, never inside the source folder, an unchanged file left as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edgecnn.data.errors import DataError
from edgecnn.runtime.atomic import write_bytes_atomic


@dataclass
class WriteCounts:
    """What one run of a folder command gave."""

    written: int = 0
    """Images written (or already there with the same bytes)."""
    unreadable: list[str] = field(default_factory=list)
    """One line per source image that could not be decoded (skipped, never fatal)."""


def split_folders(src: Path) -> list[Path]:
    """The ``<split>`` folders of ``src`` (``<split>/<class>/<images>``), sorted, dot-folders left out; a
    :class:`DataError` when there is none."""
    src = Path(src)
    splits = sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")) if src.is_dir() else []
    if not splits:
        raise DataError(f"{src}: expected <split>/<class>/<image files> (e.g. train/rock/*.jpg)")
    return splits


def check_output_folder(src: Path, out: Path) -> None:
    """A :class:`DataError` when ``out`` is ``src`` or inside it (the next run would read its own output)."""
    if Path(out).resolve() == Path(src).resolve() or Path(src).resolve() in Path(out).resolve().parents:
        raise DataError(f"{out}: the output folder must not be the source folder or inside it")


def write_jpeg(target: Path, image_rgb: np.ndarray, quality: int, source: Path) -> None:
    """Encodes ``image_rgb`` (made from ``source``) to ``target``; identical bytes already there are left as they are,
    modification time too, so the hand finder's cache of that file stays valid when a command is run again."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DataError(f"{source}: OpenCV could not encode the image made from it")
    data = encoded.tobytes()
    if target.is_file() and target.read_bytes() == data:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, data)
