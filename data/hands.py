"""Image folders through the hand finder: crops and landmark features for training, verify and measuring.

``<root>/<split>/<class>/<file>`` folders (the layout of every data set here) are read with the runtime's own
decoder; every image goes through the same :class:`~edgecnn.runtime.hands.HandFinder` the live loop uses, one
unrelated picture at a time (no tracking). Images where no hand is found are counted and listed, never dropped
silently. Results are cached per file (path, size, modification time) because finding hands in a few thousand
images takes minutes on a Pi-class CPU.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.data.errors import DataError
from edgecnn.data.loader import class_folders
from edgecnn.runtime.atomic import write_bytes_atomic, write_text_atomic
from edgecnn.runtime.contract import HandCrop
from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.hands import HandFinder, landmark_box, landmark_features
from edgecnn.runtime.images import is_image_file, read_image_rgb

CACHE_VERSION = 1


@dataclass
class HandScan:
    """Every image of one split, and what the hand finder made of it."""

    paths: list[Path] = field(default_factory=list)
    """Images in which a hand was found, in folder order."""
    labels: list[int] = field(default_factory=list)
    """Their class indices (alphabetical class folders)."""
    landmarks: list[np.ndarray] = field(default_factory=list)
    """Their ``(21, 3)`` landmarks in image pixels."""
    not_found: list[Path] = field(default_factory=list)
    """Images where no hand was found."""
    unreadable: list[str] = field(default_factory=list)
    """One line per file that could not be decoded."""
    classes: tuple[str, ...] = ()
    """Class folder names, in label order."""

    def features(self) -> np.ndarray:
        """``(N, 63)`` float32 landmark features of the found hands."""
        if not self.landmarks:
            return np.zeros((0, 63), dtype=np.float32)
        return np.stack([landmark_features(points) for points in self.landmarks])

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
                points = cache.get(path, finder)
            except SourceError as err:
                scan.unreadable.append(str(err))
                continue
            if points is None:
                scan.not_found.append(path)
            else:
                scan.paths.append(path)
                scan.labels.append(index)
                scan.landmarks.append(points)
    cache.save()
    return scan


def find_landmarks(image_rgb: np.ndarray, finder: HandFinder) -> np.ndarray | None:
    """The ``(21, 3)`` landmarks of the most confident hand in one still picture, or None."""
    hand = finder.find(image_rgb, track=False)
    return None if hand is None else hand.landmarks


def crop_hands(src: Path, out: Path, finder: HandFinder, crop: HandCrop | None = None) -> dict[str, HandScan]:
    """``edgecnn data crop-hands``: writes the crop the model would see of every image, split by split.

    ``OUT/<split>/<class>/<file>`` mirrors ``SRC``; ``OUT/<split>/no-hand.txt`` lists the images with no hand found.
    """
    crop = crop or HandCrop()
    scans = {}
    for split_dir in sorted(p for p in Path(src).iterdir() if p.is_dir() and not p.name.startswith(".")):
        scan = scan_split(split_dir, finder)
        for path, points in zip(scan.paths, scan.landmarks):
            image = read_image_rgb(path)
            x0, y0, x1, y1 = landmark_box(points, image.shape, crop.margin, crop.square)
            import cv2

            ok, data = cv2.imencode(".jpg", cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2BGR),
                                    [cv2.IMWRITE_JPEG_QUALITY, 95])
            if ok:
                target = out / split_dir.name / path.parent.name / (path.stem + ".jpg")
                target.parent.mkdir(parents=True, exist_ok=True)
                write_bytes_atomic(target, data.tobytes())
        listing = "".join(f"{p.relative_to(split_dir)}\n" for p in scan.not_found)
        (out / split_dir.name).mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / split_dir.name / "no-hand.txt", listing)
        scans[split_dir.name] = scan
    return scans


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


def held_out_clip(file_name: str, fraction: float = 0.2) -> bool:
    """True for the files whose whole clip is held out (SHA-1 of the clip key: deterministic, any machine)."""
    digest = hashlib.sha1(clip_key(file_name).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


class _Cache:
    """Landmarks per file, keyed by path, size and mtime, in one JSON file per cache folder and finder setting."""

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

    def get(self, path: Path, finder: HandFinder) -> np.ndarray | None:
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        if key in self.entries:
            value = self.entries[key]
            return None if value is None else np.asarray(value, dtype=np.float32)
        image = read_image_rgb(path)
        if self.frame_size is not None:
            import cv2

            image = cv2.resize(image, self.frame_size[::-1], interpolation=cv2.INTER_LINEAR)
        points = find_landmarks(image, finder)
        self.entries[key] = None if points is None else np.round(points, 3).tolist()
        self.dirty = True
        return points

    def save(self) -> None:
        if self.file is not None and self.dirty:
            os.makedirs(self.file.parent, exist_ok=True)
            write_text_atomic(self.file, json.dumps(self.entries))
            self.dirty = False
