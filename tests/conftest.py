"""Shared fixtures: where the real data is, running the real ``edgecnn`` command in a working directory of its own,
and what a skip means (one line per missing data set; a failure under ``EDGECNN_REQUIRE_DATA=1``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli_helpers import run_edgecnn
from data_sets import (
    REQUIRE_DATA,
    SHARED_DATA,
    SKIP_LOCATION,
    SLOW_MARK,
    USER_DATA,
    DataSets,
    allowed_skip,
    is_missing_data,
    required_failure,
)

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

# Library code finds the chapter's data sets through $EDGECNN_DATA, then the download cache (see
# edgecnn.data.datasets.find_roots); without ../shared/data it finds what 'edgecnn data download' fetched.
if USER_DATA:
    os.environ["EDGECNN_DATA"] = USER_DATA  # made absolute: each test runs in a working directory of its own
elif SHARED_DATA.is_dir():
    os.environ["EDGECNN_DATA"] = str(SHARED_DATA)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def _own_working_directory(tmp_path_factory, monkeypatch):
    """Every test runs in an empty working directory of its own (not its ``tmp_path``, which stays the test's), so
    the ``edgecnn`` commands it runs (tests/cli_helpers.py inherits it) never see what the checkout holds, e.g. the
    ``artifacts/fashion_cnn`` that README's ``edgecnn pipeline fashion_cnn`` leaves, which ``edgecnn train``'s
    default ``--out`` would otherwise refuse to replace before the error a test expects."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


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
    """A skip for a missing data set: reported at one location, so ``-ra`` prints one line per missing set.
    Under ``EDGECNN_REQUIRE_DATA=1``: a failure naming the set and how to get it, as is any other skip but an
    ``EDGECNN_SLOW`` one.

    (pytest reports a skip raised in a fixture or a skipif mark at each test's own line, which would list the
    same missing set once per test module and line.)
    """
    report = yield
    if not (report.skipped and isinstance(report.longrepr, tuple)) or hasattr(report, "wasxfail"):
        return report
    reason = report.longrepr[2]
    if not allowed_skip(reason):
        report.outcome = "failed"
        report.longrepr = required_failure(reason)
    elif is_missing_data(reason):
        report.longrepr = (*SKIP_LOCATION, reason)
    return report


def pytest_terminal_summary(terminalreporter):
    """Under ``EDGECNN_REQUIRE_DATA=1``, above pytest's own closing line: the skips counted, each an ``EDGECNN_SLOW``
    test (any other failed above, counted too)."""
    if REQUIRE_DATA:
        skipped = len(terminalreporter.stats.get("skipped", []))
        refused = sum(isinstance(report.longrepr, str) and report.longrepr.startswith("EDGECNN_REQUIRE_DATA=1")
                      for key in ("failed", "error") for report in terminalreporter.stats.get(key, []))
        terminalreporter.write_line(f"EDGECNN_REQUIRE_DATA=1: {skipped} skipped, each an {SLOW_MARK} test; "
                                    f"{refused} failed for a missing data set or another skip")
