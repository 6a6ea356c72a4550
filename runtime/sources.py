"""Where frames come from: a camera, a video file, an image, a folder of images, a stream URL or a Pi camera.

Files (video, image, folder) are read frame by frame, deterministically: every frame, in order. Live sources
(cameras, URLs, picamera) are read on a background thread that keeps only the newest frame, so a prediction is
never made on a frame older than the newest one captured (OpenCV's own buffer otherwise adds seconds of lag on a
Pi). A live source that stops delivering is reported and reopened with backoff instead of ending the run.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.images import IMAGE_SUFFIXES, is_image_file, read_image_rgb
from edgecnn.runtime.native import is_decoder_log, native_stderr_filtered

log = logging.getLogger("edgecnn.runtime")
# FFmpeg inside OpenCV prints its own lines ("[tcp @ 0x...] Connection refused") while a lost stream is retried; the
# warnings below say it once, readably. Read when OpenCV first uses FFmpeg; a value the user set wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

SOURCE_KINDS = ("camera index (0)", "/dev/videoN", "video file", "image file", "folder of images",
                "rtsp:// or http(s):// URL", "picamera")
MAX_CAMERA_INDEX = 9999
"""Largest ``--source N`` taken as a camera index (OpenCV adds backend ids in the hundreds; a C int overflows far
above)."""
_URL = re.compile(r"^(rtsp|rtsps|http|https)://", re.IGNORECASE)


@dataclass(frozen=True)
class Frame:
    """One RGB frame and where it came from."""

    image: np.ndarray
    """``(H, W, 3)`` uint8 RGB."""
    source: str
    """The image's file path, or the frame number for videos and cameras."""
    index: int
    """Position in the run (0-based), counting only frames handed out."""
    captured: int
    """Capture sequence number: for live sources the count of frames captured so far, so a gap means frames
    were dropped to stay current."""
    timestamp: float
    """``time.time()`` when the frame was read."""


class Source:
    """Iterates over :class:`Frame` objects; ``close()`` releases the device or file."""

    name: str
    live: bool = False
    fps: float = 0.0

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_source(spec: str, loop: bool = False) -> Source:
    """Opens the source named by ``spec`` (what ``--source`` takes); :class:`SourceError` lists the valid kinds.

    ``loop`` starts file sources over at their end (a demo or kiosk); live sources ignore it.
    """
    spec = str(spec)
    if not spec.strip():
        raise SourceError(f"--source {spec!r} is empty; use one of: {', '.join(SOURCE_KINDS)} (the current folder "
                          f"is '.')")
    if spec == "picamera":
        return LiveSource(spec, _picamera_reader)
    if re.fullmatch(r"[0-9]+", spec):  # ASCII digits only: str.isdigit() also accepts '²', which int() refuses
        if int(spec) > MAX_CAMERA_INDEX:
            raise SourceError(f"--source {spec}: camera index out of range (0 to {MAX_CAMERA_INDEX}); use one of: "
                              f"{', '.join(SOURCE_KINDS)}")
        return LiveSource(spec, lambda: _opencv_reader(int(spec), spec))
    if re.fullmatch(r"/dev/video\d+", spec) or _URL.match(spec):
        return LiveSource(spec, lambda: _opencv_reader(spec, spec))
    path = Path(spec)
    if path.is_dir():
        return FolderSource(path, loop)
    if path.is_file() and is_image_file(path):
        return ImageFilesSource(path, [path], loop)
    if path.is_file():
        return VideoFileSource(path, loop)
    raise SourceError(f"cannot open source {spec!r}: no such file, folder or camera; use one of: "
                      f"{', '.join(SOURCE_KINDS)}")


# --- files, read deterministically -----------------------------------------------------------------------------------


class ImageFilesSource(Source):
    """A list of image files in order; corrupt ones are reported and skipped."""

    def __init__(self, name: Path, paths: list[Path], loop: bool = False):
        self.name = str(name)
        self.paths = paths
        self.loop = loop

    def __iter__(self) -> Iterator[Frame]:
        index, first_problem = 0, None
        while True:
            for number, path in enumerate(self.paths):
                try:
                    image = read_image_rgb(path)
                except SourceError as err:
                    if len(self.paths) > 1:  # one image alone: the error below says it, once
                        log.warning("skipped %s", err)
                    first_problem = first_problem or err
                    continue
                yield Frame(image, str(path), index, number, time.time())
                index += 1
            if not index:  # nothing at all could be read: a run that printed no prediction must not succeed
                if len(self.paths) == 1:
                    raise first_problem
                raise SourceError(f"{self.name}: none of its {len(self.paths)} images could be read "
                                  f"(first: {first_problem})")
            if not self.loop:
                return


class FolderSource(ImageFilesSource):
    """Every image in a folder (not recursive), sorted by name."""

    def __init__(self, folder: Path, loop: bool = False):
        paths = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))
        if not paths:
            raise SourceError(f"{folder}: no images in this folder (expected files ending in "
                              f"{', '.join(IMAGE_SUFFIXES)})")
        super().__init__(folder, paths, loop)


class VideoFileSource(Source):
    """Every frame of a video file, in order."""

    def __init__(self, path: Path, loop: bool = False):
        import cv2

        self.name = str(path)
        self.loop = loop
        with native_stderr_filtered(is_decoder_log):
            self._capture = cv2.VideoCapture(str(path))
            ok, first = self._capture.read() if self._capture.isOpened() else (False, None)
        if not ok:
            self._capture.release()
            raise SourceError(f"{path}: not a readable video (corrupt or unsupported codec); expected a video "
                              f"OpenCV can decode (e.g. .mp4, .avi), an image ({', '.join(IMAGE_SUFFIXES)}) "
                              f"or a folder of images")
        self._first = first
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        index, number, frame = 0, 0, self._first
        while frame is not None:
            yield Frame(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), str(number), index, number, time.time())
            ok, frame = self._capture.read()
            index, number = index + 1, number + 1
            if not ok and self.loop:
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._capture.read()
                number = 0
            frame = frame if ok else None

    def close(self) -> None:
        self._capture.release()


# --- live sources: a background reader that keeps only the newest frame ---------------------------------------------

Reader = Callable[[], Optional[np.ndarray]]
"""Returns the next RGB frame, or None when the device failed to deliver one."""


class LiveSource(Source):
    """A camera or stream read on a background thread; iteration yields the newest frame, never a stale one."""

    live = True

    def __init__(self, name: str, open_reader: Callable[[], tuple[Reader, Callable[[], None]]],
                 retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)):
        self.name = name
        self._open_reader = open_reader
        self._retry_delays = retry_delays
        self._reader, self._release = open_reader()  # fails here, at start, with a SourceError
        self._condition = threading.Condition()
        self._newest: np.ndarray | None = None
        self._captured = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._capture_loop, name=f"capture {name}", daemon=True)
        self._thread.start()

    @property
    def captured(self) -> int:
        """Frames captured so far (the newest frame's sequence number)."""
        with self._condition:
            return self._captured

    def _capture_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            image = self._reader()
            if image is not None:
                failures = 0
                with self._condition:
                    self._newest, self._captured = image, self._captured + 1
                    self._condition.notify_all()
                continue
            delay = self._retry_delays[min(failures, len(self._retry_delays) - 1)]
            failures += 1
            log.warning("source %s: no frame (camera lost?); reopening in %.1f s (attempt %d)", self.name, delay,
                        failures)
            if self._stop.wait(delay):
                break
            self._reopen()

    def _reopen(self) -> None:
        self._release()
        try:
            self._reader, self._release = self._open_reader()
            log.warning("source %s: reopened", self.name)
        except SourceError:
            log.warning("source %s: still unavailable", self.name)
            self._reader, self._release = (lambda: None), (lambda: None)

    def __iter__(self) -> Iterator[Frame]:
        index, last = 0, 0
        while not self._stop.is_set():
            with self._condition:
                self._condition.wait_for(lambda seen=last: self._captured > seen or self._stop.is_set(), timeout=1.0)
                if self._captured == last:
                    continue
                image, last = self._newest, self._captured
            yield Frame(image, str(last), index, last, time.time())
            index += 1

    def close(self) -> None:
        self._stop.set()
        with self._condition:
            self._condition.notify_all()
        self._thread.join(timeout=5.0)
        self._release()


def _opencv_reader(device: int | str, name: str) -> tuple[Reader, Callable[[], None]]:
    import cv2

    # OpenCV logs a WARN line per backend it tries; the SourceError below says it once, clearly.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    capture = cv2.VideoCapture(device)
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"cannot open camera or stream {name!r} (no such device, busy, or unreachable); "
                          f"use one of: {', '.join(SOURCE_KINDS)}")
    capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # fewer stale frames queued in the driver, where supported

    def read() -> np.ndarray | None:
        ok, frame = capture.read()
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if ok else None

    return read, capture.release


def _picamera_reader() -> tuple[Reader, Callable[[], None]]:
    try:
        from picamera2 import Picamera2
    except ImportError:
        raise SourceError("--source picamera needs picamera2, which is not installed (on Raspberry Pi OS: "
                          "sudo apt install python3-picamera2, and create the venv with --system-site-packages); "
                          f"other sources: {', '.join(k for k in SOURCE_KINDS if k != 'picamera')}") from None
    try:
        camera = Picamera2()
        camera.configure(camera.create_video_configuration(main={"format": "RGB888", "size": (640, 480)}))
        camera.start()
    except (RuntimeError, IndexError, OSError) as err:
        raise SourceError(f"cannot open the Pi camera through picamera2 ({err})") from None

    def read() -> np.ndarray | None:
        try:
            # picamera2's "RGB888" is BGR byte order in memory (libcamera naming); flip to RGB.
            return camera.capture_array()[..., ::-1].copy()
        except (RuntimeError, OSError):
            return None

    return read, camera.close
