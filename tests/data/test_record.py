"""``edgecnn record``: real photos from a folder and from a video made of them, frames with a hand written as
files of one class (never overwriting, the hand already in the training cache), the bad inputs as one line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgecnn.cli import main
from edgecnn.train.gesture_data import held_out_files, session_of


@pytest.fixture(scope="module")
def thumbs(shared_data, tmp_path_factory) -> Path:
    """Eight thumb-up photos of gestures-room-emrecandir9 (two people, 1-3 m from the camera)."""
    folder = tmp_path_factory.mktemp("photos") / "up"
    folder.mkdir()
    for path in sorted((shared_data / "gestures-room-emrecandir9" / "train" / "other_gesture").glob("up_*"))[:8]:
        shutil.copy(path, folder / path.name)
    return folder


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_folder_is_recorded_into_train_label_and_a_second_run_adds(thumbs, tmp_path, capsys):
    data = tmp_path / "gestures"
    assert main(["record", str(data), "--label", "thumb_up", "--source", str(thumbs)]) == 0
    first = sorted((data / "train" / "thumb_up").iterdir())
    out = capsys.readouterr().out
    assert len(first) >= 6 and f"{len(first)} frame(s) with a hand" in out, out
    assert all(p.suffix == ".jpg" and p.name.startswith("thumb_up-") for p in first)
    originals = {hashlib.sha1(p.read_bytes()).hexdigest() for p in thumbs.iterdir()}
    assert {hashlib.sha1(p.read_bytes()).hexdigest() for p in first} <= originals  # photos kept byte for byte
    before = {p: p.read_bytes() for p in first}
    assert main(["record", str(data), "--label", "thumb_up", "--source", str(thumbs), "--count", "3"]) == 0
    second = sorted((data / "train" / "thumb_up").iterdir())
    assert len(second) == len(first) + 3 and all(p.read_bytes() == b for p, b in before.items())
    sessions = {session_of(p) for p in second}
    assert len(sessions) == 2  # one per run: training holds out whole recordings
    held = held_out_files(second)
    assert held and {session_of(p) for p in held} < sessions
    assert "now " + str(len(second)) in capsys.readouterr().out


def test_the_recorded_hands_are_already_in_the_training_cache(thumbs, tmp_path):
    from edgecnn.data.record import Recorder, RecordOptions, file_bytes

    cache = tmp_path / "cache"

    recorder = Recorder(RecordOptions(tmp_path / "d", "up", count=2), cache_dir=cache)
    for path in sorted(thumbs.iterdir()):
        recorder.offer(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), file_bytes(str(path)))
        if recorder.done:
            break
    summary = recorder.close()
    entries = json.loads(next(cache.iterdir()).read_text())
    assert len(summary.written) == 2
    assert all(any(key.startswith(f"{p.resolve()}|") and value for key, value in entries.items())
               for p in summary.written)


def test_a_video_of_real_photos_keeps_the_frames_with_a_hand(shared_data, tmp_path, capsys):
    hands_ = sorted((shared_data / "rps-webcam-subhih" / "validation" / "paper").iterdir())[:5]
    empty = np.full((384, 512, 3), 128, np.uint8)
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (512, 384))
    for path in hands_:
        writer.write(cv2.resize(cv2.imread(str(path)), (512, 384)))
        writer.write(empty)  # a frame with no hand between the photos
    writer.release()
    data = tmp_path / "gestures"
    code = main(["record", str(data), "--label", "flat", "--source", str(video), "--split", "validation"])
    out = capsys.readouterr().out
    assert code == 0, out
    files = sorted((data / "validation" / "flat").iterdir())
    assert 3 <= len(files) <= 5 and not (data / "train").exists()
    assert f"{10 - len(files)} without a hand skipped, of 10" in out, out


@pytest.mark.parametrize("args, expected", [
    (["--label", "none"], "--label none: reserved"),
    (["--label", "no-dash"], "--label 'no-dash': expected a folder name"),
    (["--label", "ok", "--source", "/nonexistent/clip.mp4"], "cannot open source '/nonexistent/clip.mp4'"),
    (["--label", "ok", "--split", "test"], "--split: invalid choice"),
    (["--label", "ok", "--count", "0"], "--count"),
])
def test_bad_input_is_one_line(args, expected, tmp_path, capsys):
    try:
        code = main(["record", str(tmp_path / "d"), *args])
    except SystemExit as exit_:  # argparse's own checks (choices, types)
        code = exit_.code
    assert code != 0
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and expected in lines[0], lines


def test_a_source_with_no_hand_in_any_frame_is_one_line_and_writes_nothing(tmp_path, capsys):
    blank = tmp_path / "blank"
    blank.mkdir()
    for i in range(2):
        cv2.imwrite(str(blank / f"{i}.png"), np.full((240, 320, 3), 90 + i, np.uint8))
    assert main(["record", str(tmp_path / "d"), "--label", "ok", "--source", str(blank)]) != 0
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and f"{blank}: no hand found in any of its 2 frame(s)" in lines[0], lines
    assert not list((tmp_path / "d" / "train" / "ok").iterdir())
