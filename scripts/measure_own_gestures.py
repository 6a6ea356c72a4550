"""Your own gestures, measured end to end with the user's commands: ``edgecnn record`` (from photos), ``edgecnn train
hand_gestures``, ``edgecnn convert``, then ``edgecnn run --model ART --headless`` on photos of other recordings.

Two set-ups from ../shared/data (or $EDGECNN_DATA), gestures none of the shipped classifiers has as classes:
- ``room``: four of gestures-room-emrecandir9's other gestures by their file-name sign (up = thumb up, follow =
  call-me, take_off = index up, video = three fingers; ``video_pause`` is another sign); the set has two people in
  one room and no person split, so two thirds of each gesture's frames (by name hash) are recorded and the other
  third scored: other frames, not other people. These very photos are also among the shipped no-gesture negatives,
  which training must leave out by itself.
- ``webcam``: rps-webcam-subhih's rock/paper/scissors renamed fist/flat/vee, recorded from training sessions and
  scored on the validation sessions (other people and rooms).
- ``fingers``: rps-webcam-subhih's other gestures by their ``hand_boxes.csv`` label (one, three and four fingers),
  recorded from training sessions and scored on the validation sessions: other people, showing signs that the
  shipped no-gesture negatives hold (those very training sessions), which training must leave out by itself.
Empty-room claims: cats-vs-dogs validation photos that get one of your classes. Prints one table; wall times are
of the commands as a user runs them (first-run costs included where the cache is cold).

    .venv/bin/python scripts/measure_own_gestures.py [--per-class 20] [--setup room webcam fingers] [--empty 300]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EDGECNN_DATA", REPO.parent / "shared" / "data"))
EDGECNN = [sys.executable, "-m", "edgecnn"]


def third(name: str) -> int:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 3


def room(per_class: int):
    folder = DATA / "gestures-room-emrecandir9" / "train" / "other_gesture"
    for gesture, sign in (("up", "up"), ("follow", "follow"), ("take", "take_off"), ("video", "video")):
        files = sorted(f for f in folder.iterdir() if re.match(rf"^{sign}_[0-9a-f]{{8}}-", f.name))
        yield gesture, [f for f in files if third(f.name)][:per_class], [f for f in files if not third(f.name)]


def webcam(per_class: int):
    root = DATA / "rps-webcam-subhih"
    for source, gesture in (("rock", "fist"), ("paper", "flat"), ("scissors", "vee")):
        files = sorted((root / "train" / source).iterdir())
        step = max(1, len(files) // per_class)  # spread over the training sessions
        yield gesture, files[::step][:per_class], sorted((root / "validation" / source).iterdir())


def fingers(per_class: int):
    root = DATA / "rps-webcam-subhih"
    with open(root / "hand_boxes.csv", newline="") as f:
        signs = {(row["split"], row["file"]): row["source_class"] for row in csv.DictReader(f)
                 if row["label"] == "other_gesture"}
    for source, gesture in (("1-hand", "one"), ("3-hand", "three"), ("4-hand", "four")):
        train, held = ([f for f in sorted((root / split / "other_gesture").iterdir()) if signs.get((split, f.name)) ==
                        source] for split in ("train", "validation"))
        step = max(1, len(train) // per_class)  # spread over the training sessions
        yield gesture, train[::step][:per_class], held


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))}: exit {result.returncode}\n{result.stderr[-2000:]}")
    return time.perf_counter() - started, result.stdout


def run_labels(art: Path, folder: Path) -> list[str | None]:
    _, out = timed(EDGECNN + ["run", "--model", str(art), "--source", str(folder), "--headless"])
    return [json.loads(line)["label"] for line in out.splitlines() if line.startswith("{")]


def measure(name: str, setup, per_class: int, empty: Path, work: Path) -> dict:
    data, art, tests = work / name / "data", work / name / "art", work / name / "test"
    record_s, recorded = 0.0, {}
    for gesture, train_files, test_files in setup(per_class):
        source = work / name / "photos" / gesture
        source.mkdir(parents=True)
        for f in train_files:
            shutil.copy(f, source / f.name)
        seconds, out = timed(EDGECNN + ["record", str(data), "--label", gesture, "--source", str(source)])
        record_s += seconds
        recorded[gesture] = out.split(" frame(s)")[0].split()[-1]
        (tests / gesture).mkdir(parents=True)
        for f in test_files:
            os.symlink(f, tests / gesture / f.name)
    train_s, train_out = timed(EDGECNN + ["train", "hand_gestures", "--data", str(data), "--out", str(art)])
    convert_s, _ = timed(EDGECNN + ["convert", str(art), "--formats", "tflite_float32"])
    right = total = no_hand = 0
    for folder in sorted(tests.iterdir()):
        labels = run_labels(art, folder)
        right += sum(label == folder.name for label in labels)
        total += len(labels)
        no_hand += sum(label is None for label in labels)
    claims = run_labels(art, empty)
    return {"setup": name, "recorded": recorded, "record_s": record_s, "train_s": train_s, "convert_s": convert_s,
            "accuracy": right / total, "scored": total, "unanswered": no_hand,
            "empty_claims": sum(label is not None for label in claims), "empty_frames": len(claims),
            "train_report": [line for line in train_out.splitlines() if "held-out" in line or "confused" in line]}


SETUPS = {"room": room, "webcam": webcam, "fingers": fingers}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=20, help="photos recorded per gesture")
    parser.add_argument("--setup", nargs="+", choices=SETUPS, default=list(SETUPS))
    parser.add_argument("--empty", type=int, default=300, help="cats-vs-dogs validation photos for empty-room claims")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="own-gestures-") as tmp:
        work = Path(tmp)
        empty = work / "empty"
        empty.mkdir()
        for f in sorted((DATA / "cats-vs-dogs" / "validation" / "cats").iterdir())[:args.empty // 2] + \
                sorted((DATA / "cats-vs-dogs" / "validation" / "dogs").iterdir())[:args.empty // 2]:
            os.symlink(f, empty / f"{f.parent.name}-{f.name}")
        for name in args.setup:
            row = measure(name, SETUPS[name], args.per_class, empty, work)
            print(f"{row['setup']}: recorded {row['recorded']}; accuracy {row['accuracy']:.1%} on {row['scored']} "
                  f"photos of other recordings ({row['unanswered']} without a class); empty-room claims "
                  f"{row['empty_claims']}/{row['empty_frames']}; wall time record {row['record_s']:.0f} s + train "
                  f"{row['train_s']:.0f} s + convert {row['convert_s']:.0f} s = "
                  f"{row['record_s'] + row['train_s'] + row['convert_s']:.0f} s", flush=True)
            for line in row["train_report"]:
                print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
