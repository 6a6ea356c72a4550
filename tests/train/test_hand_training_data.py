"""What the hand classifiers train on: other signs and hands at rest as one 'no_gesture' class, a set trained on
whole (--train-only-data), hand-free photos read only as they are (--no-hand-stills); on a few real photos."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edgecnn.data.datasets import get_dataset
from edgecnn.data.errors import DataError
from edgecnn.train.landmark_data import load_landmark_data


def _copy(src: Path, out: Path, per_class: int) -> Path:
    for folder in sorted(p for p in src.glob("*/*") if p.is_dir()):
        target = out / folder.relative_to(src)
        target.mkdir(parents=True)
        for image in sorted(folder.glob("*.jpg"))[:per_class]:
            shutil.copy(image, target / image.name)
    return out


@pytest.fixture(scope="module")
def roots(shared_data, tmp_path_factory):
    base = tmp_path_factory.mktemp("hand-data")
    return {name: _copy(shared_data / name, base / name, 2) for name in (
        "rps-real-pi", "rps-webcam-subhih", "gestures-room-emrecandir9", "cats-vs-dogs")}


def test_negative_folders_are_one_class_and_a_train_only_set_is_never_held_out(roots, tmp_path):
    data = load_landmark_data(get_dataset("rps"), [roots["rps-real-pi"], roots["rps-webcam-subhih"],
                                                   roots["gestures-room-emrecandir9"]], None, 0,
                              [roots["cats-vs-dogs"]], tmp_path / "cache", train_only_roots=[
                                  roots["gestures-room-emrecandir9"]], no_hand_stills=[roots["cats-vs-dogs"]])
    assert data.labels == ("no_gesture", "none", "paper", "rock", "scissors")
    room = str(roots["gestures-room-emrecandir9"])
    assert room in set(data.train.sources) and room not in set(data.eval.sources)
    subhih = str(roots["rps-webcam-subhih"])
    held = [label for label, source in zip(data.eval.labels, data.eval.sources) if source == subhih]
    assert data.labels.index("no_gesture") in held  # subhih's validation other_gesture hands
    described = data.description.to_dict()
    assert described["train_only_roots"] == [str(Path(room).resolve())]
    found = described["no_hand_found"]
    assert any("cats-vs-dogs/train hands imagined (as is)" in key for key in found)
    assert not any("camera frame" in key for key in found)  # a still root is not enlarged to a camera frame


def test_a_train_only_root_must_be_one_of_the_data_roots(roots, tmp_path):
    with pytest.raises(DataError, match="--train-only-data .*: not one of the --data roots"):
        load_landmark_data(get_dataset("rps"), [roots["rps-real-pi"]], None, 0, (), tmp_path / "cache",
                           train_only_roots=[roots["gestures-room-emrecandir9"]])


def test_gesture_folders_that_differ_between_roots_are_refused(roots, tmp_path):
    odd = tmp_path / "odd"
    _copy(roots["rps-real-pi"], odd, 1)
    shutil.rmtree(odd / "train" / "rock")
    with pytest.raises(DataError, match="class folders .* differ"):
        load_landmark_data(get_dataset("rps"), [roots["rps-real-pi"], odd], None, 0, (), tmp_path / "cache")


def test_a_frames_root_is_read_only_as_camera_frames(roots, tmp_path):
    data = load_landmark_data(get_dataset("rps"), [roots["rps-real-pi"]], None, 0, [roots["cats-vs-dogs"]],
                              tmp_path / "cache", no_hand_frames=[roots["cats-vs-dogs"]])
    found = data.description.to_dict()["no_hand_found"]
    assert any("cats-vs-dogs/train hands imagined (camera frame)" in key for key in found)
    assert not any("as is" in key for key in found)
