"""``edgecnn doctor`` on this real machine: no mocks; the test reads /proc, /dev and /sys itself and checks that the
doctor's findings say the same."""

from __future__ import annotations

import glob
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from devices_fixtures import run_cli

from edgecnn.devices import doctor


def _doctor_json(*args) -> tuple[int, dict]:
    result = run_cli("doctor", "--json", *args, timeout=300)
    return result.returncode, json.loads(result.stdout)


def _by_check(report: dict, check: str) -> list[dict]:
    return [f for f in report["findings"] if f["check"] == check]


def test_doctor_json_is_one_finding_per_line_and_agrees_with_the_system():
    code, report = _doctor_json()
    assert report["machine"] == platform.machine()
    findings = report["findings"]
    assert {f["check"] for f in findings} == {"camera", "numpy", "interpreter", "cpu", "threads", "power", "thermal"}
    for finding in findings:
        assert finding["status"] in doctor.STATUSES and "\n" not in finding["message"] + finding["fix"]
        if finding["status"] in ("warn", "fail"):
            assert finding["fix"], finding
    assert code == (1 if any(f["status"] == "fail" for f in findings) else 0)
    camera = _by_check(report, "camera")[0]["data"]
    assert camera["v4l2"] == sorted(glob.glob("/dev/video*"))
    picamera2 = subprocess.run([sys.executable, "-c", "import picamera2"], capture_output=True).returncode == 0
    assert camera["picamera2"] is picamera2
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.split(":")[0].strip() in ("flags", "Features"):
            flags |= set(line.split(":", 1)[1].split())
    cpu = _by_check(report, "cpu")[0]
    has_dot = bool(flags & {"asimddp", "avx512_vnni", "avx_vnni"})
    assert (cpu["status"] == "ok") is has_dot and set(cpu["data"]["int8_dot_flags"]) <= flags
    threads = _by_check(report, "threads")[0]["data"]
    assert threads["usable"] == len(os.sched_getaffinity(0)) and threads["cpu_count"] == os.cpu_count()
    zones = glob.glob("/sys/class/thermal/thermal_zone*/temp")
    assert len(_by_check(report, "thermal")[0]["data"]["zones"]) == len(zones)
    import numpy

    assert _by_check(report, "numpy")[0]["data"]["venv"] == numpy.__version__
    installed = {name for name in doctor.INTERPRETERS if __import__("importlib").util.find_spec(name)}
    ok = {f["data"]["package"] for f in _by_check(report, "interpreter") if f["status"] == "ok"}
    assert ok == {doctor.INTERPRETERS[name] for name in installed}


def test_profile_with_more_threads_than_cores_is_a_warning_with_its_fix():
    usable = len(os.sched_getaffinity(0))
    findings = doctor.check_threads(usable + 2)
    assert findings[0].status == "warn" and f"--threads {usable}" in findings[0].fix
    assert doctor.check_threads(usable)[0].status == "ok"


def _picamera2_here() -> bool:
    return subprocess.run([sys.executable, "-c", "import picamera2"], capture_output=True).returncode == 0


def test_csi_profile_without_picamera2_warns_when_a_usb_webcam_may_be_used():
    """rpi5 with the bundle's default camera (auto): a USB webcam works through V4L2, so missing picamera2 (this x86
    machine, a fresh Raspberry Pi OS Lite) is a warning with the apt fix, and stops nothing."""
    code, report = _doctor_json("--profile", "rpi5")
    camera = _by_check(report, "camera")
    assert camera[0]["data"]["source"] == "auto" and camera[0]["data"]["needs"] == "any"
    if _picamera2_here():
        assert camera[1]["status"] == "ok"
        return
    assert camera[1]["status"] == "warn", camera[1]
    fix = camera[1]["fix"]
    assert "sudo apt install python3-picamera2" in fix and "USB webcam works without it" in fix
    # no webcam either: the V4L2 line says to plug one in (warn); with one, it is ok
    webcams = sorted(glob.glob("/dev/video*"))
    assert camera[0]["status"] == ("ok" if webcams else "warn")
    assert not [f for f in report["findings"] if f["check"] == "camera" and f["status"] == "fail"]
    assert code == (1 if any(f["status"] == "fail" for f in report["findings"]) else 0)


def test_csi_camera_asked_for_without_picamera2_fails_with_the_apt_fix():
    """--source picamera (a bundle made for the Camera Module): without picamera2 it cannot work, exit 1."""
    code, report = _doctor_json("--profile", "rpi5", "--source", "picamera")
    camera = _by_check(report, "camera")
    if camera[1]["data"]["picamera2"]:
        assert camera[1]["status"] == "ok"
        return
    assert camera[1]["status"] == "fail" and "sudo apt install python3-picamera2" in camera[1]["fix"]
    assert "--source auto" in camera[1]["fix"]
    assert code == 1
    text = run_cli("doctor", "--profile", "rpi5", "--source", "picamera")
    assert text.returncode == 1
    assert any(line.startswith("[fail] camera") and " -> for the CSI Camera Module: sudo apt install" in line
               for line in text.stdout.splitlines())


def test_usb_profile_and_a_v4l2_source_never_fail_on_picamera2():
    for args in (("--profile", "laptop_x86_64"), ("--profile", "rpi4", "--source", "/dev/video0")):
        _, report = _doctor_json(*args)
        camera = _by_check(report, "camera")
        assert camera[0]["data"]["needs"] == "usb"
        assert camera[1]["status"] in ("ok", "info"), (args, camera[1])


def test_a_bad_source_is_a_one_line_usage_error():
    result = run_cli("doctor", "--source", "webcam")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "edgecnn doctor: error: argument --source: a bundle's camera is one of auto, picamera, a V4L2 index (0) or "
        "/dev/videoN")


def test_auto_source_picks_what_this_machine_has():
    """What run.sh's 'auto' resolves to, against this machine's own /sys/class/video4linux: the first webcam's
    capture node (index 0, not a Pi media node), else OpenCV's default camera 0; picamera only when picamera2 sees
    a camera."""
    from edgecnn.devices import camera

    nodes = sorted(glob.glob("/sys/class/video4linux/video*"), key=lambda p: int(p.rsplit("video", 1)[1]))
    expected = [f"/dev/{Path(n).name}" for n in nodes
                if (Path(n) / "index").read_text().strip() == "0"
                and not (Path(n) / "name").read_text().startswith(camera.PI_MEDIA_NODES)]
    assert camera.v4l2_cameras() == expected
    resolved = subprocess.run([sys.executable, "-m", "edgecnn.devices.camera", "auto"], capture_output=True,
                              text=True, check=True).stdout.strip()
    assert resolved == ("picamera" if camera.picamera_sees_a_camera() else (expected[0] if expected else "0"))
    assert camera.resolve_source("/dev/video3") == "/dev/video3" and camera.resolve_source("picamera") == "picamera"
    assert camera.camera_need("csi", "auto") == "any" and camera.camera_need("usb", "picamera") == "csi"


def test_throttle_bits_and_cpu_flags_parse_real_text():
    assert doctor.throttled_reasons(0x50005) == ["under-voltage now", "throttled now", "under-voltage since boot",
                                                 "throttled since boot"]
    assert doctor.throttled_reasons(0) == []
    real = Path("/proc/cpuinfo").read_text()
    assert doctor.cpu_flags(real) and doctor.cpu_flags(real) <= set(real.split())
