"""``edgecnn train hand_gestures``: three gestures recorded from real photos (gestures-room-emrecandir9's thumb up,
call-me and index up, which no shipped classifier has as classes), trained, converted and run on the photos that
were not recorded; and the bad data folders, each one line naming the folder."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgecnn.cli import main
from edgecnn.runtime.contract import read_sidecar
from edgecnn.train.gesture_negatives import at_most_per_group, unlike_your_gestures

GESTURES = ("up", "follow", "take")
EPOCHS = "15"


def recorded(name: str) -> bool:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 3 != 0


@pytest.fixture(scope="module")
def photos(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """(to record, to score): per gesture, two thirds of its photos by name hash and the other third."""
    room = shared_data / "gestures-room-emrecandir9" / "train" / "other_gesture"
    base = tmp_path_factory.mktemp("gesture-photos")
    for gesture in GESTURES:
        for path in sorted(room.glob(f"{gesture}_*")):
            folder = base / ("record" if recorded(path.name) else "score") / gesture
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, folder / path.name)
    return base / "record", base / "score"


@pytest.fixture(scope="module")
def artifact(photos, tmp_path_factory) -> tuple[Path, list[str]]:
    """Recorded with ``edgecnn record``, trained (few epochs), converted to float32 TFLite; and train's stdout."""
    import contextlib
    import io

    work = tmp_path_factory.mktemp("gestures")
    data, out = work / "data", work / "art"
    for gesture in GESTURES:
        assert main(["record", str(data), "--label", gesture, "--source", str(photos[0] / gesture)]) == 0
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["train", "hand_gestures", "--data", str(data), "--out", str(out), "--epochs", EPOCHS,
                     "--limit", "40"]) == 0
    assert main(["convert", str(out), "--formats", "tflite_float32"]) == 0
    return out, printed.getvalue().splitlines()


def test_the_artifact_answers_your_classes_no_gesture_and_no_hand(artifact):
    out, _ = artifact
    contract = read_sidecar(out / "model_tflite_float32.tflite")
    assert contract.labels == ("follow", "no_gesture", "none", "take", "up")
    assert contract.hand_crop.no_gesture_label == "no_gesture" and contract.hand_crop.no_hand_label == "none"
    assert contract.input_kind == "hand_embedding" and contract.model_name == "hand_gestures"
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["confusion_matrix"]) == 5 and metrics["eval_split"] == "held-out"
    counts = contract.extra["data"]["hand_gestures"]
    assert counts["no-gesture hands left out as like one of your gestures"] > 0  # these very photos are negatives
    dropped = counts["no-gesture groups left out as one of your gestures (share voting so)"]
    signs = {"gestures-room-emrecandir9/" + sign for sign in ("up", "follow", "take_off")}
    assert len(signs & set(dropped)) >= 2, dropped  # whole signs, not the photos one at a time
    assert "gestures-room-emrecandir9/no_class" not in dropped, dropped


def test_train_reports_per_class_accuracy_and_confusions(artifact):
    _, lines = artifact
    per_class = [line for line in lines if "held-out frames per class" in line]
    assert len(per_class) == 1 and all(f"{g} " in per_class[0] for g in GESTURES), lines
    assert any(line.startswith("edgecnn train: confused:") for line in lines), lines


def test_run_on_the_artifact_folder_reads_the_photos_not_recorded(artifact, photos, capsys):
    out, _ = artifact
    right = total = 0
    for gesture in GESTURES:
        assert main(["run", "--model", str(out), "--source", str(photos[1] / gesture), "--headless"]) == 0
        captured = capsys.readouterr()
        labels = [json.loads(line)["label"] for line in captured.out.splitlines()]
        assert "model_tflite_float32.tflite" in captured.err  # the folder's float32 export
        right += labels.count(gesture)
        total += len(labels)
    assert total >= 15 and right / total >= 0.7, (right, total)


def test_an_empty_room_claims_no_class(artifact, shared_data, capsys):
    out, _ = artifact
    cats = shared_data / "cats-vs-dogs" / "validation" / "cats"
    assert main(["run", "--model", str(out), "--source", str(cats), "--headless", "--max-frames", "60"]) == 0
    labels = [json.loads(line)["label"] for line in capsys.readouterr().out.splitlines()]
    assert len(labels) == 60 and sum(label is not None for label in labels) <= 3


def test_negatives_showing_your_gesture_are_left_out_a_whole_sign_at_a_time():
    rng = np.random.default_rng(0)
    yours = np.abs(rng.normal(1.0, 0.05, (6, 1, 735))).astype(np.float32)
    far = np.abs(rng.normal(1.0, 0.05, (9, 1, 735))).astype(np.float32)
    far[:, 0, :300] = 0.0  # another gesture: a different part of the embedding lights up
    far[5:, 0, 300:500] = 0.0  # and a third one
    negatives = np.concatenate([yours[:3] + 0.001, far[:5], yours[3:4] + 0.001, far[5:]])
    groups = np.array(["set/yours"] * 3 + ["set/other"] * 5 + ["set/third"] * 5)
    keep, dropped = unlike_your_gestures(yours, np.zeros(6, np.int64), negatives, groups)
    assert dropped == {"set/yours": 1.0}
    assert keep.tolist() == [False] * 3 + [True] * 10  # one hand of "third" like yours: the sign is not yours


def test_at_most_per_group_keeps_the_same_hands_on_every_run():
    groups = np.array(["a"] * 5 + ["b"] * 2)
    names = [f"{i}.jpg" for i in range(7)]
    keep = at_most_per_group(groups, names, 3)
    assert keep[:5].sum() == 3 and keep[5:].all()
    assert keep.tolist() == at_most_per_group(groups[::-1], names[::-1], 3)[::-1].tolist()


def write_class(folder: Path, sources: list[Path]) -> None:
    folder.mkdir(parents=True)
    for path in sources:
        shutil.copy(path, folder / path.name)


@pytest.mark.parametrize("case, expected", [
    ("one class", "1 gesture folder(s) ['up']; hand_gestures needs two or more"),
    ("too few", "train/follow: 2 frame(s) with a hand; a class needs at least 5"),
    ("no hand", "train/blank: no hand found in any frame"),
    ("reserved", "train/none: 'none' is the model's own outcome"),
])
def test_bad_data_folders_are_one_line(case, expected, photos, tmp_path, capsys):
    data = tmp_path / "data"
    ups = sorted((photos[0] / "up").iterdir())
    write_class(data / "train" / "up", ups)
    if case == "too few":
        write_class(data / "train" / "follow", sorted((photos[0] / "follow").iterdir())[:2])
    if case == "no hand":
        (data / "train" / "blank").mkdir()
        for i in range(6):
            cv2.imwrite(str(data / "train" / "blank" / f"{i}.png"), np.full((240, 320, 3), 60 + i, np.uint8))
    if case == "reserved":
        write_class(data / "train" / "none", ups[:5])
    code = main(["train", "hand_gestures", "--data", str(data), "--out", str(tmp_path / "art"), "--epochs", "1"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code != 0 and len(lines) == 1 and expected in lines[0], lines
    assert str(data) in lines[0]
