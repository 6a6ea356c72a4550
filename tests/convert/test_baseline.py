"""``edgecnn verify --baseline FILE [--update-baseline]``: the CI gate against the last accepted run."""

from __future__ import annotations

import json
import shutil

import pytest

from edgecnn.cli import main
from edgecnn.convert.runner import ConvertOptions, convert_artifact

ARGS = ("--limit", "10", "--formats", "tflite_float32")


@pytest.fixture(scope="module")
def float_artifact(sigmoid_artifact, tmp_path_factory):
    artifact = tmp_path_factory.mktemp("baseline") / "artifact"
    artifact.mkdir()
    for name in ("model.keras", "model.keras.contract.json"):
        shutil.copy2(sigmoid_artifact / name, artifact / name)
    convert_artifact(artifact, ConvertOptions(formats=("tflite_float32",), isolate=False))
    return artifact


@pytest.fixture(scope="module")
def accepted(float_artifact, tmp_path_factory):
    """``(baseline file, --json of the same run)`` written by one accepted run."""
    folder = tmp_path_factory.mktemp("ci")
    baseline, report = folder / "baseline.json", folder / "run.json"
    assert main(["verify", str(float_artifact), *ARGS, "--baseline", str(baseline), "--update-baseline",
                 "--json", str(report)]) == 0
    return baseline, report


def test_update_baseline_writes_the_same_document_as_json(accepted, capsys):
    baseline, report = accepted
    written, same_run = json.loads(baseline.read_text()), json.loads(report.read_text())
    assert written == same_run  # one schema: the baseline is what --json writes
    assert written["version"] == 1 and written["passed"] is True
    assert set(written["formats"][0]["parity"]["classes"]) == {"horses", "humans"}
    assert written["exports"]["model_tflite_float32.tflite"]["status"] == "passed"
    assert not list(baseline.parent.glob(".*.tmp"))


def test_unchanged_run_passes_against_its_baseline(float_artifact, accepted, capsys):
    baseline, _ = accepted
    assert main(["verify", str(float_artifact), *ARGS, "--baseline", str(baseline)]) == 0
    assert f"compared with the baseline {baseline}: no regression" in capsys.readouterr().out


def test_regression_names_format_class_and_figure(float_artifact, accepted, tmp_path, capsys):
    """An earlier run that did better on 'humans' (here: the accepted run's figures raised) fails this one."""
    baseline, _ = accepted
    data = json.loads(baseline.read_text())
    humans = data["formats"][0]["parity"]["classes"]["humans"]
    humans["accuracy"] += 5.0
    better = tmp_path / "better.json"
    better.write_text(json.dumps(data))
    assert main(["verify", str(float_artifact), *ARGS, "--baseline", str(better), "--junit",
                 str(tmp_path / "ci.xml")]) == 1
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if line.startswith("tflite_float32:"))
    assert (f"regression: class 'humans' accuracy {humans['accuracy'] - 5:.2f}% < {better} "
            f"{humans['accuracy']:.2f}% by 5.00 points (allowed 0.00)") in line
    assert "regression: class 'humans' accuracy" in (tmp_path / "ci.xml").read_text()
    # --update-baseline accepts it: the figures become the new baseline
    assert main(["verify", str(float_artifact), *ARGS, "--baseline", str(better), "--update-baseline"]) == 0
    assert "(accepted by --update-baseline)" in capsys.readouterr().out
    assert json.loads(better.read_text())["formats"][0]["parity"]["classes"]["humans"]["accuracy"] == humans[
        "accuracy"] - 5


def test_failing_run_does_not_replace_the_baseline(float_artifact, accepted, tmp_path, capsys):
    baseline, _ = accepted
    copy = tmp_path / "baseline.json"
    shutil.copy2(baseline, copy)
    before = copy.read_bytes()
    code = main(["verify", str(float_artifact), "--limit", "10", "--formats", "tflite_float32", "onnx_int8",
                 "--baseline", str(copy), "--update-baseline"])  # onnx_int8 was never converted: it fails
    out = capsys.readouterr().out
    assert code == 1 and f"baseline {copy} not updated: onnx_int8 fail their gate" in out
    assert copy.read_bytes() == before


@pytest.mark.parametrize("content, expected", [
    (None, "no such baseline file"),
    ("{not json", "not a readable verify JSON document"),
    ('{"exports": {}}', "not a verify document (expected the JSON 'edgecnn verify --json' writes"),
    ('{"version": 99, "formats": []}', "verify document version 99 is newer"),
])
def test_bad_baseline_is_a_one_line_error_before_verifying(float_artifact, tmp_path, capsys, content, expected):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    assert main(["verify", str(float_artifact), *ARGS, "--baseline", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and expected in lines[0]
    assert "verify: tflite_float32" not in captured.err  # failed before the run


def test_baseline_on_other_images_is_not_comparable(float_artifact, accepted, capsys):
    baseline, _ = accepted
    assert main(["verify", str(float_artifact), "--limit", "5", "--formats", "tflite_float32",
                 "--baseline", str(baseline)]) == 2
    assert "measured on 20 images, this run on 10: not comparable" in capsys.readouterr().err
