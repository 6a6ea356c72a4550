"""Shared fixtures: where the real data is, and running the real ``edgecnn`` command."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli_helpers import run_edgecnn
from data_sets import SHARED_DATA, SKIP_LOCATION, DataSets, is_missing_data

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

# Library code finds the chapter's data sets through $EDGECNN_DATA, then the download cache (see
# edgecnn.data.datasets.find_roots); without ../shared/data it finds what 'edgecnn data download' fetched.
if SHARED_DATA.is_dir():
    os.environ.setdefault("EDGECNN_DATA", str(SHARED_DATA))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def shared_data() -> DataSets:
    """``shared_data / "rps-real-pi"``: a real image set from ../shared/data, $EDGECNN_DATA or the download cache
    (never copied into the repo); a test whose set is in none of them is skipped, naming the command that fetches it."""
    return DataSets()


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Reports every skip for a missing data set at one location, so ``-ra`` prints one line per missing set.

    (pytest reports a skip raised in a fixture or a skipif mark at each test's own line, which would list the
    same missing set once per test module and line.)
    """
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and is_missing_data(report.longrepr[2]):
        report.longrepr = (*SKIP_LOCATION, report.longrepr[2])
    return report
