"""Image folders through the hand finder: crops and hand features for training, verify and measuring.

``<root>/<split>/<class>/<file>`` folders (the layout of every data set here) are read with the runtime's own
decoder; every image goes through the same :class:`~edgecnn.runtime.hands.HandFinder` the live loop uses, one
unrelated picture at a time (no tracking). Images where no hand is found are counted and listed, never dropped
silently. Results are cached per file (path, size, modification time) because finding hands in a few thousand
images takes minutes on a Pi-class CPU.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.data.errors import DataError
from edgecnn.data.image_files import check_output_folder, split_folders, write_jpeg
from edgecnn.data.loader import LabelledImages, class_folders, labelled_files
from edgecnn.runtime.atomic import write_text_atomic
from edgecnn.runtime.contract import HAND_FEATURE_SHAPES, HandCrop, ModelContract
from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.hand_features import hand_features
from edgecnn.runtime.hands import HandFinder, landmark_box
from edgecnn.runtime.images import is_image_file, read_image_rgb

CACHE_VERSION = 2  # 2: the landmark model's embedding of the hand and of its mirror image are kept too
CACHE_DIR = Path.home() / ".cache" / "edgecnn" / "hands"
"""Where scanned folders' hands are kept between runs (one JSON file per finder setting)."""
NO_GESTURE_LABEL = "no_gesture"
"""The class of a hand that shows none of the gestures (a hand model's contract names it ``no_gesture_label``)."""
NO_GESTURE_FOLDERS = ("no_gesture", "other_gesture")
"""Class folders whose hands are all :data:`NO_GESTURE_LABEL`: hands doing nothing in particular, and hands
showing another sign (thumb up, one finger, OK...); the data sets keep them apart so each can be measured."""


def label_of_folder(name: str, no_gesture_label: str = NO_GESTURE_LABEL) -> str:
    """The class a hand model learns from class folder ``name``: itself, or ``no_gesture_label`` for
    :data:`NO_GESTURE_FOLDERS`."""
    return no_gesture_label if name in NO_GESTURE_FOLDERS else name


@dataclass(frozen=True)
class FoundHand:
    """What the hand finder keeps of the hand in one still picture (a cache entry)."""

    landmarks: np.ndarray
    """``(21, 3)`` float32 landmarks in image pixels."""
    embedding: np.ndarray | None = None
    """``(672,)`` the landmark model's embedding of the hand (None when the landmark model does not return it)."""
    mirrored_embedding: np.ndarray | None = None
    """The same for the hand's region flipped left-right (the mirror image training adds)."""

    def features(self, kind: str, mirrored: bool = False) -> np.ndarray:
        """The flat features a model of input kind ``kind`` reads
        (:func:`~edgecnn.runtime.hand_features.hand_features`)."""
        return hand_features(self.landmarks, self.mirrored_embedding if mirrored else self.embedding, kind, mirrored)


@dataclass
class HandScan:
    """Every image of one split, and what the hand finder made of it."""

    paths: list[Path] = field(default_factory=list)
    """Images in which a hand was found, in folder order."""
    labels: list[int] = field(default_factory=list)
    """Their class indices (alphabetical class folders)."""
    hands: list[FoundHand] = field(default_factory=list)
    """Their hands (landmarks in image pixels, embeddings)."""
    not_found: list[Path] = field(default_factory=list)
    """Images where no hand was found."""
    unreadable: list[str] = field(default_factory=list)
    """One line per file that could not be decoded."""
    classes: tuple[str, ...] = ()
    """Class folder names, in label order."""

    @property
    def landmarks(self) -> list[np.ndarray]:
        """The ``(21, 3)`` landmarks of the found hands, in image pixels."""
        return [hand.landmarks for hand in self.hands]

    def features(self, kind: str = "hand_landmarks", mirrored: bool = False) -> np.ndarray:
        """``(N, F)`` float32 features of the found hands for a model of input kind ``kind`` (``mirrored``: of
        their mirror images)."""
        if not self.hands:
            return np.zeros((0, int(np.prod(HAND_FEATURE_SHAPES[kind]))), dtype=np.float32)
        return np.stack([hand.features(kind, mirrored) for hand in self.hands])

    @property
    def found_rate(self) -> float:
        total = len(self.paths) + len(self.not_found)
        return len(self.paths) / total if total else 0.0


def scan_split(split_dir: str | Path, finder: HandFinder, classes: tuple[str, ...] | None = None,
               keep=None, cache_dir: Path | None = None, frame_size: tuple[int, int] | None = None) -> HandScan:
    """Finds the hand in every image of ``split_dir``; ``keep(path) -> bool`` chooses files (hold-out rules).

    ``frame_size`` ``(height, width)``: enlarge each image to a camera frame first (hand-free photos seen as a webcam
    would, where the finder also searches tiles of the frame).
    """
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise DataError(f"{split_dir}: no such split folder (expected <root>/<split>/<class>/<image files>)")
    classes = classes or tuple(class_folders(split_dir))
    cache = _Cache(cache_dir, finder.settings_key() + f"|frame={frame_size}", frame_size)
    scan = HandScan(classes=classes)
    for index, name in enumerate(classes):
        for path in sorted((split_dir / name).iterdir()):
            if not is_image_file(path) or path.name.startswith(".") or (keep is not None and not keep(path)):
                continue
            try:
                hand = cache.get(path, finder)
            except SourceError as err:
                scan.unreadable.append(str(err))
                continue
            if hand is None:
                scan.not_found.append(path)
            else:
                scan.paths.append(path)
                scan.labels.append(index)
                scan.hands.append(hand)
    cache.save()
    return scan


def load_hand_features(folder: Path, contract: ModelContract, limit_per_class: int | None, seed: int = 0,
                       keep=None, cache_dir: Path | None = CACHE_DIR) -> LabelledImages:
    """The labelled "images" of a hand-feature model (verify, calibration, bench): the float32 features (shaped as the
    contract's ``input_size``) of the hand the contract's crop policy finds in each image of ``folder/<label>/``.

    Class folders are the model's labels, the no-hand label's folder being optional (hand-free photos: every hand
    imagined there is an example of it), and so is the no-gesture label's, which also reads
    :data:`NO_GESTURE_FOLDERS` (``other_gesture``: hands showing another sign). An image with no hand found has
    nothing to feed the model: it is listed in ``skipped`` with the reason, as an unreadable file is.
    """
    crop = contract.hand_crop
    found = class_folders(folder)
    optional = {crop.no_hand_label, crop.no_gesture_label} - {None}
    negative = tuple(NO_GESTURE_FOLDERS) if crop.no_gesture_label is not None else ()
    gestures = tuple(label for label in contract.labels if label not in optional)
    if not set(gestures) <= set(found) or not set(found) <= set(contract.labels) | set(negative):
        raise DataError(f"{folder}: class folders {found} do not match the hand model's labels {list(gestures)} "
                        f"(and optionally {' and '.join(map(repr, sorted(optional) + list(negative)))}: photos "
                        f"without a hand, hands showing none of the gestures)")
    finder = HandFinder.open(threads=1, min_presence=crop.min_presence)
    cache = _Cache(cache_dir, finder.settings_key() + "|frame=None")
    rng = np.random.default_rng(seed)
    folders = tuple(contract.labels) + tuple(name for name in negative if name not in contract.labels)
    to_label = [contract.labels.index(name if name in contract.labels else crop.no_gesture_label) for name in folders]
    features, labels, skipped = [], [], []
    for path, index in labelled_files(folder, folders, limit_per_class, rng, keep):
        try:
            hand = cache.get(path, finder)
        except SourceError as err:
            skipped.append((str(path), str(err)))
            continue
        if hand is None:
            skipped.append((str(path), f"{path}: no hand found"))
            continue
        features.append(hand.features(contract.input_kind).reshape(contract.input_shape))
        labels.append(to_label[index])
    cache.save()
    if not features:
        raise DataError(f"{folder}: no hand found in any readable image under {found}")
    return LabelledImages(np.stack(features), np.asarray(labels, dtype=np.int64), [str(folder)] * len(labels),
                          skipped, f"{folder} (hands found by {crop.detector})")


def find_hand(image_rgb: np.ndarray, finder: HandFinder) -> FoundHand | None:
    """The most confident hand in one still picture (with both embeddings when the finder returns them), or None."""
    hand = finder.find(image_rgb, track=False)
    if hand is None:
        return None
    mirrored = finder.mirrored_embedding(image_rgb, hand) if hand.embedding is not None else None
    return FoundHand(hand.landmarks, hand.embedding, mirrored)


def crop_hands(src: Path, out: Path, finder: HandFinder, crop: HandCrop | None = None) -> dict[str, HandScan]:
    """``edgecnn data crop-hands``: writes the crop the model would see of every image, split by split.

    ``OUT/<split>/<class>/<file>`` mirrors ``SRC``; ``OUT/<split>/no-hand.txt`` lists the images with no hand found.
    """
    crop = crop or HandCrop()
    splits = split_folders(src)
    check_output_folder(src, out)
    scans = {}
    for split_dir in splits:
        scan = scan_split(split_dir, finder)
        for path, points in zip(scan.paths, scan.landmarks):
            image = read_image_rgb(path)
            x0, y0, x1, y1 = landmark_box(points, image.shape, crop.margin, crop.square)
            write_jpeg(out / split_dir.name / path.parent.name / (path.stem + ".jpg"), image[y0:y1, x0:x1], 95, path)
        listing = "".join(f"{p.relative_to(split_dir)}\n" for p in scan.not_found)
        (out / split_dir.name).mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / split_dir.name / "no-hand.txt", listing)
        scans[split_dir.name] = scan
    return scans


class _Cache:
    """Found hands per file, keyed by path, size and mtime, in one JSON file per cache folder and finder setting
    (landmarks rounded to 1/1000 pixel, embeddings as base64 float16: a few kB per image)."""

    def __init__(self, folder: Path | None, settings: str, frame_size: tuple[int, int] | None = None):
        self.frame_size = frame_size
        digest = hashlib.sha1(settings.encode("utf-8")).hexdigest()[:12]  # other finder settings, other cache
        self.file = None if folder is None else Path(folder) / f"hand-landmarks-v{CACHE_VERSION}-{digest}.json"
        self.entries: dict = {}
        self.dirty = False
        if self.file is not None and self.file.is_file():
            try:
                self.entries = json.loads(self.file.read_text())
            except (OSError, ValueError):
                self.entries = {}  # a broken cache is only lost time: rebuild it

    def get(self, path: Path, finder: HandFinder) -> FoundHand | None:
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        if key in self.entries:
            return _from_entry(self.entries[key])
        image = read_image_rgb(path)
        if self.frame_size is not None:
            import cv2

            image = cv2.resize(image, self.frame_size[::-1], interpolation=cv2.INTER_LINEAR)
        hand = find_hand(image, finder)
        self.entries[key] = _to_entry(hand)
        self.dirty = True
        return _from_entry(self.entries[key])  # what a later run will read back, so both runs see the same values

    def save(self) -> None:
        if self.file is not None and self.dirty:
            os.makedirs(self.file.parent, exist_ok=True)
            write_text_atomic(self.file, json.dumps(self.entries))
            self.dirty = False


def _to_entry(hand: FoundHand | None) -> dict | None:
    if hand is None:
        return None
    entry: dict = {"landmarks": np.round(hand.landmarks, 3).tolist()}
    for name in ("embedding", "mirrored_embedding"):
        value = getattr(hand, name)
        if value is not None:
            entry[name] = base64.b64encode(np.asarray(value, dtype="<f2").tobytes()).decode("ascii")
    return entry


def _from_entry(entry: dict | None) -> FoundHand | None:
    if entry is None:
        return None

    def vector(name: str) -> np.ndarray | None:
        text = entry.get(name)
        return None if text is None else np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)

    return FoundHand(np.asarray(entry["landmarks"], dtype=np.float32), vector("embedding"),
                     vector("mirrored_embedding"))


HandCache = _Cache
"""The per-file cache of found hands, for writers that add files and want their hands ready (``edgecnn record``):
``HandCache(CACHE_DIR, finder.settings_key() + "|frame=None").get(path, finder)``, then ``save()``."""
