"""The parts of a public set's recipe that go beyond a folder layout: per-file labels from CSV files, mapped
classes, every n-th video frame, recording-session splits and pixel duplicates (``edgecnn.data.set_download``).

rps-webcam-subhih takes its classes from the source's box CSVs (one row per hand, the number of open fingers) and
splits by recording session; gestures-room-emrecandir9 maps eighteen source gestures to five classes and keeps every
second or twelfth frame of each. Both are described in their ``MANIFEST.md``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from pathlib import PurePosixPath

from edgecnn.data.errors import DownloadError
from edgecnn.data.public_sets import PublicSet, Source

SESSION_MARK = "_pic"
"""rps-webcam-subhih file names: ``<session>_pic<frame>.jpg``; a name without it is in the session ``pic``."""


def session_of(file_name: str) -> str:
    """The recording session of a file name (``1528664299.56_pic00000.jpg`` -> ``1528664299.56``)."""
    return file_name.split(SESSION_MARK, 1)[0] if SESSION_MARK in file_name else "pic"


def session_split(spec: PublicSet, file_name: str) -> str:
    """``validation`` for the recipe's validation sessions, else ``train``: no session is in both splits."""
    return "validation" if session_of(file_name) in spec.validation_sessions else "train"


def csv_labels(rows: Iterable[dict[str, str]], where: str) -> dict[str, str | None]:
    """File name -> its rows' class; None for a file whose rows (hands) carry different classes (left out)."""
    labels: dict[str, str | None] = {}
    for row in rows:
        if "filename" not in row or "class" not in row:
            raise DownloadError(f"{where}: expected the columns filename and class, got {sorted(row)}")
        name, label = row["filename"], row["class"]
        labels[name] = label if labels.get(name, label) == label else None
    return labels


def read_csv_labels(source: Source, texts: dict[str, bytes]) -> dict[str, str | None]:
    """The per-file classes of every CSV of ``source.labels_csv`` (``texts``: its path in the repository ->
    contents)."""
    rows: list[dict[str, str]] = []
    for path in source.labels_csv:
        if path not in texts:
            raise DownloadError(f"{source.repo}@{source.commit}: no {path} in the archive (the recipe reads its "
                                "labels from it)")
        rows += csv.DictReader(io.StringIO(texts[path].decode("utf-8-sig")))
    return csv_labels(rows, f"{source.repo}: {', '.join(source.labels_csv)}")


def mapped_class(source: Source, label: str | None) -> str | None:
    """The set's class folder for a source class; None when the recipe does not take that class."""
    if label is None or not source.label_map:
        return label
    return dict(source.label_map).get(label)


def every_nth(source: Source, names_by_class: dict[str, list[str]]) -> set[tuple[str, str]]:
    """``(source class, file name)`` of the files the recipe keeps: every n-th in name order where it says so."""
    steps = dict(source.every)
    return {(label, name) for label, names in names_by_class.items()
            for name in sorted(names)[::steps.get(label, 1)]}


def output_stem(source: Source, label: str, name: str) -> str:
    """The file name (no suffix) the set gives a source file: its stem, prefixed by the source class if asked."""
    stem = PurePosixPath(name).stem
    return f"{label}_{stem}" if source.name_prefix and not stem.startswith(f"{label}_") else stem


def pixel_digest(data: bytes) -> str:
    """SHA-1 of an image's decoded RGB pixels and size (``dedup``: the same picture under two names)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    return hashlib.sha1(repr(image.size).encode() + image.tobytes()).hexdigest()
