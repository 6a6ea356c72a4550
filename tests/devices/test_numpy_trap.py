"""The numpy trap of CSI-camera profiles, on x86 with the Pi OS 12 versions: Debian bookworm's python3 with apt's
numpy 1.24.2 and python3-pywt, a Cython extension compiled against it, as apt's simplejpeg (picamera2's JPEG
encoder) is on Raspberry Pi OS.

- Reproduction: a venv made with --system-site-packages (as CSI bundles are, so picamera2 imports) plus a plain pip
  install of the edgecnn wheel pulls numpy 2 in (opencv-python-headless 4.12+ needs it), and the system's extension
  fails to import: "numpy.dtype size changed, may indicate binary incompatibility"; ``edgecnn doctor`` says so.
- Fix: the bundle's pip step keeps the system's numpy (constraint numpy==<system version>) and the same extension
  imports from the bundle's venv, next to the runtime, which passes its smoke test on numpy 1.24.

Only partly the Pi: same Debian numpy and the same failure mode, but the extension is pywt, not simplejpeg/libcamera
(Raspberry Pi's apt repository is not reachable here), and the CPU is x86.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from edgecnn.devices import steps
from edgecnn.devices.bundle import _bundle_files, _deterministic_tar_gz, choose_model
from edgecnn.devices.profiles import get_profile
from edgecnn.devices.smoke import classify_smoke_images, default_smoke_images
from edgecnn.runtime.model_file import read_contract

SYSTEM_PYTHON = "/usr/bin/python3"
EXTENSION = "pywt"  # Debian's python3-pywt: Cython, compiled against Debian's numpy


def _system_numpy() -> str:
    done = subprocess.run([SYSTEM_PYTHON, "-c", f"import numpy, {EXTENSION}; print(numpy.__version__)"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        why = (f"needs Debian's python3-numpy and python3-pywt ({SYSTEM_PYTHON}: {done.stderr.strip()[-200:]}); "
               "apt-get install python3-numpy python3-pywt (.ci/apt-packages.txt)")
        if os.environ.get("CI") == "true" or os.environ.get("EDGECNN_REQUIRE_DATA") == "1":
            pytest.fail(f"CI installs both (.ci/apt-packages.txt, scripts/setup.sh): {why}")
        pytest.skip(why)  # a newcomer's machine that has not run scripts/setup.sh
    return done.stdout.strip()


def _venv_python(venv: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd="/")


def test_plain_install_in_a_system_site_venv_breaks_the_systems_numpy_extension(project_wheel, tmp_path):
    system = _system_numpy()
    assert system.startswith("1."), f"expected bookworm's numpy 1.x, got {system}"
    venv = tmp_path / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(project_wheel)], check=True, capture_output=True)
    numpy = _venv_python(venv, "import numpy; print(numpy.__version__)").stdout.strip()
    assert numpy.startswith("2."), numpy
    broken = _venv_python(venv, f"import {EXTENSION}")
    assert broken.returncode != 0 and "numpy.dtype size changed" in broken.stderr, broken.stderr
    doctor = subprocess.run([str(venv / "bin" / "edgecnn"), "doctor", "--json"], capture_output=True, text=True)
    finding = next(f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "numpy")
    assert finding["status"] == "fail" and finding["data"]["system"] == system and f"numpy=={system}" in finding["fix"]


def test_csi_bundle_venv_keeps_the_system_numpy_and_imports_its_extension(tiny_artifact, project_wheel, tmp_path):
    system = _system_numpy()
    profile = get_profile("rpi5")
    assert profile.camera == "csi"
    model = choose_model(tiny_artifact, profile)
    smoke = classify_smoke_images(model, default_smoke_images(read_contract(model).extra, per_class=1))
    files = _bundle_files(profile, model, read_contract(model), project_wheel, smoke)
    data = _deterministic_tar_gz(files)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    prefix = tmp_path / "edgecnn"
    (prefix / "incoming").mkdir(parents=True)
    (prefix / "incoming" / f"{sha[:16]}.tar.gz").write_bytes(data)
    head = steps.header(str(prefix), sha[:16], SYSTEM_PYTHON, sha, system_site=True, profile=profile.name)
    for step in (steps.UNPACK, steps.VENV, steps.PIP, steps.SMOKE):  # the deploy's own step scripts, run here
        done = subprocess.run(["sh", "-s"], input=head + step.script, capture_output=True, text=True)
        assert done.returncode == 0, f"{step.name}: {done.stderr[-2000:]}"
    venv = prefix / "versions" / sha[:16] / "venv"
    assert (venv.parent / "constraints.txt").read_text().strip() == f"numpy=={system}"
    both = _venv_python(venv, f"import numpy, {EXTENSION}, cv2, ai_edge_litert; print(numpy.__version__, "
                              f"numpy.__file__)")
    assert both.returncode == 0, both.stderr
    version, where = both.stdout.split()
    assert version == system and where.startswith("/usr/lib/python3/dist-packages/")
