"""Loading training data into memory as the exact pixels the runtime will feed the model.

Image folders are decoded and resized with :mod:`edgecnn.runtime.images` (OpenCV, RGB, the contract's resize), so
training and inference see identical preprocessing. Corrupt or unreadable images are skipped and reported, never a
crash mid-epoch. The chapter's data sets fit in memory at model resolution (a few hundred MB at most).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
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


HOLDOUT_EVERY = 5
"""A source without its own held-out split gives one image in this many to evaluation (chosen by file-name hash)."""


def held_out_by_hash(path: Path) -> bool:
    """Whether ``path`` belongs to the hash-chosen held-out part of a source that has no held-out split.

    The file name's SHA-1 decides, so the choice is the same on every machine and for every run, and adding files to
    the folder never moves an existing image between train and evaluation.
    """
    return held_out_by_name(path.name)


def held_out_by_name(name: str) -> bool:
    """The rule behind :func:`held_out_by_hash`, for any stable name (a file name, or a subject shared by files)."""
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % HOLDOUT_EVERY == 0


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
                rng: random.Random, keep: Callable[[Path], bool] | None = None) -> list[tuple[Path, int]]:
    """``(path, class index)`` for every image file of ``split`` in ``root`` that ``keep`` accepts; ``limit`` per
    class, sampled."""
    items = []
    for index, label in enumerate(labels):
        folder = root / split / label
        files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p)) if folder.is_dir() else []
        files = [p for p in files if keep is None or keep(p)]
        if limit is not None and len(files) > limit:
            files = sorted(rng.sample(files, limit))
        items += [(path, index) for path in files]
    return items


def load_image_split(roots: list[Path], split: str, labels: tuple[str, ...], size: tuple[int, int],
                     channel_order: str, limit: int | None = None, seed: int = 0,
                     keep: Callable[[Path, Path], bool] | None = None, resize: str = "bilinear") -> Split:
    """Decodes every image of ``split`` across ``roots`` at model size (``resize``: the contract's method);
    unreadable files are skipped and listed.

    ``keep(root, path)``, when given, chooses which files of each root take part.
    """
    rng = random.Random(seed)
    items = [(path, index, root) for root in roots if (root / split).is_dir()
             for path, index in list_images(root, split, labels, limit, rng, keep and partial(keep, root))]

    def load(item):
        path, index, root = item
        try:
            return load_for_model(path, size, channel_order, resize), index, str(root), None
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
                       limit: int | None = None, seed: int = 0, resize: str = "bilinear") -> TrainingData:
    """Loads the train and held-out splits of ``dataset`` from ``roots`` at the model's input size, resized with the
    ``resize`` method the model's contract will name (so training sees what the runtime feeds)."""
    size, channels = input_shape[:2], input_shape[2]
    if dataset.kind == "fashion_mnist_idx":
        return _load_fashion(dataset, roots[0], input_shape, limit, seed)
    channel_order = "GRAY" if channels == 1 else "RGB"
    labels = discover_labels(roots, dataset.train_split)
    # Every source is measured on images training never saw: its own held-out split (the dataset's name for it, else
    # validation/ or test/), or, for a source with none (rps-real-kaust has only train/), one image in HOLDOUT_EVERY
    # chosen by file-name hash and kept out of training.
    held_split = {root: held_out_split_of(root, dataset.eval_split) for root in roots}
    no_eval = [root for root in roots if held_split[root] is None]
    train = load_image_split(roots, dataset.train_split, labels, size, channel_order, limit, seed,
                             keep=lambda root, path: root not in no_eval or not held_out_by_hash(path), resize=resize)
    parts = [load_image_split([root], split, labels, size, channel_order, limit, seed, resize=resize)
             for root, split in held_split.items() if split is not None]
    if no_eval:
        parts.append(load_image_split(no_eval, dataset.train_split, labels, size, channel_order, limit, seed,
                                      keep=lambda root, path: held_out_by_hash(path), resize=resize))
    evaluation = _concat(parts)
    description = {"kind": "image_folder", "root": str(roots[0].resolve()), "roots": [str(r.resolve()) for r in roots],
                   "train_split": dataset.train_split, "eval_split": held_split[roots[0]]}
    if no_eval:
        description["hash_held_out"] = {"roots": [str(r.resolve()) for r in no_eval], "split": dataset.train_split,
                                        "every": HOLDOUT_EVERY, "rule": "sha1(file name) % every == 0"}
    return TrainingData(labels, train, evaluation, held_split[roots[0]] or "held-out", description)


def held_out_split_of(root: Path, preferred: str) -> str | None:
    """The name of ``root``'s held-out split folder: ``preferred`` if present, else validation/ or test/."""
    for name in dict.fromkeys((preferred, "validation", "test")):
        if (root / name).is_dir():
            return name
    return None


def _concat(present: list[Split]) -> Split:
    if len(present) == 1:
        return present[0]
    return Split(np.concatenate([s.images for s in present]), np.concatenate([s.labels for s in present]),
                 [source for s in present for source in s.sources], [item for s in present for item in s.skipped])


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
