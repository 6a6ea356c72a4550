"""Deploy to a real OpenSSH server on 127.0.0.1: venv on the "device", runtime without TensorFlow, smoke test,
no-op re-deploy, failed smoke test keeps the previous version, one-line errors for bad host and wrong profile."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from devices_fixtures import error_lines, run_cli

from edgecnn.devices.bundle import Bundle, _bundle_files, _deterministic_tar_gz, choose_model
from edgecnn.devices.deploy import DeployOptions, deploy
from edgecnn.devices.errors import DeployError
from edgecnn.devices.profiles import get_profile
from edgecnn.devices.smoke import classify_smoke_images, default_smoke_images
from edgecnn.devices.ssh import SshTarget
from edgecnn.runtime.model_file import read_contract

PROFILE = "laptop_x86_64"


def deploy_cli(edgecnn_cli, artifact, wheel, device, profile=PROFILE):
    return edgecnn_cli("deploy", artifact, "--profile", profile, "--host", device.host, "--ssh-config", device.config,
                       "--wheel", wheel, "--prefix", device.home / "edgecnn", "--smoke-per-class", "2", "--json",
                       timeout=900)


@pytest.fixture(scope="module")
def first_deploy(tiny_artifact, project_wheel, device):
    result = deploy_cli(run_cli, tiny_artifact, project_wheel, device)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_deploy_installs_runs_smoke_test_and_switches_current(first_deploy, device):
    prefix = device.home / "edgecnn"
    current = prefix / "current"
    assert first_deploy["changed"] is True
    assert current.is_symlink() and Path(current.readlink()) == Path("versions") / first_deploy["version"]
    assert (current / "venv" / "bin" / "python").exists()
    assert (current / ".smoke-passed").exists()
    print("deploy seconds per step:", first_deploy["seconds"])


def test_device_runtime_runs_the_model_headless_without_tensorflow(first_deploy, device):
    current = device.home / "edgecnn" / "current"
    manifest = json.loads((current / "bundle.json").read_text())
    run = subprocess.run([str(current / "venv" / "bin" / "edgecnn"), "run", "--model", str(current / manifest["model"]),
                          "--source", str(current / "smoke"), "--headless", "--max-frames", "3"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    recorded = json.loads((current / "smoke.json").read_text())
    assert [line["label"] for line in lines] == [entry["label"] for entry in recorded[:3]]
    launcher = subprocess.run([str(current / "run.sh"), "--source", str(current / "smoke"), "--headless",
                               "--max-frames", "2"], capture_output=True, text=True, timeout=120)
    assert launcher.returncode == 0, launcher.stderr
    assert [json.loads(line)["label"] for line in launcher.stdout.splitlines()] == [e["label"] for e in recorded[:2]]
    no_tf = subprocess.run([str(current / "venv" / "bin" / "python"), "-c",
                            "import importlib.util, sys; import edgecnn.runtime.classifier; "
                            "print(importlib.util.find_spec('tensorflow') is None, 'tensorflow' in sys.modules)"],
                           capture_output=True, text=True, cwd=current)
    assert no_tf.stdout.split() == ["True", "False"], no_tf.stderr


def test_second_deploy_of_the_same_bundle_changes_nothing(first_deploy, edgecnn_cli, tiny_artifact, project_wheel,
                                                          device):
    prefix = device.home / "edgecnn"
    before = {p: p.stat().st_mtime_ns for p in (prefix / "current", prefix / "versions", prefix / "incoming")}
    again = deploy_cli(edgecnn_cli, tiny_artifact, project_wheel, device)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout.strip().splitlines()[-1])
    assert result["version"] == first_deploy["version"] and result["changed"] is False
    assert set(result["seconds"]) == {"probe"}
    assert "nothing to do" in again.stderr
    assert before == {p: p.stat().st_mtime_ns for p in before}


def test_failing_smoke_test_keeps_the_previous_version(first_deploy, tiny_artifact, project_wheel, device):
    profile = get_profile(PROFILE)
    model = choose_model(tiny_artifact, profile)
    images = default_smoke_images(read_contract(model).extra, per_class=1)
    smoke = classify_smoke_images(model, images)
    files = _bundle_files(profile, model, read_contract(model), project_wheel, smoke)
    records = json.loads(files["smoke.json"])
    labels = read_contract(model).labels
    for record in records:  # labels the model does not give: what a mixed-up label order looks like on the device
        wrong = next(label for label in labels if label != record["label"])
        record["label"], record["probabilities"] = wrong, {label: float(label == wrong) for label in labels}
    files["smoke.json"] = json.dumps(records).encode()
    bad = Bundle(_deterministic_tar_gz(files), json.loads(files["bundle.json"]))
    target = SshTarget(device.host, config=device.config)
    prefix = device.home / "edgecnn"
    with pytest.raises(DeployError, match="step 'smoke' failed .*smoke test failed on 3 of 3 images"):
        deploy(bad, profile, target, DeployOptions(prefix=str(prefix)), say=lambda _: None)
    assert Path((prefix / "current").readlink()) == Path("versions") / first_deploy["version"]
    assert not (prefix / "versions" / bad.version / ".smoke-passed").exists()


def test_wrong_profile_is_one_line(edgecnn_cli, tiny_artifact, project_wheel, device, first_deploy):
    result = deploy_cli(edgecnn_cli, tiny_artifact, project_wheel, device, "rpi5")
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        "edgecnn deploy: error: device is x86_64 but profile 'rpi5' is for aarch64; profiles for x86_64: "
        "laptop_x86_64"]


def test_unreachable_host_is_one_line(edgecnn_cli, tiny_artifact, project_wheel, tmp_path, device):
    closed_port = device.port + 1 if device.port < 65535 else device.port - 1
    result = edgecnn_cli("deploy", tiny_artifact, "--profile", PROFILE, "--host", "root@127.0.0.1", "--ssh-option",
                         f"Port={closed_port}", "--wheel", project_wheel, "--prefix", tmp_path / "never")
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("edgecnn deploy: error: root@127.0.0.1: cannot reach the device "
                                                   "over SSH"), result.stderr
    assert not (tmp_path / "never").exists()


def test_unknown_host_key_is_refused(edgecnn_cli, tiny_artifact, project_wheel, tmp_path, device):
    """Host-key checking stays on: an empty known_hosts refuses the same server."""
    config = tmp_path / "ssh_config"
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config.write_text(device.config.read_text().replace(str(device.config.with_name("known_hosts")), str(empty)))
    result = edgecnn_cli("deploy", tiny_artifact, "--profile", PROFILE, "--host", "device", "--ssh-config", config,
                         "--wheel", project_wheel, "--prefix", tmp_path / "never")
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "host key is unknown or changed" in lines[0], result.stderr


def test_dry_run_prints_every_step_and_connects_to_nothing(edgecnn_cli, tiny_artifact, project_wheel, tmp_path):
    result = edgecnn_cli("deploy", tiny_artifact, "--profile", "rpi5", "--host", "pi@192.0.2.1", "--wheel",
                         project_wheel, "--dry-run")
    assert result.returncode == 0, result.stderr
    for name in ("probe", "upload", "unpack", "venv", "pip", "smoke", "switch"):
        assert f" {name}: " in result.stdout
    assert "no sudo" in result.stdout and "sudo " not in result.stdout.replace("no sudo", "")
    service = edgecnn_cli("deploy", tiny_artifact, "--profile", "rpi5", "--host", "pi@192.0.2.1", "--wheel",
                          project_wheel, "--dry-run", "--service")
    assert "[runs sudo: asked for with --service]" in service.stdout and "sudo systemctl" in service.stdout


def test_acceptance_selected_the_fastest_passing_export_on_the_device(first_deploy, tiny_artifact, device):
    current = device.home / "edgecnn" / "current"
    report = json.loads((current / "accept-report.json").read_text())
    formats = [row["format"] for row in report["candidates"]]
    assert formats == ["tflite_float32", "tflite_dynamic"]  # every export of the laptop profile in the artifact
    assert report["images"] == sum(report["per_class"]) and min(report["per_class"]) >= 1
    for row in report["candidates"]:
        assert row["backend"] == "litert" and row["latency_p90_ms"] >= row["latency_p50_ms"] > 0
        assert row["peak_rss_mb"] > 0 and row["passed"] is (not row["reasons"])
    passing = [row for row in report["candidates"] if row["passed"]]
    assert passing and report["selected"] == min(passing, key=lambda r: r["latency_p50_ms"])["model"]
    assert (current / "selected-model").read_text().strip() == report["selected"] == first_deploy["selected"]
    float32 = report["candidates"][0]
    assert float32["tolerance"]["max_abs_diff"] == 1e-5 and float32["max_abs_diff"] <= 1e-5
    written = json.loads((tiny_artifact / "device-report-device.json").read_text())
    assert written["acceptance"] == report and written["passed"] is True
    assert {f["check"] for f in written["doctor"]["findings"]} >= {"camera", "numpy", "cpu", "power", "thermal"}
    launcher = subprocess.run(["sh", "-x", str(current / "run.sh"), "--source", str(current / "smoke"), "--headless",
                               "--max-frames", "1"], capture_output=True, text=True, timeout=120)
    assert launcher.returncode == 0, launcher.stderr
    assert f"--model {current.resolve()}/{report['selected']} " in launcher.stderr  # run.sh runs the selected export


def _previous_version_still_runs(prefix: Path, version: str) -> None:
    """``current`` still points at ``version``, and its run.sh classifies the smoke images as recorded."""
    current = prefix / "current"
    assert Path(current.readlink()) == Path("versions") / version
    run = subprocess.run([str(current / "run.sh"), "--source", str(current / "smoke"), "--headless", "--max-frames",
                          "2"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    recorded = json.loads((current / "smoke.json").read_text())
    assert [json.loads(line)["label"] for line in run.stdout.splitlines()] == [e["label"] for e in recorded[:2]]


def _slipped_artifact(tiny_artifact: Path, into: Path) -> Path:
    """The artifact with its Keras model's output classes rotated (the exports untouched): what a label-order or
    preprocessing slip between the model and its exports looks like to the on-device acceptance."""
    import shutil

    import keras
    import numpy as np

    shutil.copytree(tiny_artifact, into, ignore=shutil.ignore_patterns("device-report-*"))
    model = keras.saving.load_model(into / "model.keras", compile=False)
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([np.roll(kernel, 1, axis=1), np.roll(bias, 1)])
    model.save(into / "model.keras")
    return into


def test_failing_acceptance_gate_keeps_the_previous_version_and_exits_non_zero(first_deploy, tiny_artifact,
                                                                               project_wheel, device, tmp_path):
    """Through 'edgecnn deploy': every export disagrees with the (rotated) Keras model on the device, so no export
    passes; exit 2 with one error line, the device report says why, and the previous version stays active."""
    slipped = _slipped_artifact(tiny_artifact, tmp_path / "slipped")
    result = deploy_cli(run_cli, slipped, project_wheel, device)
    assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-2000:])
    lines = error_lines(result.stderr)
    assert lines[-1].startswith("edgecnn deploy: error: device: step 'accept' failed: edgecnn accept: error: no "
                                "export passed on this device: tflite_float32: "), lines
    assert "tflite_dynamic: " in lines[-1] and "the previous version stays active" in lines[-1]
    report = json.loads((slipped / "device-report-device.json").read_text())
    assert report["passed"] is False and report["acceptance"]["selected"] is None
    _previous_version_still_runs(device.home / "edgecnn", first_deploy["version"])
    # its smoke test passed (the exports are fine on their own); the gate then stopped it before selecting or switching
    others = [p for p in (device.home / "edgecnn" / "versions").iterdir() if p.name != first_deploy["version"]]
    assert any((p / "accept-report.json").is_file() for p in others)
    assert not any((p / "selected-model").exists() for p in others)


def test_a_bundle_for_the_csi_camera_stops_at_the_doctor_where_picamera2_is_missing(first_deploy, tiny_artifact,
                                                                                  project_wheel, device):
    """--source picamera asks for the CSI camera: on a device without picamera2 (this one) the doctor step fails,
    'edgecnn deploy' exits 2 naming picamera2 and the fix, and the previous version stays active and runs."""
    if subprocess.run(["python3", "-c", "import picamera2"], capture_output=True).returncode == 0:
        pytest.skip("picamera2 imports on this machine: the doctor passes the CSI camera here")
    result = run_cli("deploy", tiny_artifact, "--profile", PROFILE, "--host", device.host, "--ssh-config",
                     device.config, "--wheel", project_wheel, "--prefix", device.home / "edgecnn",
                     "--smoke-per-class", "2", "--source", "picamera", "--no-accept", timeout=900)
    assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-2000:])
    lines = error_lines(result.stderr)
    assert lines[-1].startswith("edgecnn deploy: error: device: step 'doctor' found 1 problem(s) that stop the model "
                                "or camera working there: camera: libcamera: "), lines
    assert "picamera2 does not import here" in lines[-1]
    said = result.stdout.splitlines()  # without --json, progress goes to stdout
    assert any(line.startswith("  doctor [fail] camera:") and "sudo apt install python3-picamera2" in line
               for line in said), said
    assert "[smoke]" not in result.stderr + result.stdout  # stopped before the smoke test and the switch
    _previous_version_still_runs(device.home / "edgecnn", first_deploy["version"])
