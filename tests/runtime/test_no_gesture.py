"""A hand that shows none of the model's gestures: the contract's no-gesture label, "no gesture" in the JSON line,
the overlay and the web view, smoothing starting afresh after it, and an old contract that keeps today's answers."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import numpy as np
import pytest
from runtime_fixtures import REPO

from edgecnn.runtime.classifier import Classifier, Prediction
from edgecnn.runtime.contract import HandCrop, ModelContract
from edgecnn.runtime.errors import ContractError
from edgecnn.runtime.gesture import NO_GESTURE, NO_HAND, GestureResult, HandGestures
from edgecnn.runtime.images import read_image_rgb
from edgecnn.runtime.live import LiveOptions, run_live
from edgecnn.runtime.overlay import describe_no_hand
from edgecnn.runtime.sources import Frame, Source

CLASSIFIER = REPO / "runtime" / "models" / "rps_landmarks.tflite"
LABELS = ("no_gesture", "none", "paper", "rock", "scissors")


def _contract(**crop) -> ModelContract:
    return ModelContract("rps_landmarks", LABELS, (21, 3), input_kind="hand_landmarks", hand_crop=HandCrop(**crop))


def test_the_contract_names_its_no_gesture_label_and_refuses_one_it_does_not_have():
    contract = _contract(no_hand_label="none", no_gesture_label="no_gesture")
    assert ModelContract.from_json(contract.to_json()).hand_crop.no_gesture_label == "no_gesture"
    with pytest.raises(ContractError, match="no_gesture_label 'thumbs_up' is not one of the labels"):
        _contract(no_gesture_label="thumbs_up")
    with pytest.raises(ContractError, match="no_gesture_label and no_hand_label must differ"):
        _contract(no_hand_label="none", no_gesture_label="none")


def test_an_old_contract_without_the_field_reads_as_no_no_gesture_label():
    old = json.loads(_contract(no_hand_label="none").to_json())
    del old["hand_crop"]["no_gesture_label"]  # written before the field existed
    assert ModelContract.from_dict(old).hand_crop.no_gesture_label is None


@pytest.fixture(scope="module")
def pi_hand(shared_data):
    return read_image_rgb(sorted((shared_data / "rps-real-pi" / "validation" / "rock").glob("*.jpg"))[0])


def test_a_hand_read_as_the_no_gesture_label_is_no_gesture_never_a_class(pi_hand):
    classifier = Classifier.open(CLASSIFIER, threads=1)
    crop = classifier.contract.hand_crop
    probe = HandGestures(classifier, "auto").classify(pi_hand)
    assert probe.prediction is not None and probe.reason is None  # the shipped contract: a class
    # the same hand, read by a contract that names the predicted label "no gesture"
    relabelled = replace(classifier.contract, hand_crop=replace(crop, no_gesture_label=probe.prediction.label))
    result = HandGestures(Classifier(classifier.backend, relabelled), "auto").classify(pi_hand)
    assert result.prediction is None and result.reason == NO_GESTURE == "no gesture"
    assert result.hand is not None and result.box == probe.box  # the hand is there: its box is still shown
    # an old contract (no no-gesture label) keeps today's answer
    old = replace(classifier.contract, hand_crop=replace(crop, no_gesture_label=None))
    assert HandGestures(Classifier(classifier.backend, old), "auto").classify(pi_hand).prediction.label == \
        probe.prediction.label


def test_the_overlay_and_the_web_view_say_no_gesture():
    text = describe_no_hand(NO_GESTURE, 10.0)
    assert text.title == "no gesture" and text.top == [] and not text.sure
    page = (REPO / "runtime" / "web_view.html").read_text()
    assert "p.reason" in page  # the page shows the record's reason, whichever it is


class _Frames(Source):
    name, live = "stub", False

    def __init__(self, count: int):
        self.count = count

    def __iter__(self):
        for index in range(self.count):
            yield Frame(np.zeros((48, 64, 3), np.uint8), str(index), index, index, 0.0)


class _Scripted:
    """Gestures that answer a fixed sequence: a class, "no gesture", "no hand"."""

    mode = "auto"

    def __init__(self, answers):
        self.answers = iter(answers)

    def reset(self) -> None:
        pass

    def classify(self, image):
        probabilities = next(self.answers)
        if isinstance(probabilities, str):
            return GestureResult(None, (1, 2, 30, 40), None, probabilities, 1.0)
        index = int(np.argmax(probabilities))
        prediction = Prediction(index, ("paper", "rock")[index], float(probabilities[index]), probabilities, 1.0)
        return GestureResult(prediction, (1, 2, 30, 40), None, None, 1.0)


def test_the_json_line_says_no_gesture_and_smoothing_starts_afresh_after_it():
    paper, rock = np.array([0.9, 0.1], np.float32), np.array([0.2, 0.8], np.float32)
    answers = [paper, NO_GESTURE, rock, NO_HAND, rock]
    out = io.StringIO()
    classifier = type("Stub", (), {"labels": ("paper", "rock")})()
    run_live(classifier, _Frames(len(answers)), LiveOptions(headless=True, window=False, smooth=0.9), stdout=out,
             gestures=_Scripted(answers))
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["label"], r.get("reason")) for r in records] == [
        ("paper", None), (None, "no gesture"), ("rock", None), (None, "no hand"), ("rock", None)]
    assert records[1]["probabilities"] is None and records[1]["box"] == [1, 2, 30, 40]
    # the rock after "no gesture" is not averaged with the paper before it
    assert records[2]["probabilities"] == pytest.approx({"paper": 0.2, "rock": 0.8})
