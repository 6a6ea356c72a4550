"""int8 repair: a real int8 export that fails its gate is re-exported with the format's remedies until one passes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from edgecnn.cli import main
from edgecnn.convert.formats import format_names, get_format
from edgecnn.convert.repair import REMEDIES
from edgecnn.runtime.contract import read_sidecar
from edgecnn.runtime.model_file import read_embedded_contract


@pytest.mark.parametrize("name", format_names())
def test_remedies_of_every_format_are_registered(name):
    fmt = get_format(name)
    assert all(remedy in REMEDIES for remedy in fmt.remedies)
    assert bool(fmt.remedies) == fmt.quantization.needs_calibration  # every calibrated format can be repaired


def _lens_cap_export(softmax_artifact, tmp_path):
    """The softmax artifact with a tflite_int8 export calibrated on near-black frames: it fails its gate."""
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
    return artifact


def test_failing_int8_is_repaired_and_the_contract_says_how(softmax_artifact, tmp_path, capsys):
    artifact = _lens_cap_export(softmax_artifact, tmp_path)
    path = artifact / "model_tflite_int8.tflite"
    original = path.read_bytes()
    capsys.readouterr()
    code = main(["verify", str(artifact), "--limit", "40", "--json", str(tmp_path / "verify.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    entry = json.loads((tmp_path / "verify.json").read_text())["formats"][0]
    repair = entry["repair"]
    assert repair["before"]["agreement"] < 0.9 and repair["before"]["reasons"]
    assert repair["remedy"] == repair["attempts"][-1]["remedy"] and repair["attempts"][-1]["passed"]
    assert entry["passed"] and entry["parity"]["agreement"] == repair["attempts"][-1]["agreement"]
    before = 100 * repair["before"]["agreement"]
    assert f"tflite_int8: repaired by {repair['remedy']}: agreement {before:.2f}% ->" in out
    assert path.read_bytes() != original and not list(artifact.glob(".*"))
    contract = read_embedded_contract(path)
    assert contract == read_sidecar(path)
    recorded = contract.extra["export"]
    assert recorded["repair"]["remedy"] == repair["remedy"] and recorded["repair"]["before"]["agreement"] < 0.9
    assert recorded["calibration_images"] >= 1000 and set(recorded["calibration_classes"]) == set(contract.labels)
    # verify again: the repaired export passes as it is, with nothing left to repair
    assert main(["verify", str(artifact), "--limit", "40", "--no-repair"]) == 0


def test_no_repair_leaves_the_failing_export(softmax_artifact, tmp_path, capsys):
    artifact = _lens_cap_export(softmax_artifact, tmp_path)
    before = (artifact / "model_tflite_int8.tflite").read_bytes()
    assert main(["verify", str(artifact), "--limit", "10", "--no-repair"]) == 1
    assert "repaired" not in capsys.readouterr().out
    assert (artifact / "model_tflite_int8.tflite").read_bytes() == before
