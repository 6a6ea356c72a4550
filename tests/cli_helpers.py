"""Running the real ``edgecnn`` command line from tests (imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_edgecnn(*args, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs ``python -m edgecnn ARGS`` as a user would, capturing its output, in the test's working directory (an
    empty one of its own: tests/conftest.py), never the checkout, whose ``artifacts/`` a default ``--out`` meets."""
    return subprocess.run([sys.executable, "-m", "edgecnn", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, check=False)


def error_lines(stderr: str) -> list[str]:
    """The lines a user sees on stderr, less TensorFlow's start-up chatter."""
    noise = ("WARNING", "I0000", "W0000", "E0000", "oneDNN", "cpu_feature_guard", "To enable the following",
             "absl::", "rebuild TensorFlow", "UserWarning", "warnings.warn", "self.data_adapter")
    return [line for line in stderr.splitlines() if line.strip() and not any(n in line for n in noise)]


def headless_chromium():
    """Debian's chromium through chromium-driver, headless, driven by Selenium (as tests/runtime's web view test)."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1200,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
