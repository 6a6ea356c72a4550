"""Keeps TensorFlow's start-up notices off a user's terminal (the CLI calls :func:`install` before anything runs).

``TF_CPP_MIN_LOG_LEVEL=2`` (set only when the user has not set it) drops TensorFlow's C++ info and warning lines.
Two lines come before TensorFlow reads it, written by native code straight to file descriptor 2 while
``import tensorflow`` runs: absl's "All log messages before absl::InitializeLog() ..." and oneDNN's "custom
operations are on". So the first import of TensorFlow runs with descriptor 2 pointed at a temporary file, and
every line of it that is not one of those notices is written back to stderr afterwards (an import error still
shows in full). A user who sets ``TF_CPP_MIN_LOG_LEVEL=0`` or ``1`` sees everything, as TensorFlow prints it.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import sys
import tempfile

NOTICES = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "rebuild TensorFlow with the appropriate compiler flags",
)


def install() -> None:
    """Quiet TensorFlow for this process and its children, unless the user asked for its logs."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") not in ("2", "3"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, through the normal finders, and wraps its loader in :func:`_filtered_fd2`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        with _filtered_fd2():
            self.inner.exec_module(module)


@contextlib.contextmanager
def _filtered_fd2():
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not any(notice in line for notice in NOTICES)]
            sys.stderr.write("".join(kept))
