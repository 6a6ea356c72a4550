"""``edgecnn record``: frames with a hand, written as image files of one class for ``edgecnn train hand_gestures``.

``DIR/<split>/<label>/<label>-<session>-<n>.<ext>``: the session (``YYYYmmddTHHMMSS-xxxx``, one per run) lets
training hold out whole recordings. Files are written atomically and never replace one that is there: recording
the same label again adds to it. Whether a frame has a hand is decided on the written file, decoded as training
will decode it, by the hand finder of the training cache (:class:`~edgecnn.data.hands.HandCache`), so training finds
every recorded hand already in the cache; a frame without one is removed again and counted.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.data.errors import DataError
from edgecnn.data.hands import CACHE_DIR, FoundHand, HandCache
from edgecnn.runtime.atomic import write_bytes_atomic
from edgecnn.runtime.hands import HandFinder
from edgecnn.runtime.images import is_image_file

SPLITS = ("train", "validation")
RESERVED = ("none", "no_gesture", "other_gesture")
"""Labels a hand model keeps for its own outcomes (no hand, no gesture, and the shipped sets' other signs)."""
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+]*$")
"""A label is a folder name: letters, digits, ``_ . +`` (no ``-``: it separates the parts of a file name)."""
JPEG_QUALITY = 95


@dataclass(frozen=True)
class RecordOptions:
    """What one ``edgecnn record`` run writes."""

    out: Path
    """The data folder (``DIR``): frames go to ``DIR/<split>/<label>/``."""
    label: str
    """The class: the folder name and the gesture the model will answer."""
    split: str = "train"
    """``train``, or ``validation`` for frames held out from training."""
    count: int | None = None
    """Stop after this many frames with a hand; None: at the end of the source."""

    def __post_init__(self) -> None:
        if not LABEL.match(self.label):
            raise DataError(f"--label {self.label!r}: expected a folder name of letters, digits, '_', '.' or '+' "
                            f"(e.g. thumb_up)")
        if self.label in RESERVED:
            raise DataError(f"--label {self.label}: reserved for the model's own outcomes ({', '.join(RESERVED)}); "
                            f"choose another name")
        if self.split not in SPLITS:
            raise DataError(f"--split {self.split!r}: expected one of {', '.join(SPLITS)}")
        if self.out.exists() and not self.out.is_dir():
            raise DataError(f"{self.out}: not a folder; expected the data folder to record into")

    @property
    def folder(self) -> Path:
        return self.out / self.split / self.label


@dataclass
class RecordSummary:
    """What a run kept and skipped."""

    folder: Path
    """Where the frames went."""
    session: str
    """This run's session id (in every file name it wrote)."""
    written: list[Path] = field(default_factory=list)
    """Files written, each with a hand."""
    no_hand: int = 0
    """Frames offered with no hand found (not kept)."""
    before: int = 0
    """Frames of this label that were there before the run."""


class Recorder:
    """Writes offered frames that show a hand; ``close()`` saves the hand cache."""

    def __init__(self, options: RecordOptions, finder: HandFinder | None = None,
                 cache_dir: Path | None = CACHE_DIR):
        self.options = options
        self.finder = finder or HandFinder.open(threads=1)
        self.cache = HandCache(cache_dir, self.finder.settings_key() + "|frame=None")
        session = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)
        folder = options.folder
        before = sum(1 for p in folder.iterdir() if is_image_file(p)) if folder.is_dir() else 0
        self.summary = RecordSummary(folder, session, before=before)
        self.last_hand: FoundHand | None = None

    @property
    def done(self) -> bool:
        return self.options.count is not None and len(self.summary.written) >= self.options.count

    def offer(self, image_rgb: np.ndarray, encoded: tuple[bytes, str] | None = None) -> Path | None:
        """Writes the frame when it shows a hand and returns the file; None (counted) when it does not.
        ``encoded``: the frame's own file bytes and suffix (an image file source: kept as it is, not re-encoded)."""
        data, suffix = encoded or (_jpeg(image_rgb), ".jpg")
        path = self._free_name(suffix)
        write_bytes_atomic(path, data)
        hand = self.cache.get(path, self.finder)
        if hand is None:
            path.unlink()
            self.summary.no_hand += 1
            return None
        self.last_hand = hand
        self.summary.written.append(path)
        return path

    def _free_name(self, suffix: str) -> Path:
        number = len(self.summary.written) + self.summary.no_hand
        while True:
            path = self.options.folder / f"{self.options.label}-{self.summary.session}-{number:05d}{suffix}"
            if not path.exists():
                return path
            number += 1

    def close(self) -> RecordSummary:
        self.cache.save()
        return self.summary


def _jpeg(image_rgb: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY,
                                                                                 JPEG_QUALITY])
    if not ok:
        raise DataError(f"cannot encode a {image_rgb.shape} frame as JPEG")
    return data.tobytes()


def file_bytes(source: str) -> tuple[bytes, str] | None:
    """An image file source's own bytes and suffix (kept as they are), or None for a video or camera frame."""
    path = Path(source)
    if not source.isdigit() and is_image_file(path) and path.is_file():
        return path.read_bytes(), path.suffix.lower()
    return None
