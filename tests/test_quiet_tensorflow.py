"""A command that loads TensorFlow prints its answer, not TensorFlow's start-up notices (edgecnn.quiet_tf)."""

import os
import subprocess
import sys

from cli_helpers import REPO


def _inspect_summary(**env):
    base = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "edgecnn", "inspect", "summary", "fashion_dnn"], cwd=REPO,
                          capture_output=True, text=True, env={**base, **env}, timeout=300, check=False)


def test_answer_only_by_default_and_everything_when_asked():
    quiet = _inspect_summary()
    assert quiet.returncode == 0 and "fashion_dnn" in quiet.stdout
    assert quiet.stderr == ""
    loud = _inspect_summary(TF_CPP_MIN_LOG_LEVEL="0")  # the user's own setting wins: TensorFlow's lines are back
    assert loud.returncode == 0 and "absl::InitializeLog" in loud.stderr
