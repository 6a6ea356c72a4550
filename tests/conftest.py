"""Shared fixtures: where the real data is, and running the real ``edgecnn`` command."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli_helpers import run_edgecnn

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

# Library code finds the chapter's data sets through $EDGECNN_DATA (see edgecnn.data.datasets.find_roots).
os.environ.setdefault("EDGECNN_DATA", str(SHARED_DATA))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository: the real image sets (never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the tests need the real data sets beside the repository")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    """The real Fashion-MNIST idx files from Debian's dataset-fashion-mnist package."""
    if not (FASHION_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"{FASHION_MNIST} is missing: apt-get install dataset-fashion-mnist (scripts/setup.sh does)")
    return FASHION_MNIST


@pytest.fixture
def edgecnn_cli():
    """``edgecnn_cli("train", ...)`` -> CompletedProcess of the real command line."""
    return run_edgecnn
