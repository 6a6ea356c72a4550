"""The per-set tables of ``scripts/measure_hands.py``: each hand-feature model on every set with people, rooms and
hands it may not have trained on, from the hand finder's cache (``~/.cache/edgecnn/hands``: the hand found in each
still picture, exactly as training reads it).

Per set: accuracy on the three gestures (a frame with no hand, or read as "no hand" or "no gesture", is wrong),
the share of ``other_gesture`` and ``no_gesture`` hands given one of the three classes (goal <= 5%), and, on
hand-free frames, the share given a class (empty-room claims, goal <= 1%). A set a model trained on is shown as
such, never scored: the model's contract names its training roots (``extra["data"]``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.data.hands import CACHE_DIR, NO_GESTURE_FOLDERS, HandScan, scan_split
from edgecnn.data.splits import held_out_clip
from edgecnn.runtime.classifier import Classifier
from edgecnn.runtime.hands import HandFinder

GESTURES = ("paper", "rock", "scissors")
CAMERA_FRAME = (480, 640)
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SUBHIH, ROOM = "rps-webcam-subhih", "gestures-room-emrecandir9"


@dataclass(frozen=True)
class HandSet:
    """One evaluation set: a split folder of one data root, optionally narrowed by a rule."""

    name: str
    """Column name."""
    root: str
    """The data set folder under ../shared/data (what a model's training roots are matched against)."""
    split: str
    """The split folder read."""
    note: str
    """What it is, for the legend."""
    keep: object = None
    """``keep(path) -> bool`` (rps-real-kaust's held-out clips), or None for all."""
    frame: tuple[int, int] | None = None
    """Enlarge to a camera frame first (hand-free photos)."""
    always_held_out: bool = False
    """True when no training run here reads this split (validation splits, held-out clips)."""


SETS = (
    HandSet("pi-validation", "rps-real-pi", "validation", "rps-real-pi's own validation split",
            always_held_out=True),
    HandSet("kaust-held-out-clips", "rps-real-kaust", "train", "rps-real-kaust's held-out source clips",
            keep=lambda path: held_out_clip(path.name), always_held_out=True),
    HandSet("subhih-validation", SUBHIH, "validation", "rps-webcam-subhih validation: sessions pic, "
            "1528664299.56, 996 and 35, never trained on", always_held_out=True),
    HandSet("subhih-train", SUBHIH, "train", "rps-webcam-subhih's training sessions (held out only when the model "
            "left the whole set out)"),
    HandSet("room", ROOM, "train", "gestures-room-emrecandir9, all of it (held out only when the model left the "
            "whole set out)"),
    HandSet("hand-free", "cats-vs-dogs", "validation", "200 cats-vs-dogs validation photos (every tenth, the "
            "live table's) enlarged to 640x480, no hand", keep=lambda path: path in _hand_free_frames(),
            frame=CAMERA_FRAME, always_held_out=True),
)


@functools.cache
def _hand_free_frames(count: int = 200) -> frozenset:
    """The hand-free photos of the live table (``measure_hands.backgrounds``): every n-th of cats-vs-dogs
    validation, ``count`` of them (a camera frame's full search costs ~0.5 s of CPU: all 2,000 would take long)."""
    files = sorted((DATA / "cats-vs-dogs" / "validation").glob("*/*.jpg"))
    return frozenset(files[:: max(1, len(files) // count)][:count])


@dataclass
class Scores:
    """One model on one set."""

    gestures: int = 0
    right: int = 0
    found: int = 0
    negatives: dict | None = None
    """Per negative folder: (hands found, hands given a class)."""
    claims: tuple[int, int] | None = None
    """Hand-free: (frames, frames given a class)."""


def scans(data: Path, finder: HandFinder) -> dict[str, HandScan]:
    """Every set's scan (from the cache; a miss runs the finder and fills the cache)."""
    return {s.name: scan_split(data / s.root / s.split, finder, None, s.keep, CACHE_DIR, s.frame) for s in SETS}


def trained_on(classifier: Classifier) -> set[str]:
    """The data set folder names a model's contract says it trained on (its roots' names, blurred copies too)."""
    data = classifier.contract.extra.get("data") or {}
    names = set()
    for root in data.get("roots") or []:
        name = Path(root).name
        names.add(name[: -len("-blurred")] if name.endswith("-blurred") else name)
    return names


def score(classifier: Classifier, scan: HandScan, hand_set: HandSet) -> Scores:
    labels = classifier.labels
    features = scan.features(classifier.contract.input_kind)
    predicted = ([labels[i] for i in np.argmax(classifier.predict_features(features), axis=1)]
                 if len(features) else [])
    total = len(scan.paths) + len(scan.not_found)
    if hand_set.frame is not None:
        return Scores(claims=(total, sum(label in GESTURES for label in predicted)))
    classes = [scan.classes[i] for i in scan.labels]
    missed = [path.parent.name for path in scan.not_found]
    result = Scores(negatives={})
    result.gestures = sum(c in GESTURES for c in classes) + sum(c in GESTURES for c in missed)
    result.found = sum(c in GESTURES for c in classes)
    result.right = sum(c == p for c, p in zip(classes, predicted) if c in GESTURES)
    for folder in NO_GESTURE_FOLDERS:
        given = [p in GESTURES for c, p in zip(classes, predicted) if c == folder]
        if given or folder in missed:
            result.negatives[folder] = (len(given), sum(given))
    return result


def sets_table(models: dict[str, str], data: Path) -> str:
    """The per-set table of ``models`` (name -> .tflite of a hand-feature model)."""
    finder = HandFinder.open(threads=1)
    all_scans = scans(data, finder)
    head = ["model"] + [f"{s.name} ({_size(all_scans[s.name])})" for s in SETS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, path in models.items():
        classifier = Classifier.open(path, threads=1)
        seen = trained_on(classifier)
        cells = []
        for hand_set in SETS:
            if not hand_set.always_held_out and hand_set.root in seen:
                cells.append("trained on")
                continue
            cells.append(_cell(score(classifier, all_scans[hand_set.name], hand_set)))
        lines.append("| " + " | ".join([name] + cells) + " |")
    return "\n".join(lines) + "\n"


def found_table(data: Path, blurred: Path | None) -> str:
    """Found rates of the hand finder on still pictures of hard-to-find hands (the finder the shipped models use)."""
    finder = HandFinder.open(threads=1)
    rows = [("V sign near the face: rps-webcam-subhih scissors, all sessions", [data / SUBHIH / s for s in
                                                                                 ("train", "validation")], "scissors"),
            ("rps-webcam-subhih, all classes and sessions", [data / SUBHIH / s for s in ("train", "validation")],
             None),
            ("gestures-room-emrecandir9 (1-3 m away), all", [data / ROOM / "train"], None),
            ("rps-real-kaust held-out clips", [data / "rps-real-kaust" / "train"], None)]
    if blurred is not None:
        rows += [("motion-blurred: rps-real-kaust held-out clips, blurred copies",
                  [blurred / "rps-real-kaust-blurred" / "train"], None),
                 ("motion-blurred: rps-webcam-subhih validation, blurred copies",
                  [blurred / f"{SUBHIH}-blurred" / "validation"], None)]
    lines = ["| pictures | found / all | found rate |", "|---|---|---|"]
    for title, folders, only in rows:
        found = total = 0
        for folder in folders:
            if not folder.is_dir():
                continue
            keep = (lambda p: held_out_clip(p.name)) if "kaust" in str(folder) else None
            scan = scan_split(folder, finder, None, keep, CACHE_DIR)
            found += sum(only in (None, scan.classes[i]) for i in scan.labels)
            total += sum(only in (None, scan.classes[i]) for i in scan.labels)
            total += sum(only in (None, p.parent.name) for p in scan.not_found)
        if total:
            lines.append(f"| {title} | {found} / {total} | {found / total:.1%} |")
    return "\n".join(lines) + "\n"


def _size(scan: HandScan) -> int:
    return len(scan.paths) + len(scan.not_found)


def _cell(scores: Scores) -> str:
    if scores.claims is not None:
        frames, claimed = scores.claims
        return f"claims {claimed / frames:.1%}"
    parts = []
    if scores.gestures:
        parts.append(f"{scores.right / scores.gestures:.1%} ({scores.found / scores.gestures:.0%} found)")
    for folder, (hands, given) in scores.negatives.items():
        parts.append(f"{folder} {given / hands:.1%} of {hands}" if hands else f"{folder}: none found")
    return "; ".join(parts)


LEGEND = ("Each cell: accuracy on the three gestures (no hand, 'no hand' or 'no gesture' counted wrong; in brackets "
          "the share of gesture pictures where a hand was found), then for each negative folder the share of its "
          "hands given one of the three classes (goal at most 5%); on hand-free frames the share given a class "
          "(goal at most 1%). 'trained on': the model trained on that set (its contract's roots), so it is not "
          "scored there. Hands come from the hand finder's cache: the hand found in each still picture, as training "
          "reads it (the embedding kept as float16).\n\n"
          "Held out: rps-real-pi's validation split, rps-real-kaust's held-out clips and rps-webcam-subhih's "
          "validation sessions are never trained on. gestures-room-emrecandir9 has no person or clip in its file "
          "names (two people, one room, frames of a few videos each): a per-file hold-out would score frames of "
          "videos the model trained on, so the shipped models train on all of it and it is measured only by a model "
          "trained without it (leave-one-source-out, `... without gestures-room-emrecandir9`). Likewise "
          "rps-webcam-subhih's training sessions are scored only by the model trained without that whole set.")
