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


def test_csi_profile_without_picamera2_fails_with_the_apt_fix():
    """On this x86 machine picamera2 is not installed: a CSI profile cannot use its camera, and says how to fix it."""
    code, report = _doctor_json("--profile", "rpi5")
    camera = _by_check(report, "camera")
    if camera[1]["data"]["picamera2"]:
        assert camera[1]["status"] == "ok"
        return
    assert camera[1]["status"] == "fail" and "apt install python3-picamera2" in camera[1]["fix"]
    assert code == 1
    text = run_cli("doctor", "--profile", "rpi5")
    assert text.returncode == 1
    assert any(line.startswith("[fail] camera") and " -> sudo apt install" in line for line in text.stdout.splitlines())


def test_throttle_bits_and_cpu_flags_parse_real_text():
    assert doctor.throttled_reasons(0x50005) == ["under-voltage now", "throttled now", "under-voltage since boot",
                                                 "throttled since boot"]
    assert doctor.throttled_reasons(0) == []
    real = Path("/proc/cpuinfo").read_text()
    assert doctor.cpu_flags(real) and doctor.cpu_flags(real) <= set(real.split())
