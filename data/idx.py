"""Reading Fashion-MNIST's idx files (gzip-compressed or not) into numpy arrays."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from edgecnn.data.errors import DataError

_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(path: Path) -> np.ndarray:
    """One idx file -> a uint8 array shaped as its header says."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read idx file ({err})") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte idx file (bad magic {data[:4]!r})")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataError(f"{path}: idx header says {shape} but the file holds {body.size} values (truncated?)")
    return body.reshape(shape)


def load_fashion_split(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images (N, 28, 28, 1) uint8, labels (N,) int)`` for split ``"train"`` or ``"test"`` under ``root``."""
    if split not in _FILES:
        raise DataError(f"Fashion-MNIST has splits {sorted(_FILES)}, not {split!r}")
    paths = []
    for stem in _FILES[split]:
        candidates = [root / f"{stem}.gz", root / stem]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise DataError(f"{root}: missing {stem}.gz (Fashion-MNIST idx files expected; "
                            f"'apt-get install dataset-fashion-mnist' puts them in /usr/share/datasets/fashion-mnist)")
        paths.append(found)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise DataError(f"{root}: {split} images {images.shape} and labels {labels.shape} do not match")
    return images[..., None], labels.astype(np.int64)
