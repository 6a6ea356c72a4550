"""What a missing data set does to a run: one skip line per set on a newcomer's clone, a failure that names the set
and its download command under ``EDGECNN_REQUIRE_DATA=1`` (CI with ../shared/data), where only ``EDGECNN_SLOW``
tests may still skip; and ``.ci/run`` refusing a CI machine without the data.

Each case runs pytest itself on a few real test files with every data folder hidden (an empty $EDGECNN_SHARED_DATA,
no $EDGECNN_DATA, $HOME and $EDGECNN_CACHE in a temporary folder: no download cache). Nothing in them runs: the
data-set tests stop at their missing set, the slow one at its EDGECNN_SLOW mark.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cli_helpers import REPO

# A set reached through the shared_data fixture (test_run_signals' clip: 4 tests, skipped in setup), through a skipif
# mark at collection (test_corpus without seed photos: one case) and a fixture (its corpus size), and an EDGECNN_SLOW
# test (test_resume's kill test).
SELECTED = ["tests/robustness/test_run_signals.py", "tests/robustness/test_corpus.py",
            "tests/train/test_resume.py::test_a_killed_run_continues_from_its_last_epoch"]
MISSING_SET = ("data set rps-real-pi not found in $EDGECNN_DATA, {shared} or the download cache: fetch it with "
               "'edgecnn data download rps-real-pi'")


def _pytest_without_data(tmp_path, **env) -> tuple[subprocess.CompletedProcess, str]:
    shared = tmp_path / "no-shared-data"
    shared.mkdir()
    clean = {key: value for key, value in os.environ.items()
             if key not in ("EDGECNN_DATA", "EDGECNN_REQUIRE_DATA", "EDGECNN_SLOW", "CI", "PYTEST_ADDOPTS")}
    clean.update(EDGECNN_SHARED_DATA=str(shared), HOME=str(tmp_path), EDGECNN_CACHE=str(tmp_path / "cache"), **env)
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *SELECTED], cwd=REPO, env=clean,
                          capture_output=True, text=True, timeout=300, check=False)
    return done, MISSING_SET.format(shared=shared)


def test_a_missing_set_skips_with_one_line_naming_its_download(tmp_path):
    done, missing = _pytest_without_data(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    skip_lines = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skip_lines) == 2, done.stdout[-3000:]  # one for the set (6 tests), one for the slow test
    assert skip_lines[0].startswith("SKIPPED [6] tests/data_sets.py:") and skip_lines[0].endswith(missing)
    assert "EDGECNN_SLOW=1" in skip_lines[1]
    assert done.stdout.splitlines()[-1].startswith("=") and "7 skipped" in done.stdout.splitlines()[-1]


def test_require_data_fails_each_test_of_a_missing_set_and_still_skips_the_slow_one(tmp_path):
    done, missing = _pytest_without_data(tmp_path, EDGECNN_REQUIRE_DATA="1")
    assert done.returncode == 1, done.stdout[-3000:]
    lines = done.stdout.splitlines()
    assert len([line for line in lines if line.startswith(("FAILED", "ERROR"))]) == 6, done.stdout[-3000:]
    # each one's report: the set, where it was looked for, and the command that fetches it
    assert lines.count(f"EDGECNN_REQUIRE_DATA=1 (a missing data set fails the run): {missing}") == 6, done.stdout
    (skipped,) = [line for line in lines if line.startswith("SKIPPED")]
    assert "EDGECNN_SLOW=1" in skipped
    assert ("EDGECNN_REQUIRE_DATA=1: 1 skipped, each an EDGECNN_SLOW test; 6 failed for a missing data set"
            in done.stdout)
    closing = lines[-1]  # still pytest's own line
    assert closing.startswith("=") and "1 skipped" in closing and ("failed" in closing or "error" in closing)


@pytest.mark.parametrize("ci, data, expected", [
    ("true", True, "make test EDGECNN_REQUIRE_DATA=1\n"),
    (None, True, "make test EDGECNN_REQUIRE_DATA=1\n"),
    (None, False, "make test EDGECNN_REQUIRE_DATA=unset\n"),  # a newcomer's clone: skips, one line per set
    ("true", False, None),
], ids=["ci-with-data", "with-data", "newcomer", "ci-without-data"])
def test_ci_run_requires_the_data_where_it_is_and_refuses_a_ci_machine_without_it(tmp_path, ci, data, expected):
    """``.ci/run``'s decision, with ``make`` replaced by one that prints what it was given (the real one is the
    whole suite)."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "make").write_text('#!/bin/sh\necho "make $* EDGECNN_REQUIRE_DATA=${EDGECNN_REQUIRE_DATA:-unset}"\n')
    (fake_bin / "make").chmod(0o755)
    shared = tmp_path / "data"
    if data:
        shared.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "EDGECNN_REQUIRE_DATA")}
    env.update(EDGECNN_SHARED_DATA=str(shared), PATH=f"{fake_bin}:{env['PATH']}", **({"CI": ci} if ci else {}))
    done = subprocess.run([str(REPO / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)
    if expected is None:
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.startswith(f".ci/run: {shared} is missing on this CI machine (CI=true)"), done.stderr
    else:
        assert done.returncode == 0 and done.stdout == expected, done.stderr
