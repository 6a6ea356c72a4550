"""The one labelled-image loader: training, calibration, verify, bench and smoke images all read data through here.

Two kinds of data: ``image_folder`` (``<root>/<split>/<label>/*.jpg``; class folders alphabetical, dot-folders such
as ``.ipynb_checkpoints`` ignored) and ``fashion_mnist_idx`` (the four idx .gz files). Image files are decoded and
resized with :func:`edgecnn.runtime.images.load_for_model` (OpenCV, RGB, the contract's resize method), so every stage
sees the pixels the device will feed. Unreadable files are skipped and listed, never fatal. Sampling ``limit`` images
per class follows one rule (:func:`sample_per_class`) with one seeded NumPy generator.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from edgecnn.data.errors import DataError
from edgecnn.runtime.contract import ModelContract
from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.images import is_image_file, load_for_model, resize

IDX_MARKER = "train-images-idx3-ubyte.gz"


@dataclass
class LabelledImages:
    """Images as the model takes them, with their true class indices."""

    images: np.ndarray
    """``(N, H, W, C)`` uint8 pixels at the model's input size; for a ``hand_landmarks`` model, the ``(N, 21, 3)``
    float32 features of the hand found in each image (:func:`edgecnn.data.hands.load_hand_features`)."""
    labels: np.ndarray
    """``(N,)`` int class indices."""
    sources: list[str] = field(default_factory=list)
    """Per image, the data root it came from (for per-source accuracy)."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(path, reason)`` of every image that could not be read."""
    origin: str = ""
    """Where they came from (folder or idx files and split), for reports."""

    def per_class(self, num_classes: int) -> list[int]:
        return np.bincount(self.labels, minlength=num_classes).tolist()

    @classmethod
    def concat(cls, parts: list[LabelledImages]) -> LabelledImages:
        if len(parts) == 1:
            return parts[0]
        return cls(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]),
                   [s for p in parts for s in p.sources], [item for p in parts for item in p.skipped],
                   " + ".join(p.origin for p in parts))


def sample_per_class(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``limit`` items per class of ``labels`` (class by class, in index order, one
    generator seeded with ``seed``): the one sampling rule of every stage."""
    rng = np.random.default_rng(seed)
    picks = [_sample(np.flatnonzero(labels == c), limit, rng) for c in np.unique(labels)]
    return np.sort(np.concatenate(picks)) if picks else np.zeros(0, np.int64)


def _sample(items, limit: int | None, rng: np.random.Generator):
    if limit is None or len(items) <= limit:
        return items
    chosen = sorted(rng.choice(len(items), limit, replace=False))
    return items[chosen] if isinstance(items, np.ndarray) else [items[i] for i in chosen]


def class_folders(split_dir: Path) -> list[str]:
    """Class names under ``split_dir``, alphabetical (the order Keras and the chapter use); dot-folders
    (``.ipynb_checkpoints``, ``.git``) are not classes."""
    return sorted(p.name for p in Path(split_dir).iterdir() if p.is_dir() and not p.name.startswith("."))


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


def labelled_files(folder: Path, labels: tuple[str, ...], limit: int | None = None,
                   rng: np.random.Generator | None = None,
                   keep: Callable[[Path], bool] | None = None) -> list[tuple[Path, int]]:
    """``(path, class index)`` of every image file under ``folder/<label>/`` that ``keep`` accepts, in name order;
    at most ``limit`` per class, sampled with ``rng`` (default: seed 0)."""
    rng = np.random.default_rng(0) if rng is None else rng
    items = []
    for index, label in enumerate(labels):
        class_dir = folder / label
        files = sorted(p for p in class_dir.iterdir() if p.is_file() and is_image_file(p)) if class_dir.is_dir() else []
        files = [p for p in files if keep is None or keep(p)]
        items += [(path, index) for path in _sample(files, limit, rng)]
    return items


def load_files(items: list[tuple[Path, int, str]], size: tuple[int, int], channel_order: str,
               resize_method: str = "bilinear", origin: str = "") -> LabelledImages:
    """Decodes ``(path, class index, source)`` items at model size; unreadable files are skipped and listed.
    :class:`DataError` when none is readable."""

    def load(item):
        path, index, source = item
        try:
            return load_for_model(path, size, channel_order, resize_method), index, source, None
        except SourceError as err:
            return None, index, source, (str(path), str(err))

    with ThreadPoolExecutor(max_workers=4) as pool:  # OpenCV decodes outside the GIL
        results = list(pool.map(load, items))
    skipped = [r[3] for r in results if r[3] is not None]
    kept = [r for r in results if r[0] is not None]
    if not kept:
        raise DataError(f"no readable images in {origin}" + (f" ({len(skipped)} unreadable, e.g. {skipped[0][0]})"
                                                             if skipped else ""))
    return LabelledImages(np.stack([r[0] for r in kept]), np.array([r[1] for r in kept], dtype=np.int64),
                          [r[2] for r in kept], skipped, origin)


def load_image_split(roots: list[Path], split: str, labels: tuple[str, ...], size: tuple[int, int],
                     channel_order: str, limit: int | None = None, seed: int = 0,
                     keep: Callable[[Path, Path], bool] | None = None, resize: str = "bilinear") -> LabelledImages:
    """Decodes every image of ``split`` across ``roots`` at model size (``resize``: the contract's method);
    unreadable files are skipped and listed. ``keep(root, path)``, when given, chooses which files of each root take
    part; ``limit`` per class and root, sampled."""
    rng = np.random.default_rng(seed)
    items = [(path, index, str(root)) for root in roots if (root / split).is_dir()
             for path, index in labelled_files(root / split, labels, limit, rng, keep and partial(keep, root))]
    return load_files(items, size, channel_order, resize,
                      origin=f"split '{split}' under {', '.join(map(str, roots))}")


def load_labelled(path: Path, contract: ModelContract, split: str | None, limit_per_class: int | None,
                  seed: int = 0, keep: Callable[[Path], bool] | None = None) -> LabelledImages:
    """Images of ``path`` (an image-folder root, a split folder, or an idx folder) for ``contract``'s model, sampled
    evenly across classes.

    ``split`` is used when ``path`` holds split sub-folders (``train``/``validation``...) rather than class folders.
    ``limit_per_class`` None takes every image; sampling is seeded, so the same call gives the same images. ``keep``
    chooses image files (the hash hold-out rule); it does not apply to idx files.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: no such data folder (expected class folders of images, or the "
                        f"Fashion-MNIST idx files)")
    if (path / IDX_MARKER).is_file():
        return _load_idx(path, contract, split, limit_per_class, seed)
    folder = path / split if split and (path / split).is_dir() else path
    if contract.reads_hand_features:
        from edgecnn.data.hands import load_hand_features  # the hand finder's models load only for hand models

        return load_hand_features(folder, contract, limit_per_class, seed, keep)
    found = class_folders(folder)
    if sorted(found) != sorted(contract.labels):
        raise DataError(f"{folder}: class folders {found} do not match the model's labels "
                        f"{list(contract.labels)} (expected one sub-folder per label)")
    items = [(file, index, str(path)) for file, index in
             labelled_files(folder, contract.labels, limit_per_class, np.random.default_rng(seed), keep)]
    if not items:
        raise DataError(f"{folder}: no readable images under the class folders {list(contract.labels)}")
    try:
        return load_files(items, contract.input_size, contract.channel_order, contract.resize, str(folder))
    except DataError:
        raise DataError(f"{folder}: no readable images under the class folders {list(contract.labels)}") from None


def _load_idx(root: Path, contract: ModelContract, split: str | None, limit: int | None,
              seed: int) -> LabelledImages:
    from edgecnn.data.idx import load_fashion_split

    split = split or "train"
    images, labels = load_fashion_split(root, split)
    if len(contract.labels) != 10:
        raise DataError(f"{root}: Fashion-MNIST has 10 classes, the model has {len(contract.labels)} "
                        f"labels {list(contract.labels)}")
    if limit is not None:
        order = sample_per_class(labels, limit, seed)
        images, labels = images[order], labels[order]
    if images.shape[1:3] != tuple(contract.input_size) or contract.channels != 1:
        images = np.stack([resize(_channels(image, contract.channel_order), contract.input_size, contract.resize)
                           for image in images])
    return LabelledImages(np.ascontiguousarray(images), labels, [str(root)] * len(labels), origin=f"{root} ({split})")


def _channels(gray: np.ndarray, channel_order: str) -> np.ndarray:
    return gray if channel_order == "GRAY" else np.repeat(gray, 3, axis=2)
