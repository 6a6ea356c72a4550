"""Training data for ``hand_landmarks`` models: every image through the runtime's hand finder, as features.

The same :class:`~edgecnn.runtime.hands.HandFinder` and :func:`~edgecnn.runtime.hands.landmark_features` the live
loop uses, so the classifier learns exactly what ``edgecnn run --hand auto`` will feed it. Sources with their own
held-out split keep it; a source without one (rps-real-kaust) holds out whole source clips
(:func:`~edgecnn.data.hands.held_out_clip`), not frames, so evaluation sees people and rooms training never
did. Images where no hand is found are counted per split (``metrics.json``), listed in the data description, and
not trained on. Training adds the mirror image of every hand (x flipped), so left and right hands look alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.data.datasets import DatasetSpec
from edgecnn.data.errors import DataError
from edgecnn.data.hands import held_out_clip, scan_split
from edgecnn.data.loader import LabelledImages as Split
from edgecnn.data.loader import class_folders, sample_per_class
from edgecnn.data.splits import TrainingData, held_out_split_of
from edgecnn.runtime.hands import HandFinder

CACHE_DIR = Path.home() / ".cache" / "edgecnn" / "hands"
NO_HAND_LABEL = "none"
CAMERA_FRAME = (480, 640)  # hand-free photos are also seen enlarged to a webcam frame, where tiles are searched


def load_landmark_data(dataset: DatasetSpec, roots: list[Path], limit: int | None, seed: int,
                       no_hand_roots: list[Path] = (), cache_dir: Path | None = CACHE_DIR) -> TrainingData:
    """Hands of ``roots`` by class; with ``no_hand_roots`` (photos without hands, any class folders), every hand the
    finder imagines in them becomes an example of the extra class :data:`NO_HAND_LABEL`."""
    finder = HandFinder.open(threads=1)
    train_parts, eval_parts, not_found, labels = [], [], {}, None
    for root in roots:
        own_eval = held_out_split_of(root, dataset.eval_split)
        train_dir = root / dataset.train_split
        names = tuple(class_folders(train_dir))
        if labels is not None and names != labels:
            raise DataError(f"--data {root}: class folders {list(names)} differ from {list(labels)}")
        labels = names
        if own_eval is not None:
            pairs = [(train_dir, None, train_parts), (root / own_eval, None, eval_parts)]
        else:
            pairs = [(train_dir, lambda p: not held_out_clip(p.name), train_parts),
                     (train_dir, lambda p: held_out_clip(p.name), eval_parts)]
        for folder, keep, parts in pairs:
            scan = scan_split(folder, finder, names, keep, cache_dir)
            features = scan.features().reshape(-1, 21, 3)
            chosen = sample_per_class(np.asarray(scan.labels, dtype=np.int64), limit, seed)
            parts.append(Split(features[chosen], np.asarray(scan.labels, dtype=np.int64)[chosen],
                               [str(root)] * len(chosen)))
            key = f"{root.name}/{folder.name}" + ("" if keep is None else " (held-out clips)" if parts is eval_parts
                                                   else " (training clips)")
            not_found[key] = len(scan.not_found)
    if labels is None:
        raise DataError("no data roots given")
    if no_hand_roots:
        labels = _with_no_hand(labels, train_parts, eval_parts, no_hand_roots, finder, dataset, cache_dir, not_found)
    train = _mirrored(Split.concat(train_parts))
    description = LandmarkDataDescription({
        "kind": "hand_landmarks", "roots": [str(r.resolve()) for r in roots],
        "no_hand_roots": [str(r.resolve()) for r in no_hand_roots],
        "hold_out": "own validation/test split, else whole source clips (SHA-1 of the clip key, 1 in 5)",
        "no_hand_found": not_found})
    return TrainingData(labels, train, Split.concat(eval_parts), dataset.eval_split, description)


class LandmarkDataDescription:
    """What a hand-landmark model was trained on (the contract's ``extra["data"]``, kind ``hand_landmarks``)."""

    def __init__(self, values: dict):
        self.values = values

    def to_dict(self) -> dict:
        return dict(self.values)


def _with_no_hand(labels, train_parts, eval_parts, no_hand_roots, finder, dataset, cache_dir, counts):
    combined = tuple(sorted(labels + (NO_HAND_LABEL,)))
    remap = np.array([combined.index(name) for name in labels])
    for parts in (train_parts, eval_parts):
        for i, part in enumerate(parts):
            parts[i] = Split(part.images, remap[part.labels], part.sources)
    none = combined.index(NO_HAND_LABEL)
    for root in no_hand_roots:
        own_eval = held_out_split_of(root, dataset.eval_split)
        if own_eval is None:
            raise DataError(f"--no-hand-data {root}: expected its own validation/ or test/ split beside train/")
        for split, parts in ((dataset.train_split, train_parts), (own_eval, eval_parts)):
            for frame in (None, CAMERA_FRAME):
                scan = scan_split(root / split, finder, None, None, cache_dir, frame)
                features = scan.features().reshape(-1, 21, 3)
                parts.append(Split(features, np.full(len(features), none, dtype=np.int64), [str(root)] * len(features)))
                counts[f"{root.name}/{split} hands imagined ({'camera frame' if frame else 'as is'})"] = len(features)
    return combined


def _mirrored(split: Split) -> Split:
    flipped = split.images.copy()
    flipped[:, :, 0] *= -1.0
    return Split(np.concatenate([split.images, flipped]), np.concatenate([split.labels, split.labels]),
                 split.sources + split.sources, split.skipped)
