"""Every malformed input of the corpus, through the real ``edgecnn`` command line in its own process.

Each case must exit 0 with predictions that are probabilities, or exit 1/2 with exactly one error line that names
the input; never a traceback, a signal, an "internal error" or a hang (each process has a timeout).
The default run takes every eighth case (a fixed subset covering each kind); ``EDGECNN_SLOW=1`` runs all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from robustness_corpus import build

from data_sets import find_set, requires_set

SLOW = os.environ.get("EDGECNN_SLOW") == "1"
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def cases(tmp_path_factory, shared_data):
    return {case.name: case for case in build(tmp_path_factory.mktemp("corpus"), shared_data)}


def _names(shared_data_root):
    with tempfile.TemporaryDirectory() as tmp:
        names = [case.name for case in build(Path(tmp), shared_data_root)]
    return names if SLOW else names[::8]


def pytest_generate_tests(metafunc):  # noqa: D103 - builds the ids once at collection
    if "case_name" in metafunc.fixturenames:
        photos = find_set("rps-real-pi")  # where the cases fixture finds it: $EDGECNN_DATA, ../shared, the cache
        if photos is None:  # no seed photos, no ids: one case, skipped with the set's one reason (a skipif mark:
            # pytest files a plain skip mark under no line number, a second summary line for the same set)
            metafunc.parametrize("case_name", [pytest.param("corpus", marks=requires_set("rps-real-pi"))])
        else:
            metafunc.parametrize("case_name", _names(photos.parent))


def test_corpus_is_large_enough(cases):
    assert len(cases) >= 200


def check_outcome(case, done: subprocess.CompletedProcess) -> None:
    """The promise for one case (shared with the signal tests)."""
    where = f"{case.name}: edgecnn {' '.join(case.argv)}\n{done.stderr[-3000:]}"
    assert done.returncode >= 0, f"killed by signal {-done.returncode}: {where}"
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, where
    # argparse answers a bad flag value with the subcommand's usage block, then its one error line
    usage = done.returncode == 2 and done.stderr.startswith("usage: edgecnn ")
    stray = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("edgecnn ")
             and not (usage and (line.startswith("usage: ") or line.startswith(" ")))]
    assert not stray, f"lines not from edgecnn on stderr {stray[:3]}: {where}"
    errors = [line for line in done.stderr.splitlines() if ": error: " in line]
    if done.returncode == 0:
        assert not errors, where
        if case.argv[0] == "run":
            records = [json.loads(line) for line in done.stdout.splitlines()]
            assert records, f"exit 0 without a prediction: {where}"
            for record in records:
                assert all(0.0 <= p <= 1.0 for p in record["probabilities"].values()), where
        return
    assert done.returncode in (1, 2), where
    assert len(errors) == 1, f"expected one error line: {where}"
    assert any(name in errors[0] for name in case.names), f"the error does not name the input: {where}"


def test_case(cases, case_name):
    case = cases[case_name]
    done = subprocess.run([sys.executable, "-m", "edgecnn", *case.argv], capture_output=True, text=True,
                          timeout=TIMEOUT_S, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                          stdin=subprocess.DEVNULL, check=False, errors="replace")
    check_outcome(case, done)
