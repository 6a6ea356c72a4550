#!/usr/bin/env python3
"""The webcam-moment table: each model x ``--hand`` mode on evaluation sets training never saw.

Usage: .venv/bin/python scripts/measure_hands.py [--model NAME=FILE ...] [--sets-model NAME=FILE ...] [--limit N]
       [--tables live,sets,found] [--out docs/results/hands.md]

Evaluation sets (all built here, deterministically, from ../shared/data; nothing is written to the repository but
the table):
- ``pi-validation``: rps-real-pi's own validation split (Pi camera, green background).
- ``kaust-held-out-clips``: the rps-real-kaust files whose whole source clip is held out
  (:func:`edgecnn.data.splits.held_out_clip`; other people, rooms and cameras than training).
- ``scenes``: 640x480 frames made by placing held-out kaust hand crops at random sizes (25-55% of the frame
  height) and positions (cut by the edge in some) into cats-vs-dogs validation photos enlarged to the frame: a hand
  in front of furniture, a room or an animal.
- ``hand-free``: cats-vs-dogs validation photos enlarged to 640x480, no hand pasted. A class claimed on one of them
  is a false claim (a few of these photos may hold a person's hand: the rate is an upper bound).

Accuracy counts "no hand" as wrong on the hand sets; "claims" is the share of hand-free frames given a class.

Then the per-set table (``scripts/measure_hand_sets.py``): every hand-feature model (the shipped ones and each
``--sets-model``, e.g. one trained without a whole set: leave-one-source-out) on rps-webcam-subhih's validation
sessions, its training sessions and gestures-room-emrecandir9 where the model did not train on them, the old sets,
and hand-free frames; and the hand finder's found rate on hard-to-find hands.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from measure_hand_sets import LEGEND, found_table, sets_table

from edgecnn.data.composite import CompositeOptions, place_hand
from edgecnn.data.splits import clip_key, held_out_clip
from edgecnn.runtime.atomic import write_text_atomic
from edgecnn.runtime.classifier import Classifier
from edgecnn.runtime.gesture import HandGestures
from edgecnn.runtime.images import read_image_rgb

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
LABELS = ("paper", "rock", "scissors")
FRAME = (480, 640)


def hand_files(name: str, limit: int) -> list[tuple[Path, int]]:
    if name == "pi-validation":
        files = [(p, LABELS.index(p.parent.name)) for p in sorted((DATA / "rps-real-pi/validation").glob("*/*.jpg"))]
    else:
        files = [(p, LABELS.index(p.parent.name)) for p in sorted((DATA / "rps-real-kaust/train").glob("*/*.jpg"))
                 if held_out_clip(p.name)]
    return files[:: max(1, len(files) // limit)] if limit else files


def hand_set(name: str, limit: int) -> list[tuple[np.ndarray, int]]:
    return [(read_image_rgb(p), label) for p, label in hand_files(name, limit)]


def backgrounds(count: int) -> list[np.ndarray]:
    files = sorted((DATA / "cats-vs-dogs/validation").glob("*/*.jpg"))
    files = files[:: max(1, len(files) // count)][:count]
    return [cv2.resize(read_image_rgb(p), FRAME[::-1], interpolation=cv2.INTER_LINEAR) for p in files]


def scenes(hands: list[tuple[np.ndarray, int]], rooms: list[np.ndarray], seed: int = 7):
    """Each hand at 25-55% of the frame height, anywhere, up to a fifth of it past the edge
    (:func:`edgecnn.data.composite.place_hand`, the frames ``edgecnn data composite-hands`` makes)."""
    rng = np.random.default_rng(seed)
    options = CompositeOptions(frame_size=FRAME)
    return [(place_hand(rooms[index % len(rooms)], hand, rng, options), label)
            for index, (hand, label) in enumerate(hands)]


def measure(gestures: HandGestures, items, per_item: list | None = None) -> tuple[float, float, float]:
    """(accuracy, hand found rate, ms per frame) on labelled frames; label -1 means a hand-free frame.
    ``per_item`` gets ``(found, right)`` of each frame appended."""
    correct = found = 0
    started = time.perf_counter()
    for image, label in items:
        gestures.reset()
        result = gestures.classify(image)
        right = result.prediction is not None and label >= 0 and result.prediction.label == LABELS[label]
        found += int(result.prediction is not None)
        correct += int(right)
        if per_item is not None:
            per_item.append((result.prediction is not None, right))
    ms = (time.perf_counter() - started) * 1000.0 / max(1, len(items))
    return correct / len(items), found / len(items), ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--limit", type=int, default=0, help="at most about this many images per hand set")
    parser.add_argument("--sets-model", action="append", default=[], metavar="NAME=FILE",
                        help="a further hand-feature model for the per-set table (the shipped ones are always in it)")
    parser.add_argument("--tables", default="live,sets,found", help="which tables: live, sets, found")
    parser.add_argument("--blurred", type=Path, default=ROOT / "artifacts" / "augmented",
                        help="where scripts/ship-hand-model.sh writes the motion-blurred copies")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "hands.md")
    args = parser.parse_args()
    tables = set(args.tables.split(","))
    command = shlex.join(["scripts/measure_hands.py"] + sys.argv[1:])
    text = live_tables(args) if "live" in tables else ""
    if "sets" in tables:
        hand_models = {f"{name} (shipped)": str(ROOT / f"runtime/models/{name}.tflite")
                       for name in ("rps_hand_embedding", "rps_landmarks")}
        hand_models.update(item.split("=", 1) for item in args.sets_model)
        text += (f"\n## Per set\n\nPrinted by `.venv/bin/python {command}`. {LEGEND}\n\n"
                 + sets_table(hand_models, DATA))
    if "found" in tables:
        text += ("\n## Finding hard-to-find hands\n\nThe hand finder on still pictures (one picture at a time, as "
                 "`edgecnn run` reads a folder); the same for every hand model.\n\n"
                 + found_table(DATA, args.blurred if args.blurred.is_dir() else None))
    write_text_atomic(args.out, text)
    print(f"wrote {args.out}")
    return 0


def live_tables(args) -> str:
    """The webcam-moment table and the per-clip table: each model x ``--hand`` mode through the live path."""
    shipped = {"rps_cnn (shipped int8)": "rps_int8", "rps_landmarks (shipped)": "rps_landmarks",
               "rps_hand_embedding (shipped)": "rps_hand_embedding"}
    models = dict(item.split("=", 1) for item in args.model) or {
        name: str(ROOT / f"runtime/models/{file}.tflite") for name, file in shipped.items()
        if (ROOT / f"runtime/models/{file}.tflite").is_file()}
    pi, kaust = hand_set("pi-validation", args.limit), hand_set("kaust", args.limit)
    clips = [clip_key(path.name) for path, _ in hand_files("kaust", args.limit)]
    rooms = backgrounds(200)
    sets = {"pi-validation": pi, "kaust-held-out-clips": kaust, "scenes": scenes(kaust, rooms),
            "hand-free": [(room, -1) for room in rooms]}
    rows, by_clip = [], {}
    for name, path in models.items():
        classifier = Classifier.open(path, threads=1)
        modes = ("auto", "roi") if classifier.contract.reads_hand_features else ("off", "roi", "auto")
        for mode in modes:
            gestures = HandGestures(classifier, mode)
            cells = []
            for set_name, items in sets.items():
                clip_set = (set_name, mode) == ("kaust-held-out-clips", "auto")
                per_item = by_clip.setdefault(name, []) if clip_set else None
                accuracy, found, ms = measure(gestures, items, per_item)
                cells.append((set_name, accuracy, found, ms))
            rows.append((name, mode, cells))
            print(name, mode, [(c[0], round(c[1] * 100, 1), round(c[2] * 100, 1)) for c in cells], flush=True)
    return _table(rows, sets, " ".join(["scripts/measure_hands.py"] + sys.argv[1:])) + _clip_table(by_clip, clips)


def _table(rows, sets, command: str) -> str:
    names = list(sets)
    head = ["model", "--hand"] + [f"{n} ({len(sets[n])}) acc / found" for n in names[:-1]] + [
        f"hand-free ({len(sets['hand-free'])}) claims", "ms/frame (scenes)"]
    lines = [f"Printed by `.venv/bin/python {command}` (one thread). Accuracy counts 'no hand' as wrong; 'found' is "
             "the share of frames given a class; on hand-free frames every class is a false claim.", "",
             "Sets, all images training never saw: **pi-validation** = rps-real-pi's own validation split; "
             "**kaust-held-out-clips** = the rps-real-kaust files whose whole source clip is held out from training "
             "(other people, rooms, cameras); **scenes** = those held-out hands pasted at 25-55% of the frame "
             "height, anywhere (some cut by the edge), into cats-vs-dogs validation photos enlarged to 640x480; "
             "**hand-free** = those photos with no hand (an upper bound: a few may show a person's hand). "
             "rps_cnn was trained on rps-real-kaust with a per-file hold-out, so most kaust-held-out-clips frames "
             "were in its training set: its figures there are not a held-out measure.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, mode, cells in rows:
        by = {c[0]: c for c in cells}
        values = [f"{by[n][1]:.1%} / {by[n][2]:.0%}" for n in names[:-1]]
        values += [f"{by['hand-free'][2]:.1%}", f"{by['scenes'][3]:.1f}"]
        lines.append("| " + " | ".join([name, mode] + values) + " |")
    return "\n".join(lines) + "\n"


def _clip_table(by_clip: dict[str, list[tuple[bool, bool]]], clips: list[str]) -> str:
    """Per held-out clip (one person, room and camera each), frames right with ``--hand auto``, per model."""
    if not by_clip:
        return ""
    keys = sorted(set(clips), key=lambda key: (-clips.count(key), key))
    names = list(by_clip)
    lines = ["", "Per held-out clip (`--hand auto`; a clip is one source video or photo session of rps-real-kaust: "
             "one person, room and camera). 'right' counts frames given the right class; a clip's figure "
             "weighs each of its frames, the mean over clips weighs each clip once.", "",
             "| clip | frames | " + " | ".join(f"{name} right (found)" for name in names) + " |",
             "|---|---|" + "---|" * len(names)]
    means = {name: [] for name in names}
    for key in keys:
        cells = []
        for name in names:
            items = [item for item, clip in zip(by_clip[name], clips) if clip == key]
            right, found = sum(r for _, r in items), sum(f for f, _ in items)
            means[name].append(right / len(items))
            cells.append(f"{right / len(items):.0%} ({found / len(items):.0%})")
        lines.append(f"| {key} | {clips.count(key)} | " + " | ".join(cells) + " |")
    lines.append(f"| mean over {len(keys)} clips | {len(clips)} | "
                 + " | ".join(f"{np.mean(means[name]):.1%}" for name in names) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
