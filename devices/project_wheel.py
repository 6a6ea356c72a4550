"""This project as a wheel, for the device: ``pip wheel --no-deps`` of a clean copy of the source tree.

The wheel's own dependencies are the runtime core (numpy, opencv-python-headless); the interpreter comes from the
bundle's requirements.txt and TensorFlow never reaches the device. The copy leaves out build leftovers (``build/``
keeps deleted files), virtual environments, tests and caches, and ``SOURCE_DATE_EPOCH`` fixes the zip time stamps,
so the same source gives the same wheel bytes and the same bundle hash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from edgecnn.devices.errors import BundleError

# Never part of the wheel's input: environments, build output, caches, tests, data the user made.
_IGNORE = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
                                 ".pytest_cache", ".ruff_cache", "tests", "artifacts", "runs", "docs", "benchmarks")
FIXED_EPOCH = "315532800"


def source_tree() -> Path:
    """The source tree edgecnn runs from (it has pyproject.toml); :class:`BundleError` for an installed copy."""
    import edgecnn

    root = Path(edgecnn.__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise BundleError(f"edgecnn runs from {root}, not from a source tree with pyproject.toml, so it cannot "
                          "build its own wheel; pass --wheel FILE (e.g. from 'pip wheel --no-deps .' in a checkout)")
    return root


def build_wheel(out_dir: Path, source: Path | None = None) -> Path:
    """Builds the wheel into ``out_dir`` and returns its path."""
    source = source or source_tree()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="edgecnn-wheel-") as tmp:
        copy = Path(tmp) / "src"
        shutil.copytree(source, copy, ignore=_IGNORE, symlinks=False)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(Path(tmp) / "out")]
        if _has_build_backend():  # then no isolated build environment to download and set up: seconds faster
            command.append("--no-build-isolation")
        command.append(str(copy))
        env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PIP_NO_INPUT": "1"}
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise BundleError(f"pip wheel of {source} failed: {last}")
        (built,) = (Path(tmp) / "out").glob("edgecnn-*.whl")
        target = out_dir / built.name
        shutil.copyfile(built, target)
    return target


def _has_build_backend() -> bool:
    """setuptools >= 77 (pyproject.toml's build requirement: the SPDX `license`) and wheel, already installed."""
    import importlib.metadata

    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
        importlib.metadata.version("wheel")
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 77
