"""scripts/setup.sh's install stamps: `make demo` (all) and `make test` (all,dev) install once between them.

The script runs for real in a copy of the repository's set-up files; only the 2 GB pip install is replaced, by a
.venv/bin/python that records its arguments (the stamps logic, not pip, is under test).
"""

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _setup(tmp_path: Path) -> Path:
    for name in ("scripts/setup.sh", "pyproject.toml", ".ci/apt-packages.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/../pip.log"\n')
    python.chmod(0o755)
    return tmp_path


def _installs(root: Path, *extras_runs: str) -> list[str]:
    for extras in extras_runs:
        subprocess.run(["bash", "scripts/setup.sh", extras], cwd=root, check=True, capture_output=True, text=True)
    log = root / ".venv" / "pip.log"
    return [line.split()[-1] for line in log.read_text().splitlines() if " -e " in line] if log.exists() else []


def _make_extras(target: str) -> str:
    """The extras the Makefile's target hands to setup.sh."""
    done = subprocess.run(["make", "-n", "-C", str(REPO), target], check=True, capture_output=True, text=True)
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("scripts/setup.sh")]
    return line.split()[1]


def test_make_demo_then_make_test_installs_once(tmp_path):
    root = _setup(tmp_path)
    runs = [_make_extras("demo"), _make_extras("test"), _make_extras("demo")]
    assert _installs(root, *runs) == [f".[{runs[0]}]"]


def test_a_smaller_set_after_a_larger_one_installs_nothing_and_the_stamps_stay(tmp_path):
    root = _setup(tmp_path)
    assert _installs(root, "all", "all,dev", "all", "all,dev") == [".[all]", ".[all,dev]"]


def test_test_first_covers_demo(tmp_path):
    root = _setup(tmp_path)
    assert _installs(root, "all,dev", "all", "dev") == [".[all,dev]"]


def test_a_changed_pyproject_reinstalls_once(tmp_path):
    root = _setup(tmp_path)
    _installs(root, "all,dev")
    with open(root / "pyproject.toml", "a") as handle:
        handle.write("\n# changed\n")
    assert _installs(root, "all", "all,dev") == [".[all,dev]", ".[all]", ".[all,dev]"]
    assert len(list((root / ".venv").glob(".edgecnn-installed-*"))) == 2  # the stale stamp is gone
