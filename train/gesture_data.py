"""Training data of ``hand_gestures``: your recorded frames, the shipped negatives and hand-free photos, as the hand
landmark model's embedding + 21 points (what ``rps_hand_embedding`` reads).

- **Your gestures**: ``DIR/train/<class>/`` (any names, two or more), as ``edgecnn record`` writes them; a
  ``DIR/validation/`` split, when there is one, is the held-out data. Without one, whole recordings are held out:
  the sessions in ``edgecnn record``'s file names (``<label>-<session>-<n>.jpg``; other files are grouped by
  :func:`~edgecnn.data.splits.clip_key`), a quarter of each class's sessions, or the last fifth of a class recorded
  in one session (:func:`held_out_files`).
- **"no gesture"**: hands showing another sign or none, from the shipped sets (:data:`NEGATIVE_FOLDERS`), so you need
  not record them. They come in groups, one per sign of a set: a group whose hands vote, by their nearest
  neighbours, that they look like one of your gestures is left out whole (:mod:`edgecnn.train.gesture_negatives`):
  the shipped sets hold thumbs up, call-me, index-up and three- or four-finger hands, which may well be yours. A
  fair share of each other sign is kept, and your frames weigh more than one negative each.
- **"no hand"**: the hands the finder imagines in photos without hands (cats-vs-dogs), as ``rps_hand_embedding``.

Every hand is found by the runtime's :class:`~edgecnn.runtime.hands.HandFinder` and cached
(:func:`~edgecnn.data.hands.scan_split`): ``edgecnn record`` fills the cache as it writes, so training reads it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.data.datasets import DatasetSpec, find_roots, get_dataset
from edgecnn.data.description import DataDescription, HashHoldOut
from edgecnn.data.errors import DataError
from edgecnn.data.hands import CACHE_DIR, HandScan, scan_split
from edgecnn.data.loader import LabelledImages, class_folders, labelled_files
from edgecnn.data.splits import HOLDOUT_RULE, TrainingData, clip_key, held_out_split_of
from edgecnn.runtime.hands import HandFinder
from edgecnn.train.gesture_negatives import (
    YOUR_WEIGHT,
    at_most_per_group,
    sign_of,
    source_classes,
    unlike_your_gestures,
)

NO_HAND, NO_GESTURE = "none", "no_gesture"
RESERVED = (NO_HAND, NO_GESTURE, "other_gesture")
"""Class folder names that mean the model's own outcomes; a recorded class may not take them."""
MIN_FRAMES = 5
"""A class needs at least this many frames with a hand (training and held-out together)."""
NEGATIVE_FOLDERS = {"gestures-room-emrecandir9": ("no_gesture", "other_gesture"),
                    "rps-webcam-subhih": ("other_gesture",)}
"""Shipped sets and their class folders of hands that are no gesture of yours (their train/ split only)."""
HELD_OUT_SESSIONS = 0.25
"""Share of a class's recording sessions held out (at least one, never all)."""
LAST_PART = 0.2
"""A class recorded in one session: this last share of its frames is held out (a block, not every fifth frame)."""
VERIFY_EVERY = 5
"""The data description's hold-out for verify and calibration: one file in this many, by name hash."""
CHECKOUT_SETS = Path(__file__).resolve().parents[2] / "shared" / "data"
"""``../shared/data`` beside a source checkout of edgecnn (editable install): the last place the sets are looked for."""
SESSION = re.compile(r"^.+-(\d{8}T\d{6}-[0-9a-f]{4})-\d+$")
"""``edgecnn record``'s file names: ``<label>-<YYYYmmddTHHMMSS>-<4 hex>-<n>``."""


@dataclass(frozen=True)
class GestureSources:
    """Where the frames of one ``hand_gestures`` run come from."""

    roots: tuple[Path, ...]
    """Your recordings: ``<root>/train/<class>/`` (and optionally ``<root>/validation/<class>/``)."""
    negative_roots: tuple[Path, ...] = ()
    """Sets with no-gesture hands (:data:`NEGATIVE_FOLDERS`); empty: the shipped ones where they are found."""
    no_hand_roots: tuple[Path, ...] = ()
    """Photos without hands (``<root>/<split>/<class>/``); empty: the cats-vs-dogs set where it is found."""
    limit: int | None = None
    """At most this many files per class folder (quick runs)."""
    seed: int = 42
    """Seed of the ``limit`` sampling."""


def session_of(path: Path) -> str:
    """The recording a frame belongs to: ``edgecnn record``'s session id, else the file's clip key."""
    match = SESSION.match(path.stem)
    return match.group(1) if match else clip_key(path.name)


def held_out_files(files: list[Path]) -> set[Path]:
    """The frames of one class held out when there is no validation split: whole sessions (a quarter, by name hash,
    at least one and never all), or the last fifth of a class recorded in one session."""
    sessions: dict[str, list[Path]] = {}
    for path in sorted(files):
        sessions.setdefault(session_of(path), []).append(path)
    if len(sessions) >= 2:
        ranked = sorted(sessions, key=lambda s: hashlib.sha1(s.encode()).hexdigest())
        count = min(len(ranked) - 1, max(1, round(len(ranked) * HELD_OUT_SESSIONS)))
        return {path for session in ranked[:count] for path in sessions[session]}
    ordered = sorted(files)
    count = int(len(ordered) * LAST_PART) if len(ordered) >= 5 else 0
    return set(ordered[len(ordered) - count:])


def load_gesture_data(sources: GestureSources, cache_dir: Path | None = CACHE_DIR) -> TrainingData:
    """Your classes + :data:`NO_GESTURE` + :data:`NO_HAND`, as features, split into training and held-out frames;
    :class:`DataError` names the folder for fewer than two classes, a reserved or too small class, or no hand."""
    finder = HandFinder.open(threads=1)
    classes = _classes(sources.roots)
    labels = tuple(sorted(classes + (NO_GESTURE, NO_HAND)))
    train_parts, eval_parts, counts = [], [], {}
    own = [_own_frames(root, classes, labels, finder, sources, cache_dir, counts) for root in sources.roots]
    for train, held in own:
        train_parts.append(train)
        eval_parts.append(held)
    _check_counts(sources.roots, classes, labels, train_parts, eval_parts)
    yours = _Part.concat(train_parts)
    negatives, groups, names = _negatives(sources, finder, cache_dir, labels.index(NO_GESTURE), counts)
    kept, dropped = unlike_your_gestures(yours.images, yours.labels, negatives.images, groups, yours.mirror)
    counts["no-gesture groups left out as one of your gestures (share voting so)"] = dropped
    counts["no-gesture hands left out as like one of your gestures"] = int((~kept).sum())
    kept &= at_most_per_group(groups, names)
    counts["no-gesture hands trained"] = int(kept.sum())
    train_parts = [part.mirrored(YOUR_WEIGHT) for part in train_parts] + [negatives.select(kept).mirrored()]
    eval_parts = [part.plain() for part in eval_parts]
    train_parts.append(_no_hands(sources, finder, cache_dir, labels.index(NO_HAND), "train", counts))
    eval_parts.append(_no_hands(sources, finder, cache_dir, labels.index(NO_HAND), "validation", counts))
    return TrainingData(labels, LabelledImages.concat(train_parts), LabelledImages.concat(eval_parts), "held-out",
                        _description(sources.roots, counts))


def _classes(roots: tuple[Path, ...]) -> tuple[str, ...]:
    if not roots:
        raise DataError("hand_gestures needs --data DIR (the folder 'edgecnn record DIR' wrote)")
    classes = None
    for root in roots:
        train = Path(root) / "train"
        if not train.is_dir():
            raise DataError(f"--data {root}: no train/ folder (expected {root}/train/<gesture>/ frames, as "
                            f"'edgecnn record {root} --label NAME' writes them)")
        found = tuple(class_folders(train))
        reserved = [name for name in found if name in RESERVED]
        if reserved:
            raise DataError(f"{train / reserved[0]}: {reserved[0]!r} is the model's own outcome, not a gesture; "
                            f"rename the folder (reserved: {', '.join(RESERVED)})")
        if len(found) < 2:
            raise DataError(f"{train}: {len(found)} gesture folder(s) {list(found)}; hand_gestures needs two or "
                            f"more (record another with 'edgecnn record {root} --label NAME')")
        if classes is not None and found != classes:
            raise DataError(f"--data {root}: gesture folders {list(found)} differ from {list(classes)}")
        classes = found
    return classes


def _own_frames(root, classes, labels, finder, sources, cache_dir, counts):
    """One root's frames with a hand: (training, held-out) features; a held-out split folder when it has one."""
    root = Path(root)
    to_label = np.array([labels.index(name) for name in classes])
    validation = held_out_split_of(root, "validation")
    parts = []
    for split, keep in (("train", None), (validation, None)) if validation else (("train", "train"),
                                                                                  ("train", "held-out")):
        chosen = _chosen(root / split, classes, sources)
        if keep is not None:
            held = set().union(*(held_out_files([p for p in chosen if p.parent.name == c]) for c in classes))
            chosen = {p for p in chosen if (p in held) == (keep == "held-out")}
        scan = scan_split(root / split, finder, classes, chosen.__contains__, cache_dir)
        counts[f"{root.name}/{split}" + (f" ({keep})" if keep else "")] = _found_note(scan)
        parts.append(_features(scan, to_label[np.asarray(scan.labels, dtype=np.int64)], str(root)))
    return parts[0], parts[1]


def _chosen(folder: Path, classes: tuple[str, ...], sources: GestureSources) -> set[Path]:
    rng = np.random.default_rng(sources.seed)
    return {path for path, _ in labelled_files(folder, classes, sources.limit, rng)}


def _check_counts(roots, classes, labels, train_parts, eval_parts) -> None:
    every = np.concatenate([part.labels for part in train_parts + eval_parts])
    for name in classes:
        found = int((every == labels.index(name)).sum())
        if found == 0:
            raise DataError(f"{roots[0]}/train/{name}: no hand found in any frame (the hand finder needs the whole "
                            f"hand in the picture; record it again)")
        if found < MIN_FRAMES:
            raise DataError(f"{roots[0]}/train/{name}: {found} frame(s) with a hand; a class needs at least "
                            f"{MIN_FRAMES} (record more with 'edgecnn record {roots[0]} --label {name}')")
    trained = np.concatenate([part.labels for part in train_parts])
    for name in classes:
        if not (trained == labels.index(name)).any():
            raise DataError(f"{roots[0]}/train/{name}: every frame with a hand is held out; record it again")


def _negatives(sources, finder, cache_dir, label: int, counts) -> tuple[_Part, np.ndarray, list[str]]:
    """The no-gesture hands, the group of each (``<set>/<sign>``) and their file names."""
    roots = list(sources.negative_roots) or _shipped(tuple(NEGATIVE_FOLDERS))
    parts, groups, names = [], [], []
    for root in roots:
        root = Path(root)
        folders = NEGATIVE_FOLDERS.get(root.name) or tuple(n for n in ("no_gesture", "other_gesture")
                                                           if (root / "train" / n).is_dir())
        if not folders:
            raise DataError(f"--no-gesture-data {root}: no train/no_gesture or train/other_gesture folder")
        scan = scan_split(root / "train", finder, folders, _chosen(root / "train", folders, sources).__contains__,
                          cache_dir)
        counts[f"{root.name}/train {'+'.join(folders)} (no gesture)"] = _found_note(scan)
        parts.append(_features(scan, np.full(len(scan.hands), label, dtype=np.int64), str(root)))
        signs = source_classes(root)
        groups += [f"{root.name}/{sign_of(path, signs)}" for path in scan.paths]
        names += [path.name for path in scan.paths]
    return _Part.concat(parts), np.array(groups, dtype=str), names


def _no_hands(sources, finder, cache_dir, label: int, split: str, counts) -> LabelledImages:
    roots = list(sources.no_hand_roots) or _shipped(get_dataset("cats_vs_dogs").local_dirs)
    parts = []
    for root in roots:
        folder = Path(root) / split
        if not folder.is_dir():
            continue
        names = tuple(class_folders(folder))
        scan = scan_split(folder, finder, names, _chosen(folder, names, sources).__contains__, cache_dir)
        counts[f"{Path(root).name}/{split} hands imagined (no hand)"] = len(scan.hands)
        part = _features(scan, np.full(len(scan.hands), label, dtype=np.int64), str(root))
        parts.append(part.mirrored() if split == "train" else part.plain())
    return LabelledImages.concat(parts)


def _shipped(names: tuple[str, ...]) -> list[Path]:
    """The shipped sets ``names`` where ``$EDGECNN_DATA`` or the download cache has them, else in ``../shared/data``
    beside a source checkout (where the tests find them); none found: the registry's error saying how to get them."""
    spec = DatasetSpec(name="no_gesture_hands" if len(names) > 1 else names[0], kind="image_folder", labels=(),
                       eval_split="validation", local_dirs=names)
    try:
        return find_roots(spec)
    except DataError:
        beside = [CHECKOUT_SETS / name for name in names if (CHECKOUT_SETS / name).is_dir()]
        if beside:
            return beside
        raise


def _features(scan: HandScan, labels: np.ndarray, source: str) -> _Part:
    shape = (-1, 1, 672 + 63)
    return _Part(scan.features("hand_embedding").reshape(shape), labels, [source] * len(labels),
                 scan.features("hand_embedding", mirrored=True).reshape(shape))


@dataclass
class _Part:
    """Hands of one folder: their features, labels and sources, and the features of their mirror images."""

    images: np.ndarray
    labels: np.ndarray
    sources: list[str]
    mirror: np.ndarray

    @staticmethod
    def concat(parts: list[_Part]) -> _Part:
        if not parts:
            empty = np.zeros((0, 1, 672 + 63), np.float32)
            return _Part(empty, np.zeros(0, np.int64), [], empty)
        return _Part(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]),
                     [s for p in parts for s in p.sources], np.concatenate([p.mirror for p in parts]))

    def select(self, keep: np.ndarray) -> _Part:
        return _Part(self.images[keep], self.labels[keep], [self.sources[i] for i in np.flatnonzero(keep)],
                     self.mirror[keep])

    def plain(self) -> LabelledImages:
        return LabelledImages(self.images, self.labels, list(self.sources))

    def mirrored(self, times: int = 1) -> LabelledImages:
        """With every hand's mirror image added (left and right hands look alike), as training sees them; ``times``:
        each hand and its mirror image that many times (a weight)."""
        return LabelledImages(np.concatenate([self.images, self.mirror] * times),
                              np.concatenate([self.labels, self.labels] * times), list(self.sources) * 2 * times)


def _found_note(scan: HandScan) -> dict:
    return {"with_hand": len(scan.hands), "no_hand": len(scan.not_found), "unreadable": len(scan.unreadable)}


def _description(roots: tuple[Path, ...], counts: dict) -> DataDescription:
    """What verify and calibration read again: your folders, with one file in five (name hash) as held-out frames
    where there is no validation split (training held out whole sessions; see metrics.json)."""
    resolved = tuple(str(Path(r).resolve()) for r in roots)
    eval_split = held_out_split_of(Path(resolved[0]), "validation")
    no_eval = tuple(r for r in resolved if held_out_split_of(Path(r), "validation") is None)
    rule = HashHoldOut(no_eval, "train", VERIFY_EVERY, HOLDOUT_RULE) if no_eval else None
    return _Counted("hand_landmarks", resolved, "train", eval_split, rule, counts=dict(counts))


@dataclass(frozen=True)
class _Counted(DataDescription):
    counts: dict | None = None
    """Per folder, the frames with and without a hand, and the negatives left out."""

    def to_dict(self) -> dict:
        return {**super().to_dict(), "hand_gestures": self.counts}
