"""Real labelled images for calibration and parity, loaded exactly as the runtime loads them.

Two kinds of data, as the contract's ``extra["data"]["kind"]`` names them: ``"image_folder"`` (``<root>/<split>/<label>/
*.jpg``) and ``"fashion_mnist_idx"`` (the four idx .gz files). Image files go through
:func:`edgecnn.runtime.images.load_for_model` with the contract's size, channels and resize method, so calibration and
verify see the pixels the device will feed. Corrupt files are skipped and reported, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.convert.errors import CalibrationError
from edgecnn.runtime.contract import ModelContract
from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.images import is_image_file, load_for_model, resize

IDX_MARKER = "train-images-idx3-ubyte.gz"


@dataclass
class LabelledImages:
    """Images as the model takes them, with their true class indices."""

    pixels: np.ndarray
    """``(N, H, W, C)`` uint8."""
    labels: np.ndarray
    """``(N,)`` int class indices into the contract's labels."""
    source: str
    """Where they came from (folder or idx files and split), for reports."""
    skipped: list[str] = field(default_factory=list)
    """One line per unreadable file that was left out."""

    def per_class(self, num_classes: int) -> list[int]:
        return np.bincount(self.labels, minlength=num_classes).tolist()


def data_location(contract: ModelContract, split_key: str) -> tuple[Path, str | None]:
    """``(root, split)`` the contract's ``extra["data"]`` names for ``split_key`` (``"train_split"``...)."""
    data = contract.extra.get("data") or {}
    if "root" not in data:
        raise CalibrationError(f"the model contract of {contract.model_name!r} does not name its data "
                               f"(extra['data']['root']); pass --calib-data / --data PATH")
    return Path(data["root"]), data.get(split_key)


def load_labelled(path: Path, contract: ModelContract, split: str | None, limit_per_class: int | None,
                  seed: int = 0) -> LabelledImages:
    """Images of ``path`` (an image-folder root, a split folder, or an idx folder), sampled evenly across classes.

    ``split`` is used when ``path`` holds split sub-folders (``train``/``validation``...) rather than class folders.
    ``limit_per_class`` None takes every image. Sampling is seeded, so the same call gives the same images.
    """
    path = Path(path)
    if not path.is_dir():
        raise CalibrationError(f"{path}: no such data folder (expected class folders of images, or the "
                               f"Fashion-MNIST idx .gz files)")
    if (path / IDX_MARKER).is_file():
        return _load_idx(path, contract, split, limit_per_class, seed)
    folder = path / split if split and (path / split).is_dir() else path
    return _load_folder(folder, contract, limit_per_class, seed)


def _load_folder(folder: Path, contract: ModelContract, limit: int | None, seed: int) -> LabelledImages:
    found = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if sorted(found) != sorted(contract.labels):
        raise CalibrationError(f"{folder}: class folders {found} do not match the model's labels "
                               f"{list(contract.labels)} (expected one sub-folder per label)")
    rng = np.random.default_rng(seed)
    pixels, labels, skipped = [], [], []
    for index, label in enumerate(contract.labels):
        files = sorted(p for p in (folder / label).iterdir() if is_image_file(p))
        if limit is not None and len(files) > limit:
            files = [files[i] for i in sorted(rng.choice(len(files), limit, replace=False))]
        for file in files:
            try:
                pixels.append(load_for_model(file, contract.input_size, contract.channel_order, contract.resize))
            except SourceError as err:
                skipped.append(str(err))
                continue
            labels.append(index)
    if not pixels:
        raise CalibrationError(f"{folder}: no readable images under the class folders {list(contract.labels)}")
    return LabelledImages(np.stack(pixels), np.asarray(labels, dtype=np.int64), str(folder), skipped)


def _load_idx(root: Path, contract: ModelContract, split: str | None, limit: int | None,
              seed: int) -> LabelledImages:
    from edgecnn.train.errors import DataError
    from edgecnn.train.idx import load_fashion_split

    split = split or "train"
    try:
        images, labels = load_fashion_split(root, split)
    except DataError as err:
        raise CalibrationError(str(err)) from None
    if len(contract.labels) != 10:
        raise CalibrationError(f"{root}: Fashion-MNIST has 10 classes, the model has {len(contract.labels)} "
                               f"labels {list(contract.labels)}")
    if limit is not None:
        rng = np.random.default_rng(seed)
        keep = [rng.choice(np.flatnonzero(labels == c), min(limit, int((labels == c).sum())), replace=False)
                for c in range(10)]
        order = np.sort(np.concatenate(keep))
        images, labels = images[order], labels[order]
    if images.shape[1:3] != tuple(contract.input_size) or contract.channels != 1:
        images = np.stack([resize(_channels(image, contract.channel_order), contract.input_size, contract.resize)
                           for image in images])
    return LabelledImages(np.ascontiguousarray(images), labels, f"{root} ({split})")


def _channels(gray: np.ndarray, channel_order: str) -> np.ndarray:
    return gray if channel_order == "GRAY" else np.repeat(gray, 3, axis=2)
