"""Training data for hand-feature models: every image through the runtime's hand finder, as features.

The same :class:`~edgecnn.runtime.hands.HandFinder` and :func:`~edgecnn.runtime.hand_features.hand_features` the live
loop uses, so the classifier learns exactly what ``edgecnn run --hand auto`` will feed it. Sources with their own
held-out split keep it; a source without one (rps-real-kaust) holds out whole source clips
(:func:`~edgecnn.data.splits.held_out_clip`), not frames, so evaluation sees people and rooms training never
did. Images where no hand is found are counted per split (``metrics.json``), listed in the data description, and
not trained on. Training adds the mirror image of every hand (landmarks x-flipped, the embedding of the flipped
region), so left and right hands look alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.data.datasets import DatasetSpec
from edgecnn.data.description import DataDescription, HashHoldOut
from edgecnn.data.errors import DataError
from edgecnn.data.hands import CACHE_DIR, NO_GESTURE_FOLDERS, NO_GESTURE_LABEL, label_of_folder, scan_split
from edgecnn.data.loader import LabelledImages as Split
from edgecnn.data.loader import class_folders, labelled_files
from edgecnn.data.splits import CLIP_FRACTION, CLIP_RULE, TrainingData, held_out_clip, held_out_split_of
from edgecnn.runtime.contract import HAND_FEATURE_SHAPES
from edgecnn.runtime.hands import HandFinder

NO_HAND_LABEL = "none"
CAMERA_FRAME = (480, 640)  # hand-free photos are also seen enlarged to a webcam frame, where tiles are searched


def load_landmark_data(dataset: DatasetSpec, roots: list[Path], limit: int | None, seed: int,
                       no_hand_roots: list[Path] = (), cache_dir: Path | None = CACHE_DIR,
                       kind: str = "hand_landmarks", train_only_roots: list[Path] = (),
                       no_hand_stills: list[Path] = (), no_hand_frames: list[Path] = ()) -> TrainingData:
    """Hands of ``roots`` by class, as the features of input kind ``kind``
    (:data:`~edgecnn.runtime.contract.HAND_FEATURE_SHAPES`); with ``no_hand_roots`` (photos without hands, any class
    folders), every hand the finder imagines in them becomes an example of the extra class :data:`NO_HAND_LABEL`.

    Class folders named in :data:`~edgecnn.data.hands.NO_GESTURE_FOLDERS` (hands showing another sign, or none)
    are all the one class :data:`~edgecnn.data.hands.NO_GESTURE_LABEL`; the gesture folders must be the same in
    every root. ``train_only_roots`` (a subset of ``roots``) are trained on whole: nothing of them is held out (their
    file names tell no person or clip apart; measure them by leaving them out of training). Hand-free photos are
    read as they are and enlarged to a camera frame (:data:`CAMERA_FRAME`), those of ``no_hand_stills`` (a subset of
    ``no_hand_roots``) only as they are, those of ``no_hand_frames`` (likewise) only as camera frames."""
    finder = HandFinder.open(threads=1)
    shape = HAND_FEATURE_SHAPES[kind]
    whole = {Path(r).resolve() for r in train_only_roots}
    unknown = whole - {Path(r).resolve() for r in roots}
    if unknown:
        raise DataError(f"--train-only-data {sorted(map(str, unknown))[0]}: not one of the --data roots")
    folders = {root: tuple(class_folders(root / dataset.train_split)) for root in roots}
    labels = _labels(folders)
    train_parts, eval_parts, not_found = [], [], {}
    for root in roots:
        names = folders[root]
        to_label = np.array([labels.index(label_of_folder(name)) for name in names], dtype=np.int64)
        own_eval = held_out_split_of(root, dataset.eval_split)
        train_dir = root / dataset.train_split
        if Path(root).resolve() in whole:
            pairs = [(train_dir, None, train_parts)]
        elif own_eval is not None:
            pairs = [(train_dir, None, train_parts), (root / own_eval, None, eval_parts)]
        else:
            pairs = [(train_dir, lambda p: not held_out_clip(p.name), train_parts),
                     (train_dir, lambda p: held_out_clip(p.name), eval_parts)]
        for folder, keep, parts in pairs:
            scan = scan_split(folder, finder, names, _sampled(folder, names, limit, seed, keep), cache_dir)
            parts.append(_part(scan, kind, shape, to_label[np.asarray(scan.labels, dtype=np.int64)], str(root),
                               mirrored=parts is train_parts))
            key = f"{root.name}/{folder.name}" + ("" if keep is None else " (held-out clips)" if parts is eval_parts
                                                   else " (training clips)")
            not_found[key] = len(scan.not_found)
    if no_hand_roots:
        stills, enlarged = {Path(r).resolve() for r in no_hand_stills}, {Path(r).resolve() for r in no_hand_frames}
        frames = {root: (None,) if Path(root).resolve() in stills else (CAMERA_FRAME,)
                  if Path(root).resolve() in enlarged else (None, CAMERA_FRAME) for root in no_hand_roots}
        labels = _with_no_hand(labels, train_parts, eval_parts, frames, finder, dataset, cache_dir, not_found,
                               limit, seed, kind)
    train = Split.concat(train_parts)
    description = landmark_description(dataset, roots, no_hand_roots, not_found, train_only_roots)
    return TrainingData(labels, train, Split.concat(eval_parts) if eval_parts else None, dataset.eval_split,
                        description)


def _labels(folders: dict[Path, tuple[str, ...]]) -> tuple[str, ...]:
    """The class labels of roots with these class folders: the gestures (the same in every root), plus
    :data:`NO_GESTURE_LABEL` when any root has a no-gesture folder; alphabetical."""
    if not folders:
        raise DataError("no data roots given")
    gestures = None
    for root, names in folders.items():
        own = tuple(name for name in names if name not in NO_GESTURE_FOLDERS)
        if gestures is not None and own != gestures:
            raise DataError(f"--data {root}: class folders {list(own)} differ from {list(gestures)} (besides "
                            f"{' and '.join(NO_GESTURE_FOLDERS)}, which are the class {NO_GESTURE_LABEL!r})")
        gestures = own
    negative = any(name in NO_GESTURE_FOLDERS for names in folders.values() for name in names)
    return tuple(sorted(gestures + ((NO_GESTURE_LABEL,) if negative else ())))


def landmark_description(dataset: DatasetSpec, roots: list[Path], no_hand_roots, not_found: dict,
                         train_only_roots=()) -> DataDescription:
    """The contract's ``extra["data"]``: a :class:`DataDescription` of kind ``hand_landmarks`` (so verify and
    calibration find the held-out and training images, and read them through the hand finder again), with the clip
    hold-out rule for roots without their own split, plus what the finder made of each split."""
    resolved = [Path(r).resolve() for r in roots]
    held = {root: held_out_split_of(root, dataset.eval_split) for root in resolved}
    whole = tuple(str(Path(r).resolve()) for r in train_only_roots)
    no_eval = tuple(str(root) for root, split in held.items() if split is None and str(root) not in whole)
    rule = HashHoldOut(no_eval, dataset.train_split, round(1 / CLIP_FRACTION), CLIP_RULE) if no_eval else None
    return _WithFinderCounts("hand_landmarks", tuple(map(str, resolved)), dataset.train_split, held[resolved[0]],
                             rule, no_hand_roots=tuple(str(Path(r).resolve()) for r in no_hand_roots),
                             no_hand_found=dict(not_found), train_only_roots=whole)


@dataclass(frozen=True)
class _WithFinderCounts(DataDescription):
    no_hand_roots: tuple[str, ...] = ()
    """Photos without hands whose imagined hands were trained as the no-hand class."""
    no_hand_found: dict = field(default_factory=dict)
    """Per split, how many images had no hand found (not trained on), and how many hands were imagined."""
    train_only_roots: tuple[str, ...] = ()
    """Roots trained on whole, nothing of them held out (``--train-only-data``)."""

    def to_dict(self) -> dict:
        return {**super().to_dict(), "no_hand_roots": list(self.no_hand_roots), "no_hand_found": self.no_hand_found,
                "train_only_roots": list(self.train_only_roots)}


def _with_no_hand(labels, train_parts, eval_parts, frames_of, finder, dataset, cache_dir, counts, limit, seed,
                  kind):
    combined = tuple(sorted(labels + (NO_HAND_LABEL,)))
    remap = np.array([combined.index(name) for name in labels])
    for parts in (train_parts, eval_parts):
        for i, part in enumerate(parts):
            parts[i] = Split(part.images, remap[part.labels], part.sources)
    none = combined.index(NO_HAND_LABEL)
    for root, frames in frames_of.items():
        own_eval = held_out_split_of(root, dataset.eval_split)
        if own_eval is None:
            raise DataError(f"--no-hand-data {root}: expected its own validation/ or test/ split beside train/")
        for split, parts in ((dataset.train_split, train_parts), (own_eval, eval_parts)):
            folder = root / split
            keep = _sampled(folder, tuple(class_folders(folder)), limit, seed)
            for frame in frames:
                scan = scan_split(folder, finder, None, keep, cache_dir, frame)
                labels_none = np.full(len(scan.hands), none, dtype=np.int64)
                parts.append(_part(scan, kind, HAND_FEATURE_SHAPES[kind], labels_none, str(root),
                                   mirrored=parts is train_parts))
                counts[f"{root.name}/{split} hands imagined ({'camera frame' if frame else 'as is'})"] = len(scan.hands)
    return combined


def _sampled(folder: Path, names: tuple[str, ...], limit: int | None, seed: int, keep=None):
    """``keep`` narrowed to ``limit`` images per class, chosen before any hand is searched (a small run stays
    small); None when every image takes part."""
    if limit is None:
        return keep
    chosen = {path for path, _ in labelled_files(folder, names, limit, np.random.default_rng(seed), keep)}
    return chosen.__contains__


def _part(scan, kind: str, shape: tuple[int, ...], labels: np.ndarray, source: str, mirrored: bool) -> Split:
    """One scanned split as features of ``shape``; ``mirrored`` (training) adds every hand's mirror image."""
    features = scan.features(kind).reshape(-1, *shape)
    if not mirrored:
        return Split(features, labels, [source] * len(labels))
    flipped = scan.features(kind, mirrored=True).reshape(-1, *shape)
    return Split(np.concatenate([features, flipped]), np.concatenate([labels, labels]), [source] * (2 * len(labels)))
