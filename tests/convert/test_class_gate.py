"""The per-class gate: an int8 export that collapses classes fails naming them in the error, JSON, JUnit and tables."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from edgecnn.cli import main
from edgecnn.convert.formats import Tolerance, format_names, get_format
from edgecnn.convert.parity import compare


def _one_hot(top: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[top]


def test_class_gate_catches_what_the_overall_figures_average_away():
    """100 images per class x 10: 20 of one class flip; overall agreement 98%, accuracy -2 points, class -20 points."""
    truth = np.repeat(np.arange(10), 100)
    keras_top = truth.copy()
    export_top = truth.copy()
    export_top[np.flatnonzero(truth == 6)[:20]] = 0
    labels = tuple(f"c{i}" for i in range(10))
    overall_only = Tolerance(min_agreement=0.97, max_accuracy_drop=2.5, max_class_accuracy_drop=None,
                             min_class_agreement=None)
    parity = compare(_one_hot(keras_top, 10), _one_hot(export_top, 10), truth, labels, overall_only)
    assert parity.passed and parity.agreement == 0.98
    gated = compare(_one_hot(keras_top, 10), _one_hot(export_top, 10), truth, labels,
                    Tolerance(min_agreement=0.97, max_accuracy_drop=2.5))
    assert gated.reasons == ["class 'c6' accuracy drop 20.00 points > 5.00 (100.0% -> 80.0%)",
                             "class 'c6' agreement 80.00% < 90.00% (100 images)"]
    assert gated.confusion_delta[6][0] == 20 and gated.confusion_delta[6][6] == -20
    assert gated.classes["c6"] == {"images": 100, "agreement": 0.8, "accuracy": 80.0, "keras_accuracy": 100.0,
                                   "accuracy_change": -20.0}


def test_small_classes_are_reported_not_gated():
    truth = np.repeat(np.arange(2), 10)
    export_top = truth.copy()
    export_top[0] = 1
    parity = compare(_one_hot(truth, 2), _one_hot(export_top, 2), truth, ("a", "b"),
                     Tolerance(min_agreement=0.9, max_accuracy_drop=10))
    assert parity.passed and parity.classes["a"]["agreement"] == 0.9 and parity.classes["a"]["images"] == 10


@pytest.mark.parametrize("name", format_names())
def test_every_format_has_a_class_gate(name):
    tolerance = get_format(name).tolerance
    assert tolerance.max_class_accuracy_drop is not None and tolerance.min_class_agreement is not None
    assert tolerance.max_class_accuracy_drop >= tolerance.max_accuracy_drop


def test_int8_collapsed_onto_one_class_fails_naming_the_classes(softmax_artifact, tmp_path, capsys):
    """Calibration on near-black frames (a lens cap left on): the real int8 export predicts 'scissors' for almost
    everything; verify must fail naming the classes that collapsed, in the error, the JSON, JUnit and the tables."""
    import cv2

    artifact = tmp_path / "artifact"
    artifact.mkdir()
    for name in ("model.keras", "model.keras.contract.json"):
        shutil.copy2(softmax_artifact / name, artifact / name)
    frames = tmp_path / "lens_cap"
    for label in ("paper", "rock", "scissors"):
        (frames / label).mkdir(parents=True)
        for index in range(6):
            assert cv2.imwrite(str(frames / label / f"frame{index}.png"), np.full((32, 32, 3), index, np.uint8))
    assert main(["convert", str(artifact), "--formats", "tflite_int8", "--in-process", "--calib-data", str(frames),
                 "--calib-count", "18"]) == 0
    json_path, junit_path = tmp_path / "verify.json", tmp_path / "verify.xml"
    code = main(["verify", str(artifact), "--limit", "40", "--json", str(json_path), "--junit", str(junit_path)])
    captured = capsys.readouterr()
    assert code == 1
    error = captured.err
    collapsed = [label for label in ("paper", "rock", "scissors") if f"class '{label}' accuracy drop" in error]
    assert collapsed and "scissors" not in collapsed, error
    entry = json.loads(json_path.read_text())["formats"][0]
    classes = entry["parity"]["classes"]
    for label in collapsed:
        assert classes[label]["agreement"] < 0.9 and classes[label]["accuracy_change"] < -5
        assert f"class {label!r} agreement" in " ".join(entry["reasons"])
        assert f"{label}->scissors +" in captured.out  # the confusion delta against Keras
    delta = np.array(entry["parity"]["confusion_delta"])
    assert delta.shape == (3, 3) and delta.sum() == 0 and delta[:, 2].sum() > 0
    assert "agreement per class" in captured.out and f"{100 * classes[collapsed[0]]['agreement']:.1f}*" in captured.out
    properties = {p.get("name"): float(p.get("value")) for p in ET.parse(junit_path).getroot().iter("property")}
    assert properties[f"class.{collapsed[0]}.agreement"] == classes[collapsed[0]]["agreement"]
