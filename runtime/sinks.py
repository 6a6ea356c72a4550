"""The outputs of the live loop: JSON lines, a video file, the web view, a window; and whether a window can open.

Each sink has ``needs_image``, ``write(frame, annotated_bgr, record)`` (False stops the loop) and ``close(keep)``;
a sink may also have ``drain()``, called once when the source ended or ``max_frames`` was reached (not on Ctrl-C).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from edgecnn.runtime.atomic import fsync_file, fsync_folder
from edgecnn.runtime.errors import OptionError
from edgecnn.runtime.sources import Frame

log = logging.getLogger("edgecnn.runtime")
VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG"}
NO_WINDOW_ALTERNATIVES = ("use --headless, --save FILE or --serve HOST:PORT (over SSH: --serve 0.0.0.0:8080, or "
                          "--serve 8080 with ssh -L 8080:127.0.0.1:8080)")


class JsonLinesSink:
    needs_image = False

    def __init__(self, stream: IO[str] | None):
        self.stream = stream or sys.stdout

    def write(self, frame: Frame, annotated, record: dict) -> None:
        self.stream.write(json.dumps(record) + "\n")
        self.stream.flush()

    def close(self, keep: bool) -> None:
        pass


class VideoFileSink:
    """Writes beside the target and renames at the end, so an interrupted run leaves the previous video intact."""

    needs_image = True

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.partial = path.with_name(f".{path.stem}.partial{path.suffix}")
        if path.is_dir():
            raise OptionError(f"--save {path}: this is a folder; expected a video file path ending in "
                              f"{', '.join(VIDEO_CODECS)}")
        try:  # before the first frame: a run must not classify a whole video and then fail to write it
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OptionError(f"--save {path}: cannot make the folder {path.parent} ({err.strerror or err})") from None
        self.writer: cv2.VideoWriter | None = None
        self.size: tuple[int, int] | None = None

    def write(self, frame: Frame, annotated: np.ndarray, record: dict) -> None:
        if self.writer is None:
            self.size = (annotated.shape[1], annotated.shape[0])
            fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[self.path.suffix.lower()])
            self.writer = cv2.VideoWriter(str(self.partial), fourcc, self.fps, self.size)
            if not self.writer.isOpened():
                raise OptionError(f"--save {self.path}: OpenCV cannot write this video here")
        if (annotated.shape[1], annotated.shape[0]) != self.size:  # folders of images differ in size
            annotated = cv2.resize(annotated, self.size, interpolation=cv2.INTER_AREA)
        self.writer.write(annotated)

    def close(self, keep: bool) -> None:
        if self.writer is None:
            return
        self.writer.release()
        if keep:
            fsync_file(self.partial)
            os.replace(self.partial, self.path)
            fsync_folder(self.path.parent)
        else:
            self.partial.unlink(missing_ok=True)


class WebViewSink:
    """``--serve``, and the browser view that stands in for a window where OpenCV cannot open one.

    ``linger_s``: when the run ends on its own, keep serving until a browser has been sent the last frame and its
    prediction, at most this long (0: stop at once, as ``--serve`` always did).
    """

    needs_image = True

    def __init__(self, address: str, linger_s: float = 0.0, announce: bool = True):
        from edgecnn.runtime.server import LiveView, parse_address, start_server  # http.server: only when serving

        host, port = parse_address(address)
        self.view = LiveView()
        self.server = start_server(self.view, host, port)
        self.linger_s = linger_s
        if announce:
            log.warning("web view at %s (stream /stream.mjpg, JSON /predictions)", self.url)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def wait_for_viewer(self, timeout: float) -> bool:
        """Waits until a browser reads the stream (at most ``timeout`` s); True when one does."""
        return self.view.wait_for_viewer(timeout)

    def write(self, frame: Frame, annotated: np.ndarray, record: dict) -> None:
        ok, jpeg = cv2.imencode(".jpg", annotated, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            self.view.publish(jpeg.tobytes(), record)

    def drain(self) -> None:
        if self.linger_s > 0 and not self.view.wait_shown(self.linger_s):
            log.warning("no browser read the last frame within %.0f s; stopping the web view", self.linger_s)

    def close(self, keep: bool) -> None:
        self.view.close()
        self.server.shutdown()
        self.server.server_close()


def open_browser(url: str) -> threading.Thread:
    """Opens ``url`` in the default browser (Python's ``webbrowser``: ``$BROWSER`` first) on a background thread.

    A thread, because ``webbrowser`` waits for a ``$BROWSER`` command to exit, and the loop must not.
    """
    import webbrowser

    def open_it() -> None:
        try:
            opened = webbrowser.open(url)
        except webbrowser.Error:
            opened = False
        if not opened:
            tried = "$BROWSER and " if os.environ.get("BROWSER") else ""
            log.warning("could not open a browser (tried %sthe ones Python's webbrowser knows); open %s yourself",
                        tried, url)

    thread = threading.Thread(target=open_it, name="edgecnn browser", daemon=True)
    thread.start()
    return thread


def display_available() -> bool:
    """Is there a screen to show a window on? Linux and the BSDs need X11 or Wayland; macOS and Windows have one.

    Checked before any GUI call because some GUI toolkits abort the process instead of raising.
    """
    if sys.platform == "darwin" or sys.platform.startswith(("win", "cygwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def opencv_has_gui(build_information: str | None = None) -> bool:
    """Was this OpenCV built with a GUI backend (``opencv-python``: yes; ``opencv-python-headless``: "GUI: NONE")?"""
    lines = (build_information or cv2.getBuildInformation()).splitlines()
    for number, line in enumerate(lines):
        name, _, value = line.strip().partition(":")
        if name == "GUI":
            value = value.strip()
            if value:  # OpenCV >= 4.6: "GUI: NONE", "GUI: QT5", "GUI: GTK3", "GUI: COCOA", "GUI: WIN32UI"
                return value.upper() != "NONE"
            # older builds: "GUI:" then one indented line per toolkit, "YES (...)" or "NO"
            toolkits = []
            for follow in lines[number + 1:]:
                if not follow.startswith("    ") or ":" not in follow:
                    break
                toolkits.append(follow.partition(":")[2].strip().upper())
            return any(value.startswith("YES") for value in toolkits)
    return False


class WindowSink:
    needs_image = True

    def __init__(self, title: str):
        self.title = f"edgecnn: {title}"
        problem = "no display" if not display_available() else None
        if problem is None:
            try:
                cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
            except cv2.error:
                problem = "OpenCV built without GUI support, as opencv-python-headless is"
        if problem is not None:
            raise OptionError(f"cannot open a window here ({problem}); {NO_WINDOW_ALTERNATIVES}")

    def write(self, frame: Frame, annotated: np.ndarray, record: dict) -> bool:
        cv2.imshow(self.title, annotated)
        return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)  # q or Esc quits

    def close(self, keep: bool) -> None:
        cv2.destroyAllWindows()
