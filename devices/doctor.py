"""``edgecnn doctor``: what on this device decides whether the model and its camera will work, one line each.

Runs on the device itself (TensorFlow-free: only the standard library, :mod:`edgecnn.runtime` and the devices stage's
data), and remotely through ``edgecnn deploy`` in the freshly installed venv. Every check reads the real system -
``/dev/video*``, ``/proc/cpuinfo``, ``/sys/class/thermal``, ``vcgencmd`` - or imports in a child process (a numpy
ABI clash can crash an interpreter, and must not crash the doctor). Each :class:`Finding` says what was seen and,
when something is wrong, the fix.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

STATUSES = ("ok", "info", "warn", "fail")
# Interpreter packages the runtime can use: import name -> pip name.
INTERPRETERS = {"ai_edge_litert": "ai-edge-litert", "tflite_runtime": "tflite-runtime", "onnxruntime": "onnxruntime"}
# CPU flags (as /proc/cpuinfo spells them) that give int8 convolutions a dot-product instruction.
INT8_DOT_FLAGS = {"aarch64": ("asimddp",), "armv7l": ("asimddp",), "x86_64": ("avx512_vnni", "avx_vnni")}
# vcgencmd get_throttled bits (Raspberry Pi firmware documentation).
THROTTLE_BITS = {0: "under-voltage now", 1: "ARM frequency capped now", 2: "throttled now",
                 3: "soft temperature limit now", 16: "under-voltage since boot", 17: "frequency capped since boot",
                 18: "throttled since boot", 19: "soft temperature limit since boot"}
HOT_C = 80.0  # the Pi firmware starts throttling at 80-85 degC
CHILD_TIMEOUT = 60


@dataclass(frozen=True)
class Finding:
    """One thing the doctor checked."""

    check: str
    """Short name: ``camera``, ``numpy``, ``interpreter``, ``cpu``, ``threads``, ``power``, ``thermal``."""
    status: str
    """``ok``, ``info`` (nothing to fix), ``warn`` (works, but worse than it could) or ``fail`` (will not work)."""
    message: str
    """What was seen, with the figures."""
    fix: str = ""
    """What to do about it; empty when nothing."""
    data: dict | None = None
    """The raw facts behind the message, for ``--json`` readers."""

    def line(self) -> str:
        fix = f" -> {self.fix}" if self.fix else ""
        return f"[{self.status:4}] {self.check:11} {self.message}{fix}"


def _child(python: str, code: str) -> tuple[int, str]:
    """Runs ``python -c code`` with no site-customised cwd; exit code and stdout+stderr."""
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=CHILD_TIMEOUT, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as err:
        return 1, f"{python}: {err}"
    return done.returncode, (done.stdout + done.stderr).strip()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"


def system_python() -> str | None:
    """The interpreter this venv was made from (its system site holds apt's picamera2, numpy...)."""
    base = Path(getattr(sys, "_base_executable", "") or "")
    if base.is_file() and Path(sys.prefix) != Path(sys.base_prefix):
        return str(base)
    for candidate in ("/usr/bin/python3",):
        if Path(candidate).is_file():
            return candidate
    return None


def venv_has_system_site() -> bool:
    cfg = Path(sys.prefix) / "pyvenv.cfg"
    return cfg.is_file() and "include-system-site-packages = true" in cfg.read_text().lower()


def check_camera(camera: str | None, source: str = "auto") -> list[Finding]:
    """The V4L2 devices and the CSI stack (libcamera, picamera2), judged by what the bundle will use
    (:func:`edgecnn.devices.camera.camera_need`): missing picamera2 is a ``fail`` only for ``--source picamera``;
    on a CSI profile with ``auto`` (a USB webcam works through V4L2) it is a ``warn`` with the fix."""
    from edgecnn.devices.camera import camera_need

    need = camera_need(camera, source)
    devices = sorted(glob.glob("/dev/video*"))
    names = {d: _read(Path("/sys/class/video4linux") / Path(d).name / "name") for d in devices}
    libraries = glob.glob("/usr/lib/*/libcamera.so*") + glob.glob("/usr/lib/libcamera.so*")
    libcamera = sorted({Path(p).name for p in libraries})
    apps = [a for a in ("rpicam-hello", "libcamera-hello") if shutil.which(a)]
    code, out = _child(sys.executable, "import picamera2; print(picamera2.__file__)")
    data = {"v4l2": devices, "v4l2_names": names, "libcamera": libcamera, "libcamera_apps": apps,
            "picamera2": code == 0, "picamera2_error": None if code == 0 else _last_line(out), "source": source,
            "needs": need}
    shown = ", ".join(f"{d} ({n})" if n else d for d, n in names.items()) or "none"
    missing_v4l2 = not devices and (need == "usb" or (need == "any" and code != 0))
    findings = [Finding("camera", "warn" if missing_v4l2 else ("ok" if devices else "info"), f"V4L2 devices: {shown}",
                        "plug in a USB webcam (ls /dev/video* lists it) or add the user to group 'video'"
                        if missing_v4l2 else "", data)]
    lib_text = f"libcamera: {', '.join(libcamera) or 'not installed'}; apps: {', '.join(apps) or 'none'}"
    if code == 0:
        findings.append(Finding("camera", "ok", f"{lib_text}; picamera2 imports in this venv", data=data))
        return findings
    status = {"csi": "fail", "any": "warn"}.get(need or "", "info")
    fix = _picamera2_fix(need) if need in ("csi", "any") or libcamera else ""
    findings.append(Finding("camera", status, f"{lib_text}; picamera2 does not import here: "
                            f"{data['picamera2_error']}", fix, data))
    return findings


def _picamera2_fix(need: str | None) -> str:
    """How to get picamera2 into this venv, and (unless the bundle asked for the CSI camera) that a USB webcam
    needs none of it."""
    venv = ("this venv sees the system's packages, so nothing to reinstall" if venv_has_system_site() else
            "then make the venv with --system-site-packages")
    fix = f"for the CSI Camera Module: sudo apt install python3-picamera2 ({venv})"
    if need == "csi":
        return fix + "; or deploy with --source auto to use a USB webcam"
    return fix + "; a USB webcam works without it (V4L2)"


def _numpy_of(python: str) -> tuple[str | None, str]:
    code, out = _child(python, "import numpy; print(numpy.__version__); print(numpy.__file__)")
    lines = out.splitlines()
    return (lines[0], lines[1]) if code == 0 and len(lines) >= 2 else (None, _last_line(out))


def check_numpy(camera: str | None, source: str = "auto") -> list[Finding]:
    """The venv's numpy against the system's: apt's picamera2/libcamera/simplejpeg are built against the latter."""
    from edgecnn.devices.camera import camera_need

    mine, my_file = _numpy_of(sys.executable)
    system = system_python()
    theirs, their_file = _numpy_of(system) if system else (None, "no system python3")
    data = {"venv": mine, "venv_file": my_file, "system_python": system, "system": theirs, "system_file": their_file,
            "system_site_packages": venv_has_system_site()}
    if mine is None:
        return [Finding("numpy", "fail", f"numpy does not import in this venv: {my_file}",
                        "reinstall the bundle (edgecnn deploy) or pip install numpy in the venv", data)]
    text = f"venv numpy {mine} ({my_file}); system numpy {theirs or 'none'}"
    if theirs is None or mine == theirs:
        return [Finding("numpy", "ok", text, data=data)]
    if mine.split(".")[0] != theirs.split(".")[0]:
        # A C extension built against numpy 1.x (apt's simplejpeg, python3-libcamera's helpers) fails under 2.x.
        status = "fail" if camera_need(camera, source) == "csi" or data["system_site_packages"] else "warn"
        return [Finding("numpy", status, f"{text}: different major versions, so the system's numpy-1 extensions "
                        "(picamera2's simplejpeg, ...) will not import here",
                        f"{sys.executable} -m pip install 'numpy=={theirs}' (edgecnn deploy keeps the system's numpy "
                        "in venvs over the system's site-packages)", data)]
    return [Finding("numpy", "ok", f"{text}: same major version (ABI compatible)", data=data)]


def check_interpreters(profile_name: str | None) -> list[Finding]:
    """Each installed interpreter wheel must import with this Python and this numpy."""
    python = "%d.%d" % sys.version_info[:2]
    findings = []
    for module, package in INTERPRETERS.items():
        code, out = _child(sys.executable, f"import {module} as m; print(getattr(m, '__version__', '?'))")
        if code == 0:
            findings.append(Finding("interpreter", "ok", f"{package} {out.splitlines()[-1]} imports with Python "
                                    f"{python}", data={"package": package, "python": python}))
        elif "No module named" not in out:
            findings.append(Finding("interpreter", "fail", f"{package} is installed but does not import with Python "
                                    f"{python}: {_last_line(out)}",
                                    f"pip install the {package} wheel built for Python {python} (edgecnn devices show "
                                    f"{profile_name or 'PROFILE'} lists them)", {"package": package, "python": python}))
    if not any(f.status == "ok" for f in findings):
        findings.append(Finding("interpreter", "fail", f"no model interpreter imports with Python {python}",
                                "pip install ai-edge-litert (or onnxruntime for .onnx models)"))
    return findings


def cpu_flags(cpuinfo: str) -> set[str]:
    """Every CPU flag named on a ``flags`` (x86) or ``Features`` (Arm) line of ``/proc/cpuinfo``."""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            flags.update(value.split())
    return flags


def check_cpu(arch: str, cpuinfo: str) -> list[Finding]:
    flags = cpu_flags(cpuinfo)
    wanted = INT8_DOT_FLAGS.get(arch, ())
    found = sorted(flags.intersection(wanted))
    data = {"arch": arch, "int8_dot_flags": found, "looked_for": list(wanted)}
    if found:
        return [Finding("cpu", "ok", f"{arch} with {', '.join(found)}: int8 exports get dot-product kernels and are "
                        "usually fastest", data=data)]
    return [Finding("cpu", "info", f"{arch} without {' / '.join(wanted) or 'a known dot-product flag'}: int8 has no "
                    "dot-product kernels here and may be no faster than float32",
                    "let deploy's acceptance bench pick the export (it measures both on this device)", data)]


def check_threads(threads: int | None) -> list[Finding]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    data = {"cpu_count": os.cpu_count(), "usable": usable, "profile_threads": threads}
    if threads is not None and threads > usable:
        return [Finding("threads", "warn", f"the profile runs {threads} interpreter threads but {usable} cores are "
                        "usable here", f"pass --threads {usable} to edgecnn run, or pick a profile for this device",
                        data)]
    return [Finding("threads", "ok", f"{usable} usable cores of {os.cpu_count()}"
                    + (f"; the profile runs {threads} threads" if threads else ""), data=data)]


def throttled_reasons(value: int) -> list[str]:
    return [text for bit, text in THROTTLE_BITS.items() if value & (1 << bit)]


def check_power() -> list[Finding]:
    vcgencmd = shutil.which("vcgencmd")
    if vcgencmd is None:
        return [Finding("power", "info", "vcgencmd not found: under-voltage and throttling flags are not reported "
                        "on this device", data={"vcgencmd": None})]
    try:
        out = subprocess.run([vcgencmd, "get_throttled"], capture_output=True, text=True, timeout=10).stdout
        value = int(out.strip().split("=", 1)[1], 16)
    except (OSError, subprocess.TimeoutExpired, IndexError, ValueError):
        return [Finding("power", "warn", f"vcgencmd get_throttled gave no value ({vcgencmd})",
                        "add the user to group 'video' (vcgencmd needs /dev/vchiq)")]
    reasons = throttled_reasons(value)
    data = {"vcgencmd": vcgencmd, "throttled": hex(value), "reasons": reasons}
    if not reasons:
        return [Finding("power", "ok", "get_throttled=0x0: no under-voltage or throttling since boot", data=data)]
    return [Finding("power", "warn", f"get_throttled={hex(value)}: {', '.join(reasons)}",
                    "use the official 5 V power supply (5 A for a Pi 5) and a heatsink or fan", data)]


def thermal_zones() -> dict[str, float]:
    """Temperature of every ``/sys/class/thermal/thermal_zone*`` in degC, by ``type`` (or zone name)."""
    zones = {}
    for zone in sorted(glob.glob("/sys/class/thermal/thermal_zone*")):
        temp = _read(Path(zone) / "temp")
        if temp and temp.lstrip("-").isdigit():
            zones[_read(Path(zone) / "type") or Path(zone).name] = int(temp) / 1000.0
    return zones


def check_thermal() -> list[Finding]:
    zones = thermal_zones()
    if not zones:
        return [Finding("thermal", "info", "no /sys/class/thermal zones: temperature is not reported here",
                        data={"zones": {}})]
    hottest = max(zones, key=zones.get)
    text = ", ".join(f"{name} {temp:.1f} C" for name, temp in zones.items())
    if zones[hottest] >= HOT_C:
        return [Finding("thermal", "warn", text, "cool the board (heatsink/fan): it throttles from 80-85 C",
                        {"zones": zones})]
    return [Finding("thermal", "ok", text, data={"zones": zones})]


def diagnose(camera: str | None = None, threads: int | None = None, profile_name: str | None = None,
             source: str = "auto") -> list[Finding]:
    """Every check, in the order they are printed; ``camera``/``threads`` come from a profile when one is given,
    ``source`` is the camera the bundle uses (:mod:`edgecnn.devices.camera`)."""
    arch = platform.machine()
    cpuinfo = _read(Path("/proc/cpuinfo")) or ""
    return (check_camera(camera, source) + check_numpy(camera, source) + check_interpreters(profile_name)
            + check_cpu(arch, cpuinfo)
            + check_threads(threads) + check_power() + check_thermal())


def to_json(findings: list[Finding]) -> str:
    return json.dumps({"python": sys.executable, "machine": platform.machine(),
                       "findings": [asdict(f) for f in findings]}, indent=1)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
