"""The shipped "no gesture" hands that ``hand_gestures`` trains on, and which of them to leave out: whole signs that
look like one of your gestures (:func:`unlike_your_gestures`), and all but a fair share of each sign
(:func:`at_most_per_group`).

A negative group is one sign of one shipped set (:func:`sign_of`): gestures-room-emrecandir9 keeps the source sign
in its file names (``take_off_<uuid>_org.jpg``), rps-webcam-subhih in its ``hand_boxes.csv`` (1, 3 or 4 fingers).
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np

VOTE_NEIGHBOURS = 5
"""Neighbours each negative hand looks at when its group is voted on (:func:`unlike_your_gestures`)."""
VOTE_SHARE = 0.3
"""A negative group is left out when at least this share of its hands vote "one of your gestures"."""
NEGATIVES_PER_GROUP = 40
"""At most this many hands of one negative group (one sign of one set, by name hash) train "no gesture": every sign
a fair share, none of them outweighing your few dozen frames, and a shorter training."""
YOUR_WEIGHT = 3
"""Each of your training frames (and its mirror image) is seen this many times per epoch: a few dozen frames a class
against a few hundred negatives and imagined hands."""
SIGN_PREFIX = re.compile(r"^(.+?)_[0-9a-f]{8}-[0-9a-f]{4}-")
"""A shipped file name that keeps its source sign as a prefix (``take_off_<uuid>_org.jpg``)."""
def unlike_your_gestures(yours: np.ndarray, your_labels: np.ndarray, negatives: np.ndarray, groups: np.ndarray,
                         your_mirror: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """Which negatives to keep, whole groups at a time (a group: one sign of one shipped set, ``groups[i]`` naming
    it), and the groups left out with their vote. Each hand of a group looks at its :data:`VOTE_NEIGHBOURS` nearest
    hands among your frames (and their mirror images) and the other groups' hands, on the landmark model's embedding
    with cosine distance; it votes "yours" when most of them are your frames and the nearest of those is within your
    class's own reach (the largest distance from one of its frames to its nearest other). A group where at least
    :data:`VOTE_SHARE` of the hands vote so shows one of your gestures (other people's thumbs up, when you recorded a
    thumb up) and is left out whole: a sample-by-sample filter keeps the less typical thumbs up, which then teach "no
    gesture" for your sign."""
    keep = np.ones(len(negatives), dtype=bool)
    if not len(negatives) or not len(yours):
        return keep, {}
    unit = _unit_embedding(yours)
    own = np.concatenate([unit, unit if your_mirror is None else _unit_embedding(your_mirror)])
    own_labels = np.concatenate([your_labels, your_labels])
    reach = {label: _reach(unit[your_labels == label]) for label in np.unique(your_labels)}
    neg = _unit_embedding(negatives)
    groups = np.asarray(groups)
    dropped = {}
    for group in np.unique(groups):
        members = groups == group
        distances = np.concatenate([1.0 - neg[members] @ own.T, 1.0 - neg[members] @ neg[~members].T], axis=1)
        nearest = np.argsort(distances, axis=1)[:, :VOTE_NEIGHBOURS]
        mine = (nearest < len(own)).mean(axis=1) > 0.5
        closest = np.argmin(distances[:, :len(own)], axis=1)
        within = distances[np.arange(len(closest)), closest] <= np.array([reach[own_labels[i]] for i in closest])
        share = float(np.mean(mine & within))
        if share >= VOTE_SHARE:
            keep &= ~members
            dropped[str(group)] = round(share, 2)
    return keep, dropped


def _reach(unit: np.ndarray) -> float:
    """The largest distance from one frame of a class to its nearest other frame (0 for a class of one frame)."""
    if len(unit) < 2:
        return 0.0
    within = 1.0 - unit @ unit.T
    np.fill_diagonal(within, np.inf)
    return float(np.max(np.min(within, axis=1)))


def _unit_embedding(features: np.ndarray) -> np.ndarray:
    flat = features.reshape(len(features), -1)[:, :672].astype(np.float64)
    return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-9)


def at_most_per_group(groups: np.ndarray, names: list[str], most: int = NEGATIVES_PER_GROUP) -> np.ndarray:
    """True for at most ``most`` hands of each group, the first by name hash (the same ones on every run)."""
    keep = np.zeros(len(groups), dtype=bool)
    ranked = sorted(range(len(groups)), key=lambda i: hashlib.sha1(names[i].encode()).hexdigest())
    taken: dict[str, int] = {}
    for i in ranked:
        if taken.get(groups[i], 0) < most:
            taken[groups[i]] = taken.get(groups[i], 0) + 1
            keep[i] = True
    return keep


def sign_of(path: Path, source_classes: dict[tuple[str, str, str], str]) -> str:
    """The sign a shipped negative shows: its ``hand_boxes.csv`` source label, else its file name's sign prefix, else
    its class folder."""
    key = (path.parent.parent.name, path.parent.name, path.name)
    if key in source_classes:
        return source_classes[key]
    match = SIGN_PREFIX.match(path.stem)
    return match.group(1) if match else path.parent.name


def source_classes(root: Path) -> dict[tuple[str, str, str], str]:
    """``(split, class folder, file) -> source label`` from ``root/hand_boxes.csv`` where it has one."""
    table = root / "hand_boxes.csv"
    if not table.is_file():
        return {}
    with open(table, newline="") as f:
        return {(row["split"], row["label"], row["file"]): row["source_class"] for row in csv.DictReader(f)
                if row.get("source_class")}
