"""The bundle on the Pi's own CPU: an arm64 Debian root under qemu-user installs it and passes its smoke test.

Slow (the root takes ~20 minutes to make the first time, the install under emulation several more), so it runs only
with EDGECNN_SLOW=1:  EDGECNN_SLOW=1 .venv/bin/python -m pytest tests/devices/test_qemu_arm64.py -s
It needs root and Debian's debootstrap, qemu-user-static and binfmt-support (not in .ci/apt-packages.txt on purpose:
the default CI run does not use them).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from devices_fixtures import run_cli

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.environ.get("EDGECNN_SLOW") != "1",
                                reason="arm64 under qemu takes 10-30 minutes: run with EDGECNN_SLOW=1")


def test_rpi5_bundle_installs_and_passes_its_smoke_test_on_arm64(tiny_artifact, project_wheel, tmp_path):
    bundle = tmp_path / "rpi5.tar.gz"
    made = run_cli("bundle", tiny_artifact, "--profile", "rpi5", "--wheel", project_wheel, "--out", bundle)
    assert made.returncode == 0, made.stderr
    result = subprocess.run([str(REPO / "scripts" / "qemu-arm64-test.sh"), str(bundle)], capture_output=True,
                            text=True, timeout=3600)
    print(result.stdout[-4000:], result.stderr[-2000:])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "== inside the root: aarch64" in result.stdout
    assert "smoke test passed" in result.stdout
    # the run's JSON lines (install.sh also prints the doctor's and the acceptance gate's reports, some over several
    # lines, now that it gets past the doctor)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"timestamp"')]
    assert len(lines) == 6 and all(line["label"] in ("paper", "rock", "scissors") for line in lines)
