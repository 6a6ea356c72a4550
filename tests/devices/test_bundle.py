"""The bundle: deterministic bytes, the model with its contract, a wheel, pinned requirements, smoke images with the
labels the runtime gave, a launcher, install.sh and a systemd unit."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from devices_fixtures import error_lines, run_cli

from edgecnn.devices.bundle import BundleOptions, build_bundle, choose_model, read_manifest, requirements_text
from edgecnn.devices.errors import BundleError
from edgecnn.devices.profiles import get_profile
from edgecnn.devices.smoke import default_smoke_images
from edgecnn.runtime.classifier import Classifier
from edgecnn.runtime.images import read_image_rgb
from edgecnn.runtime.model_file import read_embedded_contract


def _bundle(artifact: Path, wheel: Path, profile: str = "laptop_x86_64", per_class: int = 2, source: str = "auto"):
    model = choose_model(artifact, get_profile(profile))
    images = default_smoke_images(read_embedded_contract(model).extra, per_class)
    return build_bundle(get_profile(profile), BundleOptions(model, wheel, tuple(images), source=source))


def _extract(data: bytes, into: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(into, filter="data")
    return into / "bundle"


def test_same_inputs_give_the_same_bytes(tiny_artifact, project_wheel):
    first, second = _bundle(tiny_artifact, project_wheel), _bundle(tiny_artifact, project_wheel)
    assert first.data == second.data and first.sha256 == hashlib.sha256(second.data).hexdigest()
    assert _bundle(tiny_artifact, project_wheel, per_class=1).sha256 != first.sha256


def test_bundle_contents(tiny_artifact, project_wheel, tmp_path):
    bundle = _bundle(tiny_artifact, project_wheel, profile="rpi5")
    root = _extract(bundle.data, tmp_path)
    manifest = json.loads((root / "bundle.json").read_text())
    assert manifest == bundle.manifest and manifest["profile"] == "rpi5" and manifest["threads"] == 4
    model = root / manifest["model"]
    contract = read_embedded_contract(model)
    assert contract.labels == ("paper", "rock", "scissors")
    assert (root / "model" / f"{model.name}.contract.json").is_file()
    assert (root / manifest["wheel"]).read_bytes() == project_wheel.read_bytes()
    assert 'ai-edge-litert==2.3.0; python_version == "3.11"' in (root / "requirements.txt").read_text()
    assert "tensorflow" not in (root / "requirements.txt").read_text()
    recorded = json.loads((root / "smoke.json").read_text())
    assert len(recorded) == 6
    classifier = Classifier.open(model)
    for entry in recorded:
        assert classifier.classify(read_image_rgb(root / entry["file"])).label == entry["label"]
    for script in ("run.sh", "install.sh"):
        assert (root / script).stat().st_mode & 0o111
        subprocess.run(["sh", "-n", str(root / script)], check=True)
    launcher = " ".join((root / "run.sh").read_text().replace("\\\n", "").split())
    # the default camera is decided on the device at each start: the CSI camera if picamera2 sees one, else a webcam
    assert manifest["source"] == "auto"
    assert 'source=$("$here/venv/bin/python" -m edgecnn.devices.camera auto)' in launcher
    assert '--source "$source" --threads 4' in launcher
    assert "SOURCE=auto" in (root / "install.sh").read_text()
    csi = _extract(_bundle(tiny_artifact, project_wheel, profile="rpi5", source="picamera").data, tmp_path / "csi")
    assert "source=picamera" in (csi / "run.sh").read_text() and "SOURCE=picamera" in (csi / "install.sh").read_text()
    assert "ExecStart=@DIR@/run.sh --serve" in (root / "edgecnn.service").read_text()


def test_pi3_requirements_pin_tflite_runtime_with_numpy_1():
    text = requirements_text(get_profile("rpi3"), Path("model_tflite_int8_uint8io.tflite"))
    assert 'tflite-runtime==2.13.0; python_version == "3.9"' in text
    assert 'numpy<2; python_version == "3.9"' in text
    assert "# Raspberry Pi OS 13 (trixie) 32-bit: no interpreter wheel for armv7l Python 3.13" in text


def test_artifact_without_the_profiles_export_says_what_to_run(tmp_path):
    with pytest.raises(BundleError, match="no export for profile 'rpi_zero2w' .*edgecnn convert .* --formats "
                                          "tflite_int8_uint8io"):
        choose_model(tmp_path, get_profile("rpi_zero2w"))


def test_not_a_bundle(tmp_path):
    (tmp_path / "x.tar.gz").write_bytes(b"nope")
    with pytest.raises(BundleError, match="x.tar.gz: not an edgecnn bundle"):
        read_manifest(tmp_path / "x.tar.gz")


def test_bundle_cli_writes_the_same_tarball_twice(tiny_artifact, project_wheel, tmp_path):
    outputs = []
    for name in ("a.tar.gz", "b.tar.gz"):
        result = run_cli("bundle", tiny_artifact, "--profile", "rpi_zero2w", "--model",
                         tiny_artifact / "model_tflite_float32.tflite", "--wheel", project_wheel,
                         "--out", tmp_path / name)
        assert result.returncode == 0, result.stderr
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    assert read_manifest(tmp_path / "a.tar.gz")["profile"] == "rpi_zero2w"


def test_bundle_cli_bad_model_is_one_line(project_wheel, tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"not a flatbuffer")
    result = run_cli("bundle", "--profile", "rpi5", "--model", broken, "--wheel", project_wheel,
                     "--smoke-images", tmp_path, "--out", tmp_path / "x.tar.gz")
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("edgecnn bundle: error: ") and "broken.tflite" in lines[0]
    assert not (tmp_path / "x.tar.gz").exists()


def test_the_shipped_hand_model_bundles_and_its_smoke_test_agrees_on_hands_and_no_hand(project_wheel, shared_data,
                                                                                       tmp_path):
    """The default model of ``edgecnn run`` reads a found hand's features: the bundle classifies its smoke images
    the way ``edgecnn run`` does (``--hand auto``), a hand-free picture included, and the device's run agrees."""
    import shutil
    import sys

    import cv2
    import numpy as np

    from edgecnn.devices.smoke import check_bundle
    from edgecnn.runtime.cli import SHIPPED_MODEL

    smoke = tmp_path / "smoke"
    smoke.mkdir()
    for path in sorted((shared_data / "rps-real-pi" / "validation" / "rock").glob("*.jpg"))[:2]:
        shutil.copy(path, smoke / path.name)
    cv2.imwrite(str(smoke / "empty-room.png"), np.full((480, 640, 3), 128, np.uint8))
    bundle = build_bundle(get_profile("laptop_x86_64"), BundleOptions(SHIPPED_MODEL, project_wheel, (smoke,)))
    root = _extract(bundle.data, tmp_path / "unpacked")
    recorded = {Path(e["file"]).name.split("-", 1)[1]: e for e in json.loads((root / "smoke.json").read_text())}
    assert recorded["empty-room.png"]["label"] is None and recorded["empty-room.png"]["probabilities"] == {}
    assert [e["label"] for name, e in recorded.items() if name.endswith(".jpg")] == ["rock", "rock"]
    assert check_bundle(root, Path(sys.executable).with_name("edgecnn")) == 3


def _install(bundle, tmp_path: Path, name: str, prefix: Path) -> subprocess.CompletedProcess:
    """The bundle's own install.sh, as a user runs it: extracted beside the tarball, Debian's python3."""
    tarball = tmp_path / f"{name}.tar.gz"
    tarball.write_bytes(bundle.data)
    subprocess.run(["tar", "-xzf", tarball.name, "bundle/install.sh"], cwd=tmp_path, check=True)
    return subprocess.run(["sh", "bundle/install.sh", tarball.name, str(prefix), "/usr/bin/python3"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)


def test_install_sh_installs_a_pi_bundle_into_a_prefix_here_and_a_csi_only_one_stops_at_the_doctor(
        tiny_artifact, project_wheel, tmp_path):
    """install.sh for real on this machine (Debian 12's python3 as on Pi OS 12; no picamera2, as on Pi OS Lite):
    the rpi5 bundle with its default camera (auto: a USB webcam will do) installs, passes its smoke test and
    switches ``current``; the same bundle made with --source picamera stops at the doctor with the apt fix, and
    ``current`` keeps the first version."""
    prefix = tmp_path / "prefix"
    auto = _bundle(tiny_artifact, project_wheel, profile="rpi5")
    done = _install(auto, tmp_path, "auto", prefix)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert "smoke test passed: 6 images gave the labels recorded at bundle time" in done.stdout
    current = prefix / "current"
    assert Path(current.readlink()) == Path("versions") / auto.version and (current / ".smoke-passed").is_file()
    camera = [f for f in json.loads((current / "doctor.json").read_text())["findings"] if f["check"] == "camera"]
    picamera2 = camera[1]["data"]["picamera2"]
    assert camera[1]["status"] == ("ok" if picamera2 else "warn") and camera[1]["data"]["source"] == "auto"
    run = subprocess.run([str(current / "run.sh"), "--source", str(current / "smoke"), "--headless", "--max-frames",
                          "3"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    recorded = json.loads((current / "smoke.json").read_text())
    assert [json.loads(line)["label"] for line in run.stdout.splitlines()] == [e["label"] for e in recorded[:3]]
    again = _install(auto, tmp_path, "auto", prefix)
    assert again.returncode == 0 and "is already active" in again.stdout
    if picamera2:
        return  # the CSI-only bundle would install here too
    csi = _bundle(tiny_artifact, project_wheel, profile="rpi5", source="picamera")
    stopped = _install(csi, tmp_path, "csi", prefix)
    assert stopped.returncode != 0
    assert '"status": "fail"' in stopped.stdout and "picamera2 does not import here" in stopped.stdout
    assert "sudo apt install python3-picamera2" in stopped.stdout and "== smoke" not in stopped.stdout
    assert Path(current.readlink()) == Path("versions") / auto.version
    assert not (prefix / "versions" / csi.version / ".smoke-passed").exists()
