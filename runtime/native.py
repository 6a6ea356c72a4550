"""Keeping the C/C++ libraries' own stderr lines out of edgecnn's output.

LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate" and FFmpeg prints "[mov,mp4,...] moov atom not found"
straight to file descriptor 2. They would break the one-line error messages and clutter ``--headless`` runs, and
the typed error raised afterwards says the same thing more clearly.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Callable, Iterator


@contextlib.contextmanager
def native_stderr_filtered(drop: Callable[[str], bool]) -> Iterator[None]:
    """Captures fd 2 while the block runs; afterwards writes back every line for which ``drop`` is false.

    When the block raises, everything captured is dropped: the typed error raised from it says what went wrong
    in one line (e.g. NumPy's page-long "compiled using NumPy 1.x" warning and traceback).
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr file descriptor (embedded interpreter): leave it alone
        yield
        return
    failed = False
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            if not failed:
                sys.stderr.write("".join(line for line in lines if not drop(line)))
                sys.stderr.flush()


def is_litert_info(line: str) -> bool:
    return line.startswith("INFO: ")


def is_ffmpeg_log(line: str) -> bool:
    return line.startswith("[") and " @ 0x" in line


_DECODER_LINES = ("libpng ", "Corrupt JPEG data", "Premature end of JPEG", "Unexpected element", "[ERROR:",
                  "[ WARN:", "Not a JPEG file", "Invalid JPEG", "Bogus ", "JPEG datastream")


def is_decoder_log(line: str) -> bool:
    """libpng/libjpeg/OpenCV/FFmpeg lines about a damaged file: the typed error (or nothing, when the damaged file
    still decodes) says it for edgecnn."""
    return is_ffmpeg_log(line) or line.startswith(_DECODER_LINES)

