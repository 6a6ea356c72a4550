"""Every registered hand-feature model through the whole chain: trained, calibrated, converted and verified on real
photos, each stage reading the images through the crop policy its contract carries (the runtime's own hand finder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgecnn.cli import main
from edgecnn.data.description import DataDescription
from edgecnn.data.loader import load_labelled
from edgecnn.data.splits import held_out_clip
from edgecnn.runtime.classifier import Classifier
from edgecnn.runtime.contract import HAND_FEATURE_SHAPES, read_sidecar
from edgecnn.train.registry import get_spec, model_names

# the rock-paper-scissors hand models; hand_gestures, whose classes are the user's folders, has its own chain
# (tests/train/test_hand_gestures.py)
HAND_MODELS = [name for name in model_names()
               if get_spec(name).input_kind in HAND_FEATURE_SHAPES and get_spec(name).load_data is None]


@pytest.fixture(scope="module", params=HAND_MODELS)
def hand_artifact(request, shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("hands") / request.param
    room = str(shared_data / "gestures-room-emrecandir9")
    code = main(["train", request.param, "--data", str(shared_data / "rps-real-pi"),
                 "--data", str(shared_data / "rps-real-kaust"), "--data", str(shared_data / "rps-webcam-subhih"),
                 "--data", room, "--train-only-data", room, "--no-hand-data", str(shared_data / "cats-vs-dogs"),
                 "--limit", "10", "--epochs", "2", "--out", str(out)])
    assert code == 0
    assert main(["convert", str(out), "--formats", "tflite_float32", "tflite_int8"]) == 0
    return out


def test_the_data_description_names_the_held_out_hands_and_the_clip_rule(hand_artifact, shared_data):
    contract = read_sidecar(hand_artifact / "model.keras")
    # other signs and hands at rest (other_gesture, no_gesture folders) are one class, which the contract names
    assert contract.labels == ("no_gesture", "none", "paper", "rock", "scissors")
    assert contract.hand_crop.no_gesture_label == "no_gesture" and contract.hand_crop.no_hand_label == "none"
    room = str((shared_data / "gestures-room-emrecandir9").resolve())
    assert contract.extra["data"]["train_only_roots"] == [room]
    metrics = json.loads((hand_artifact / "metrics.json").read_text())
    assert room not in {str(Path(source).resolve()) for source in metrics["eval_accuracy_by_source"]}
    description = DataDescription.from_extra(contract.extra)
    assert description.kind == "hand_landmarks"
    held = description.held_out()
    assert held.root == (shared_data / "rps-real-pi").resolve() and held.split == "validation"
    # rps-real-kaust has no split of its own: whole clips are held out, by the same rule training used
    rule = description.hash_held_out
    assert rule.roots == (str((shared_data / "rps-real-kaust").resolve()),)
    names = [p.name for p in sorted((shared_data / "rps-real-kaust" / "train" / "rock").iterdir())[:200]]
    assert [rule.is_held_out(name) for name in names] == [held_out_clip(name) for name in names]
    assert any(rule.is_held_out(name) for name in names) and not all(rule.is_held_out(name) for name in names)


def test_the_loader_gives_a_hand_model_the_features_of_the_found_hands(hand_artifact, shared_data):
    contract = read_sidecar(hand_artifact / "model.keras")
    images = load_labelled(shared_data / "rps-real-pi", contract, "validation", 4)
    assert images.images.dtype == np.float32 and images.images.shape[1:] == HAND_FEATURE_SHAPES[contract.input_kind]
    assert set(images.labels.tolist()) <= {contract.labels.index(n) for n in ("paper", "rock", "scissors")}
    # the landmark part (the last 63 values of every kind): wrist at the origin, wrist -> middle-finger base one
    # unit up, the runtime's own features
    points = images.images.reshape(len(images.labels), -1)[:, -63:].reshape(-1, 21, 3)
    np.testing.assert_allclose(points[:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(points[:, 9, :2], np.tile([0.0, -1.0], (len(images.labels), 1)), atol=1e-5)
    if contract.input_kind == "hand_embedding":  # the landmark model's pooled ReLU features: non-negative, not all 0
        embedding = images.images.reshape(len(images.labels), -1)[:, :672]
        assert (embedding >= 0).all() and (embedding.max(axis=1) > 0).all()
    probabilities = Classifier.open(hand_artifact / "model_tflite_float32.tflite").predict(images.images)
    assert probabilities.shape == (len(images.labels), len(contract.labels))
    # a set with the negatives' folders: other_gesture hands are read as the no-gesture class
    negatives = load_labelled(shared_data / "rps-webcam-subhih", contract, "validation", 3)
    assert contract.labels.index("no_gesture") in negatives.labels.tolist()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_verify_checks_a_hand_model_on_the_hands_of_real_photos(hand_artifact, tmp_path, capsys):
    report = tmp_path / "verify.json"
    code = main(["verify", str(hand_artifact), "--limit", "8", "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "hands found by mediapipe_hands_lite" in out
    data = json.loads(report.read_text())
    assert data["passed"] is True and {f["format"] for f in data["formats"]} == {"tflite_float32", "tflite_int8"}
    assert 0 < data["images"] <= 24


def test_a_hand_model_on_folders_of_other_classes_is_a_one_line_error(hand_artifact, shared_data, capsys):
    code = main(["verify", str(hand_artifact), "--data", str(shared_data / "horses-or-humans"), "--limit", "2"])
    err = capsys.readouterr().err
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "do not match the hand model's labels" in lines[0], err
