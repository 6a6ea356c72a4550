"""Running the real ``edgecnn`` command line from the job tests, in a working directory of the test's own.

A command run in the checkout would see whatever an earlier ``edgecnn pipeline`` left in ``artifacts/`` there (the
output-folder guard then answers before the behaviour under test), and could leave such folders behind itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def edgecnn_in(cwd: Path, *args, timeout: float = 600) -> subprocess.CompletedProcess:
    """Runs ``python -m edgecnn ARGS`` with ``cwd`` as its working directory, capturing its output."""
    return subprocess.run([sys.executable, "-m", "edgecnn", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=dict(os.environ), check=False)
