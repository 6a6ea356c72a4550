"""What a user sees when things go wrong: drifted exports, broken files, bad calibration data, interruptions."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from edgecnn.cli import main
from edgecnn.convert import runner
from edgecnn.convert.calibration import CalibrationOptions
from edgecnn.convert.errors import CalibrationError, ConversionError
from edgecnn.convert.formats import get_format
from edgecnn.convert.runner import ConvertOptions, convert_artifact
from edgecnn.runtime.contract import sidecar_path

FLOAT_FORMATS = ["tflite_float32", "onnx_float32"]


def _copy_artifact(source, target):
    target.mkdir()
    for name in ("model.keras", "model.keras.contract.json"):
        shutil.copy2(source / name, target / name)
    return target


@pytest.fixture
def small_artifact(sigmoid_artifact, tmp_path):
    """A private copy of the sigmoid artifact with its two float exports (converted in-process)."""
    artifact = _copy_artifact(sigmoid_artifact, tmp_path / "artifact")
    convert_artifact(artifact, ConvertOptions(formats=tuple(FLOAT_FORMATS), isolate=False))
    return artifact


def _perturb_keras_weights(path):
    import keras

    model = keras.saving.load_model(path, compile=False)
    layer = model.layers[-1]
    kernel, bias = layer.get_weights()
    # Negating the last layer turns a sigmoid p into 1 - p: the outputs move by |1 - 2p|, which is large for any
    # trained model. (Random noise could leave both models saturated at the same value, and the test flaked.)
    layer.set_weights([-kernel, -bias])
    model.save(path)


def test_drifted_exports_fail_verify_with_one_line_per_export(small_artifact, tmp_path, capsys):
    _perturb_keras_weights(small_artifact / "model.keras")
    json_path, junit_path = tmp_path / "report.json", tmp_path / "report.xml"
    code = main(["verify", str(small_artifact), "--limit", "10", "--json", str(json_path),
                 "--junit", str(junit_path)])
    captured = capsys.readouterr()
    assert code == 1
    error_lines = [line for line in captured.err.splitlines() if line.startswith(tuple(FLOAT_FORMATS))]
    assert [line.split(":", 1)[0] for line in error_lines] == FLOAT_FORMATS
    for line in error_lines:
        assert "max abs diff" in line and "> 1e-05" in line
        assert "exported from a different model.keras" in line
    assert "2 of 2 exports" in captured.err
    data = json.loads(json_path.read_text())
    assert data["passed"] is False
    assert all(entry["parity"]["max_abs_diff"] > 1e-3 for entry in data["formats"])
    suite = ET.parse(junit_path).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "2"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == set(FLOAT_FORMATS)
    for case in cases.values():
        assert "max abs diff" in case.find("failure").get("message")
        values = {p.get("name"): float(p.get("value")) for p in case.iter("property")}
        assert values["max_abs_diff"] > 1e-3 and 0.0 <= values["agreement"] <= 1.0


def test_passing_verify_writes_json_and_junit(small_artifact, tmp_path, capsys):
    json_path, junit_path = tmp_path / "ok.json", tmp_path / "ok.xml"
    code = main(["verify", str(small_artifact), "--limit", "10", "--json", str(json_path), "--junit", str(junit_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "tflite_float32" in out and "litert" in out
    data = json.loads(json_path.read_text())
    assert data["passed"] is True and data["images"] == 20
    assert {entry["format"]: entry["passed"] for entry in data["formats"]} == dict.fromkeys(FLOAT_FORMATS, True)
    suite = ET.parse(junit_path).getroot()
    assert suite.get("failures") == "0" and len(list(suite.iter("testcase"))) == 2


def test_swapped_export_is_caught(small_artifact, softmax_artifact, capsys):
    """Another model's file under this name: a shape/contract mismatch, reported per export."""
    convert_artifact(softmax_artifact, ConvertOptions(formats=("tflite_float32",), isolate=False))
    for suffix in ("", ".contract.json"):
        shutil.copy2(softmax_artifact / f"model_tflite_float32.tflite{suffix}",
                     small_artifact / f"model_tflite_float32.tflite{suffix}")
    code = main(["verify", str(small_artifact), "--limit", "5", "--formats", "tflite_float32"])
    err = capsys.readouterr().err
    assert code == 1
    assert "tflite_float32: litert cannot run it" in err and "32, 32, 3" in err


def test_broken_keras_file_is_a_one_line_error(sigmoid_artifact, tmp_path, capsys):
    artifact = _copy_artifact(sigmoid_artifact, tmp_path / "broken")
    (artifact / "model.keras").write_bytes(b"PK\x03\x04 definitely not a keras zip")
    code = main(["convert", str(artifact), "--formats", "tflite_float32", "--in-process"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("edgecnn convert: error: ") and "model.keras: not a loadable Keras model" in err[-1]
    assert not list(artifact.glob("model_*")) and not list(artifact.glob(".*partial*"))


@pytest.mark.parametrize("problem, expected", [
    ("missing", "is not an edgecnn artifact folder"),
    ("no_contract", "contract are missing"),
])
def test_not_an_artifact_is_a_one_line_error(sigmoid_artifact, tmp_path, capsys, problem, expected):
    artifact = tmp_path / "nothing"
    if problem == "no_contract":
        artifact.mkdir()
        shutil.copy2(sigmoid_artifact / "model.keras", artifact / "model.keras")
    for command in ("convert", "verify"):
        assert main([command, str(artifact)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0] and str(artifact) in lines[0]


def test_calibration_with_wrong_classes(sigmoid_artifact, shared_data):
    wrong = shared_data / "rps-real-pi" / "train"
    with pytest.raises(CalibrationError, match=r"class folders \['paper', 'rock', 'scissors'\] do not match "
                                               r"the model's labels \['horses', 'humans'\]"):
        convert_artifact(sigmoid_artifact, ConvertOptions(formats=("tflite_int8",), isolate=False,
                                                          calibration=CalibrationOptions(data=wrong)))


def test_calibration_too_few_images_and_corrupt_ones_skipped(sigmoid_artifact, shared_data, tmp_path):
    data = tmp_path / "calib"
    for label in ("horses", "humans"):
        (data / label).mkdir(parents=True)
        for image in sorted((shared_data / "horses-or-humans" / "train" / label).glob("*.jpg"))[:3]:
            shutil.copy2(image, data / label / image.name)
    (data / "humans" / "corrupt.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    notes = []
    with pytest.raises(CalibrationError, match=r"only 6 readable calibration images, expected at least 10"):
        convert_artifact(sigmoid_artifact, ConvertOptions(formats=("onnx_int8",), isolate=False,
                                                          calibration=CalibrationOptions(data=data)),
                         on_note=notes.append)
    assert any("corrupt.jpg" in note for note in notes)


def test_interrupted_conversion_leaves_the_previous_file(small_artifact, monkeypatch):
    target = small_artifact / "model_tflite_float32.tflite"
    before, sidecar_before = target.read_bytes(), sidecar_path(target).read_bytes()

    def interrupted(path, contract):
        assert path.is_file() and path != target  # the new export is staged beside, not over, the old one
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "embed_in_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        convert_artifact(small_artifact, ConvertOptions(formats=("tflite_float32",), isolate=False))
    assert target.read_bytes() == before and sidecar_path(target).read_bytes() == sidecar_before
    assert not list(small_artifact.glob(".*"))


def test_unwritable_output_is_a_one_line_error(small_artifact, capsys):
    blocker = small_artifact / get_format("onnx_float32").file_name
    blocker.unlink()
    blocker.mkdir()  # a folder where the file should go: cannot be replaced by a file, even as root
    code = main(["convert", str(small_artifact), "--formats", "onnx_float32", "--in-process"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "model_onnx_float32.onnx: cannot write the export" in lines[-1]
    assert blocker.is_dir() and not list(small_artifact.glob(".*partial*"))


def test_isolated_export_runs_in_a_fresh_process(small_artifact):
    target = small_artifact / "model_tflite_float32.tflite"
    target.unlink()
    records = convert_artifact(small_artifact, ConvertOptions(formats=("tflite_float32",), isolate=True))
    assert records[0].peak_rss_mb is not None and records[0].peak_rss_mb > 50
    assert target.is_file() and records[0].size_bytes == target.stat().st_size


def test_isolated_export_reports_the_child_error(sigmoid_artifact, tmp_path):
    artifact = _copy_artifact(sigmoid_artifact, tmp_path / "broken")
    (artifact / "model.keras").write_bytes(b"garbage")
    with pytest.raises(ConversionError, match=r"model\.keras: not a loadable Keras model"):
        convert_artifact(artifact, ConvertOptions(formats=("tflite_float32",), isolate=True))


def test_collapsed_int8_is_diagnosed(sigmoid_artifact, tmp_path):
    """Calibrating on black frames (a lens cap left on) squeezes the int8 ranges: verify must fail and say why."""
    import cv2

    from edgecnn.convert.verify import VerifyOptions, verify_artifact

    artifact = _copy_artifact(sigmoid_artifact, tmp_path / "artifact")
    black = tmp_path / "lens_cap"
    for label in ("horses", "humans"):
        (black / label).mkdir(parents=True)
        for index in range(6):
            assert cv2.imwrite(str(black / label / f"frame{index}.png"), np.full((64, 64, 3), index, np.uint8))
    convert_artifact(artifact, ConvertOptions(formats=("tflite_int8",), isolate=False,
                                              calibration=CalibrationOptions(data=black)))
    report = verify_artifact(artifact, VerifyOptions(limit=20, repair=None))
    (item,) = report.formats
    assert not item.passed
    assert any(reason.startswith(("top-1 agreement", "max abs diff", "accuracy drop")) for reason in item.reasons)
    notes = " | ".join(item.diagnosis)
    assert "calibration covered every class {'horses': 6, 'humans': 6}" in notes
    assert "layers with the largest quantization error" in notes and "quantization steps" in notes
