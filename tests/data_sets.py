"""Where the tests find the real image sets, and the one skip a missing set gives.

A set (``rps-real-pi``, ``horses-or-humans``...) is looked for in ``$EDGECNN_DATA``, then ``../shared/data`` beside
the repository (``$EDGECNN_SHARED_DATA`` overrides that path, e.g. to check the skips with the data hidden), then the
folder ``edgecnn data download NAME`` fills. A test that needs a set found in none of them is skipped with one
reason per set, raised from one place, so pytest's ``-ra`` summary folds every such skip into one line per set that
names the command fetching it.

``EDGECNN_REQUIRE_DATA=1`` (what ``.ci/run`` sets where ``../shared/data`` is) makes every such skip a failure with the
same words, and every other skip but an ``EDGECNN_SLOW`` one too (tests/conftest.py): on CI a missing or moved set, or
a tool CI installs, must fail the run, not thin it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgecnn.data.public_sets import PUBLIC_SETS
from edgecnn.data.set_download import default_root

REPO = Path(__file__).resolve().parents[1]
# Absolute: every test runs in a working directory of its own (tests/conftest.py).
SHARED_DATA = Path(os.environ.get("EDGECNN_SHARED_DATA", REPO.parent / "shared" / "data")).absolute()
USER_DATA = os.environ.get("EDGECNN_DATA") and str(Path(os.environ["EDGECNN_DATA"]).absolute())
REQUIRE_DATA = os.environ.get("EDGECNN_REQUIRE_DATA") == "1"
"""A run where every data set must be found and only ``EDGECNN_SLOW`` tests may skip (CI with ../shared/data)."""
SLOW_MARK = "EDGECNN_SLOW"
"""What the reason of every skip a required run allows names (the tests left to ``EDGECNN_SLOW=1``)."""


def data_folders() -> list[Path]:
    """The folders of sets, in search order."""
    return ([Path(USER_DATA)] if USER_DATA else []) + [SHARED_DATA]


def find_set(name: str) -> Path | None:
    """The folder holding set ``name``, or None."""
    candidates = [folder / name for folder in data_folders()]
    if name in PUBLIC_SETS:
        candidates.append(default_root(PUBLIC_SETS[name]))
    return next((path for path in candidates if path.is_dir()), None)


MISSING = "data set {name} not found in $EDGECNN_DATA, {shared} or the download cache: fetch it with " \
          "'edgecnn data download {name}'"


def missing_reason(name: str) -> str:
    """The one skip reason of set ``name`` (conftest's report hook folds all skips with it into one line)."""
    return MISSING.format(name=name, shared=SHARED_DATA)


def is_missing_data(reason: str) -> bool:
    return "data set " in reason and "'edgecnn data download " in reason


def allowed_skip(reason: str) -> bool:
    """Whether a skip with ``reason`` stays a skip: always, but under ``EDGECNN_REQUIRE_DATA=1`` only a slow test's."""
    return not REQUIRE_DATA or SLOW_MARK in reason


def required_failure(reason: str) -> str:
    """What a skip that ``EDGECNN_REQUIRE_DATA=1`` does not allow fails with (the set and how to get it, for a set)."""
    reason = reason.removeprefix("Skipped: ")
    why = "a missing data set fails the run" if is_missing_data(reason) else f"only {SLOW_MARK} tests may skip"
    return f"EDGECNN_REQUIRE_DATA=1 ({why}): {reason}"


def need_set(name: str) -> Path:
    """The folder of set ``name``; skips the calling test (same reason for every test) when it is nowhere."""
    found = find_set(name)
    if found is None:
        pytest.skip(missing_reason(name))
    return found


# Where conftest reports every missing-set skip (the function that raises most of them).
SKIP_LOCATION = (Path(__file__).relative_to(REPO).as_posix(), need_set.__code__.co_firstlineno)


def requires_set(name: str):
    """A mark for a test (or one parameter) that reaches set ``name`` through the library, not ``need_set``."""
    return pytest.mark.skipif(find_set(name) is None, reason=missing_reason(name))


class DataSets:
    """``shared_data / "rps-real-pi"`` -> that set's folder wherever it is (or the test is skipped)."""

    def __truediv__(self, name: str) -> Path:
        return need_set(name)

    def __repr__(self) -> str:
        return f"DataSets({', '.join(map(str, data_folders()))} + download cache)"
