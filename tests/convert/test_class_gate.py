"""The per-class gate: an int8 export that collapses classes fails naming them in the error, JSON, JUnit and tables."""

from __future__ import annotations

import contextlib
import io
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


def _chromium():
    """Debian's headless chromium through Selenium, as tests/runtime/test_runtime_web_view.py drives it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


@pytest.fixture(scope="module")
def collapsed(softmax_artifact, tmp_path_factory):
    """A real int8 export calibrated on near-black frames (a lens cap left on): it predicts 'scissors' for almost
    everything. Returns ``(folder, verify exit code, stdout, stderr)``; verify wrote verify.json, .xml, gallery/."""
    import cv2

    tmp_path = tmp_path_factory.mktemp("collapsed")
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    for name in ("model.keras", "model.keras.contract.json"):
        shutil.copy2(softmax_artifact / name, artifact / name)
    frames = tmp_path / "lens_cap"
    for label in ("paper", "rock", "scissors"):
        (frames / label).mkdir(parents=True)
        for index in range(6):
            assert cv2.imwrite(str(frames / label / f"frame{index}.png"), np.full((32, 32, 3), index, np.uint8))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # capsys is per test, this per module
        assert main(["convert", str(artifact), "--formats", "tflite_int8", "tflite_float32", "--in-process",
                     "--calib-data", str(frames), "--calib-count", "18"]) == 0
        code = main(["verify", str(artifact), "--limit", "40", "--no-repair", "--json", str(tmp_path / "verify.json"),
                     "--junit", str(tmp_path / "verify.xml"), "--gallery", str(tmp_path / "gallery")])
    return tmp_path, code, out.getvalue(), err.getvalue()


def test_int8_collapsed_onto_one_class_fails_naming_the_classes(collapsed):
    """Verify fails naming the classes that collapsed, in the error, the JSON, JUnit and the tables."""
    tmp_path, code, out, error = collapsed
    assert code == 1
    collapsed_classes = [label for label in ("paper", "rock", "scissors")
                         if f"class '{label}' accuracy drop" in error]
    assert collapsed_classes and "scissors" not in collapsed_classes, error
    document = json.loads((tmp_path / "verify.json").read_text())
    entry = next(entry for entry in document["formats"] if entry["format"] == "tflite_int8")
    classes = entry["parity"]["classes"]
    for label in collapsed_classes:
        assert classes[label]["agreement"] < 0.9 and classes[label]["accuracy_change"] < -5
        assert f"class {label!r} agreement" in " ".join(entry["reasons"])
        assert f"{label}->scissors +" in out  # the confusion delta against Keras
    delta = np.array(entry["parity"]["confusion_delta"])
    assert delta.shape == (3, 3) and delta.sum() == 0 and delta[:, 2].sum() > 0
    assert "agreement per class" in out and f"{100 * classes[collapsed_classes[0]]['agreement']:.1f}*" in out
    properties = {p.get("name"): float(p.get("value")) for p in ET.parse(tmp_path / "verify.xml").getroot()
                  .iter("property")}
    assert properties[f"class.{collapsed_classes[0]}.agreement"] == classes[collapsed_classes[0]]["agreement"]


def test_gallery_shows_every_disagreement_in_a_real_browser(collapsed):
    from selenium.webdriver.common.by import By

    tmp_path, _, out, _ = collapsed
    document = json.loads((tmp_path / "verify.json").read_text())
    entry = next(entry for entry in document["formats"] if entry["format"] == "tflite_int8")
    flipped = round((1 - entry["parity"]["agreement"]) * document["images"])
    assert document["gallery"] == {"tflite_int8": flipped, "tflite_float32": 0}
    assert f"disagreement gallery: {tmp_path / 'gallery' / 'index.html'}" in out
    browser = _chromium()
    try:
        browser.get((tmp_path / "gallery" / "index.html").as_uri())
        heading = browser.find_element(By.ID, "tflite_int8").text
        assert heading == f"tflite_int8: {flipped} of {document['images']} images disagree with Keras"
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.disagreement")
        assert len(rows) == flipped
        for row in rows:
            image = row.find_element(By.TAG_NAME, "img")
            assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 32
            keras = [li.text.rsplit(" ", 1)[0] for li in row.find_elements(By.CSS_SELECTOR, "ol.keras li")]
            export = [li.text.rsplit(" ", 1)[0] for li in row.find_elements(By.CSS_SELECTOR, "ol.export li")]
            assert sorted(keras) == sorted(export) == ["paper", "rock", "scissors"] and keras[0] != export[0]
            assert row.find_element(By.CSS_SELECTOR, "td.truth").text in keras
        assert "tflite_float32: 0 of" in browser.find_element(By.ID, "tflite_float32").text
    finally:
        browser.quit()
