"""The split rules: which images of a data source are held out, and the train / held-out sets training uses.

Every source is measured on images training never saw: its own held-out split folder (the dataset's name for it,
else ``validation/`` or ``test/``), or, for a source that has none (rps-real-kaust has only ``train/``), one image in
:data:`HOLDOUT_EVERY` chosen by the SHA-1 of its file name and kept out of training. Hand models hold out whole
source clips instead (:func:`held_out_clip`), so a person and a room are either trained on or not.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from edgecnn.data.datasets import DatasetSpec
from edgecnn.data.errors import DataError
from edgecnn.data.idx import load_fashion_split
from edgecnn.data.loader import LabelledImages, discover_labels, load_image_split, sample_per_class

HOLDOUT_EVERY = 5
"""A source without its own held-out split gives one image in this many to evaluation (chosen by file-name hash)."""
HOLDOUT_RULE = "sha1(file name) % every == 0"
"""The rule :func:`held_out_by_hash` applies, as the data description records it."""


def held_out_by_hash(path: Path) -> bool:
    """Whether ``path`` belongs to the hash-chosen held-out part of a source that has no held-out split.

    The file name's SHA-1 decides, so the choice is the same on every machine and for every run, and adding files to
    the folder never moves an existing image between train and evaluation.
    """
    return held_out_by_name(Path(path).name)


def held_out_by_name(name: str, every: int = HOLDOUT_EVERY) -> bool:
    """The rule behind :func:`held_out_by_hash`, for any stable name (a file name, or a subject shared by files)."""
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % every == 0


CLIP_FRACTION = 0.2
"""rps-real-kaust for hand models: this share of its source clips (videos, photo sessions) is held out whole."""
CLIP_RULE = "sha1(clip key) / 2**32 < fraction"
"""The rule :func:`held_out_clip` applies, as the data description records it."""


_CLIP_RULES = (
    (re.compile(r"^egohands-public-(\d+)"), lambda m: f"egohands-{int(m.group(1)) // 600_000}"),  # 10-min sessions
    (re.compile(r"^(\d{8})_\d+"), lambda m: f"camera-{m.group(1)}"),  # phone photos: one session per day
    (re.compile(r"^Photo-on-(\d+-\d+-\d+)"), lambda m: f"photo-booth-{m.group(1)}"),
    (re.compile(r"^Screen-Shot-(\d{4}-\d\d-\d\d)"), lambda m: f"screenshot-{m.group(1)}"),
    (re.compile(r"^(\d+)$"), lambda m: f"numbered-{int(m.group(1)) // 100}"),  # numbered frames: runs of 100
    (re.compile(r"^(.+?)-\d+$"), lambda m: m.group(1)),  # video frames: <clip>-<frame number>
)


def clip_key(file_name: str) -> str:
    """The source clip of an rps-real-kaust file (Roboflow export names: ``<class>.<source>_<ext>.rf.<hash>_<n>``).

    Frames of one video, photos of one session, or one day's screenshots share a key, so holding out whole keys
    keeps a person and a room out of training, not just a frame.
    """
    stem = file_name.split(".rf.", 1)[0]
    stem = stem.split(".", 1)[1] if "." in stem else stem
    stem = re.sub(r"(_(png|jpg|jpeg|mp4|mov))+$", "", stem, flags=re.IGNORECASE)
    for pattern, key in _CLIP_RULES:
        match = pattern.match(stem)
        if match:
            return key(match)
    return stem


def held_out_clip(file_name: str, fraction: float = CLIP_FRACTION) -> bool:
    """True for the files whose whole clip is held out (SHA-1 of the clip key: deterministic, any machine)."""
    digest = hashlib.sha1(clip_key(file_name).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def held_out_split_of(root: Path, preferred: str | None) -> str | None:
    """The name of ``root``'s held-out split folder: ``preferred`` if present, else validation/ or test/."""
    for name in dict.fromkeys(n for n in (preferred, "validation", "test") if n):
        if (Path(root) / name).is_dir():
            return name
    return None


@dataclass
class TrainingData:
    """Everything training needs from the data."""

    labels: tuple[str, ...]
    """Class names in index order."""
    train: LabelledImages
    """The training split."""
    eval: LabelledImages | None
    """The held-out split, or None when the data has none."""
    eval_split: str
    """Name of the held-out split (``validation`` or ``test``)."""
    description: object
    """The :class:`~edgecnn.data.description.DataDescription` that goes into the contract."""


def load_training_data(dataset: DatasetSpec, roots: list[Path], input_shape: tuple[int, int, int],
                       limit: int | None = None, seed: int = 0, resize: str = "bilinear") -> TrainingData:
    """Loads the train and held-out splits of ``dataset`` from ``roots`` at the model's input size, resized with the
    ``resize`` method the model's contract will name (so training sees what the runtime feeds)."""
    from edgecnn.data.description import describe

    size, channels = input_shape[:2], input_shape[2]
    description = describe(dataset, roots)
    if dataset.kind == "fashion_mnist_idx":
        return _load_fashion(dataset, roots[0], input_shape, limit, seed, description)
    channel_order = "GRAY" if channels == 1 else "RGB"
    labels = discover_labels(roots, dataset.train_split)
    held_split = {root: held_out_split_of(root, dataset.eval_split) for root in roots}
    no_eval = [root for root in roots if held_split[root] is None]
    train = load_image_split(roots, dataset.train_split, labels, size, channel_order, limit, seed,
                             keep=lambda root, path: root not in no_eval or not held_out_by_hash(path), resize=resize)
    parts = [load_image_split([root], split, labels, size, channel_order, limit, seed, resize=resize)
             for root, split in held_split.items() if split is not None]
    if no_eval:
        parts.append(load_image_split(no_eval, dataset.train_split, labels, size, channel_order, limit, seed,
                                      keep=lambda root, path: held_out_by_hash(path), resize=resize))
    evaluation = LabelledImages.concat(parts) if parts else None
    return TrainingData(labels, train, evaluation, held_split[roots[0]] or "held-out", description)


def _load_fashion(dataset: DatasetSpec, root: Path, input_shape, limit, seed, description) -> TrainingData:
    if tuple(input_shape) != (28, 28, 1):
        raise DataError(f"Fashion-MNIST is 28x28x1; the model takes {input_shape}")
    splits = {}
    for name in (dataset.train_split, dataset.eval_split):
        images, labels = load_fashion_split(root, name)
        if limit is not None:
            keep = sample_per_class(labels, limit, seed)
            images, labels = images[keep], labels[keep]
        splits[name] = LabelledImages(images, labels, [str(root)] * len(labels), origin=f"{root} ({name})")
    return TrainingData(dataset.labels, splits[dataset.train_split], splits[dataset.eval_split],
                        dataset.eval_split, description)
