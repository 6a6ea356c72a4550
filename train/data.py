"""Loading training data into memory as the exact pixels the runtime will feed the model.

Image folders are decoded and resized with :mod:`edgecnn.runtime.images` (OpenCV, RGB, the contract's resize), so
training and inference see identical preprocessing. Corrupt or unreadable images are skipped and reported, never a
crash mid-epoch. The chapter's data sets fit in memory at model resolution (a few hundred MB at most).
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.images import is_image_file, load_for_model
from edgecnn.train.datasets import DatasetSpec
from edgecnn.train.errors import DataError
from edgecnn.train.idx import load_fashion_split


@dataclass
class Split:
    """One split in memory."""

    images: np.ndarray
    """``(N, H, W, C)`` uint8 pixels at the model's input size."""
    labels: np.ndarray
    """``(N,)`` int class indices."""
    sources: list[str] = field(default_factory=list)
    """Per image, the data root it came from (for per-source accuracy)."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(path, reason)`` of every image that could not be read."""


@dataclass
class TrainingData:
    """Everything :func:`edgecnn.train.fit.train` needs from the data."""

    labels: tuple[str, ...]
    """Class names in index order."""
    train: Split
    """The training split."""
    eval: Split | None
    """The held-out split, or None when the data has none."""
    eval_split: str
    """Name of the held-out split (``validation`` or ``test``)."""
    description: dict
    """What goes into the contract's ``extra["data"]``."""


def class_folders(split_dir: Path) -> list[str]:
    """Class names under ``split_dir``, alphabetical (the order Keras and the chapter use)."""
    return sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def discover_labels(roots: list[Path], split: str) -> tuple[str, ...]:
    """The class folders of ``split``, which must be the same in every root that has that split."""
    found = {root: class_folders(root / split) for root in roots if (root / split).is_dir()}
    if not found:
        raise DataError(f"no '{split}' folder under {', '.join(map(str, roots))}; expected "
                        f"<root>/{split}/<class>/*.jpg")
    first_root, labels = next(iter(found.items()))
    for root, names in found.items():
        if names != labels:
            raise DataError(f"class folders differ: {first_root / split} has {labels}, {root / split} has {names}")
    if len(labels) < 2:
        raise DataError(f"{first_root / split}: need at least 2 class folders, found {labels}")
    return tuple(labels)


def list_images(root: Path, split: str, labels: tuple[str, ...], limit: int | None,
                rng: random.Random) -> list[tuple[Path, int]]:
    """``(path, class index)`` for every image file of ``split`` in ``root``; ``limit`` per class, sampled."""
    items = []
    for index, label in enumerate(labels):
        folder = root / split / label
        files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p)) if folder.is_dir() else []
        if limit is not None and len(files) > limit:
            files = sorted(rng.sample(files, limit))
        items += [(path, index) for path in files]
    return items


def load_image_split(roots: list[Path], split: str, labels: tuple[str, ...], size: tuple[int, int],
                     channel_order: str, limit: int | None = None, seed: int = 0) -> Split:
    """Decodes every image of ``split`` across ``roots`` at model size; unreadable files are skipped and listed."""
    rng = random.Random(seed)
    items = [(path, index, root) for root in roots if (root / split).is_dir()
             for path, index in list_images(root, split, labels, limit, rng)]

    def load(item):
        path, index, root = item
        try:
            return load_for_model(path, size, channel_order), index, str(root), None
        except SourceError as err:
            return None, index, str(root), (str(path), str(err))

    with ThreadPoolExecutor(max_workers=4) as pool:  # OpenCV decodes outside the GIL
        results = list(pool.map(load, items))
    skipped = [r[3] for r in results if r[3] is not None]
    kept = [r for r in results if r[0] is not None]
    if not kept:
        raise DataError(f"no readable images in split '{split}' under {', '.join(map(str, roots))}"
                        + (f" ({len(skipped)} unreadable, e.g. {skipped[0][0]})" if skipped else ""))
    images = np.stack([r[0] for r in kept])
    return Split(images, np.array([r[1] for r in kept], dtype=np.int64), [r[2] for r in kept], skipped)


def load_training_data(dataset: DatasetSpec, roots: list[Path], input_shape: tuple[int, int, int],
                       limit: int | None = None, seed: int = 0) -> TrainingData:
    """Loads the train and held-out splits of ``dataset`` from ``roots`` at the model's input size."""
    size, channels = input_shape[:2], input_shape[2]
    if dataset.kind == "fashion_mnist_idx":
        return _load_fashion(dataset, roots[0], input_shape, limit, seed)
    channel_order = "GRAY" if channels == 1 else "RGB"
    labels = discover_labels(roots, dataset.train_split)
    train = load_image_split(roots, dataset.train_split, labels, size, channel_order, limit, seed)
    has_eval = any((root / dataset.eval_split).is_dir() for root in roots)
    evaluation = (load_image_split(roots, dataset.eval_split, labels, size, channel_order, limit, seed)
                  if has_eval else None)
    description = {"kind": "image_folder", "root": str(roots[0].resolve()), "roots": [str(r.resolve()) for r in roots],
                   "train_split": dataset.train_split, "eval_split": dataset.eval_split if has_eval else None}
    return TrainingData(labels, train, evaluation, dataset.eval_split, description)


def _load_fashion(dataset: DatasetSpec, root: Path, input_shape, limit, seed) -> TrainingData:
    if tuple(input_shape) != (28, 28, 1):
        raise DataError(f"Fashion-MNIST is 28x28x1; the model takes {input_shape}")
    splits = {}
    for name in (dataset.train_split, dataset.eval_split):
        images, labels = load_fashion_split(root, name)
        if limit is not None:
            keep = _sample_per_class(labels, limit, seed)
            images, labels = images[keep], labels[keep]
        splits[name] = Split(images, labels, [str(root)] * len(labels))
    description = {"kind": "fashion_mnist_idx", "root": str(root.resolve()), "roots": [str(root.resolve())],
                   "train_split": dataset.train_split, "eval_split": dataset.eval_split}
    return TrainingData(dataset.labels, splits[dataset.train_split], splits[dataset.eval_split],
                        dataset.eval_split, description)


def _sample_per_class(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(labels == c))[:limit] for c in np.unique(labels)]
    return np.sort(np.concatenate(picks))
