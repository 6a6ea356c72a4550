"""``--serve HOST:PORT``: a small web view for a Pi without a screen, and where OpenCV cannot open a window
(standard library only).

``/`` is a page showing the stream and the live label, ``/stream.mjpg`` an MJPEG stream of the annotated frames,
``/predictions`` the latest prediction as JSON (the same record ``--headless`` prints). Binds 127.0.0.1 unless a
host is given, so a Pi on a shared network does not publish its camera by accident.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from edgecnn.runtime.errors import OptionError

log = logging.getLogger("edgecnn.runtime")

BOUNDARY = "edgecnnframe"
MAX_CLIENTS = 64
"""Connections served at once (one thread each); more get 503 at once instead of a thread each."""
CLIENT_TIMEOUT_S = 10.0
"""A client that sends nothing (or reads nothing) for this long is disconnected, freeing its thread."""
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class LiveView:
    """The newest annotated JPEG and prediction, shared between the loop (writer) and the HTTP handlers.

    It also counts what browsers were sent, so a run can wait for a viewer before its first frame and until the
    last frame was shown (a short video ends in well under a second; a browser takes longer than that to start).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.jpeg: bytes | None = None
        self.prediction: dict = {}
        self.frames = 0
        self.closed = False
        self.viewers = 0
        """Stream requests so far (a page showing the view makes one)."""
        self.sent_frames = 0
        """Frames up to this number were sent to a stream."""
        self.sent_predictions = 0
        """Predictions up to this number were sent from /predictions."""

    def publish(self, jpeg: bytes, prediction: dict) -> None:
        with self._condition:
            self.jpeg, self.prediction = jpeg, dict(prediction, frame=self.frames)
            self.frames += 1
            self._condition.notify_all()

    def next_jpeg(self, after: int, timeout: float = 5.0) -> tuple[int, bytes | None]:
        """Waits for a frame newer than number ``after``; returns ``(its number, jpeg)``, jpeg None when closed."""
        with self._condition:
            self._condition.wait_for(lambda: self.frames > after or self.closed, timeout)
            return self.frames, (None if self.closed else self.jpeg)

    def latest_prediction(self) -> dict:
        """The newest prediction, counted as sent ({} before the first frame)."""
        with self._condition:
            self.sent_predictions = max(self.sent_predictions, self.frames)
            self._condition.notify_all()
            return self.prediction

    def add_viewer(self) -> None:
        with self._condition:
            self.viewers += 1
            self._condition.notify_all()

    def sent_frame(self, number: int) -> None:
        """Frame ``number`` was written to a stream."""
        with self._condition:
            self.sent_frames = max(self.sent_frames, number)
            self._condition.notify_all()

    def wait_for_viewer(self, timeout: float) -> bool:
        """Waits until a stream is requested, at most ``timeout`` s; True when one was."""
        with self._condition:
            return self._condition.wait_for(lambda: self.viewers > 0, timeout)

    def wait_shown(self, timeout: float) -> bool:
        """Waits until the newest frame and its prediction were both sent to a browser, at most ``timeout`` s."""
        with self._condition:
            return self._condition.wait_for(
                lambda: self.sent_frames >= self.frames and self.sent_predictions >= self.frames, timeout)

    def close(self) -> None:
        with self._condition:
            self.closed = True
            self._condition.notify_all()


def parse_address(text: str) -> tuple[str, int]:
    """``"HOST:PORT"``, ``":PORT"`` or ``"PORT"`` -> ``(host, port)``; the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise OptionError(f"--serve {text!r}: expected HOST:PORT or PORT, e.g. 127.0.0.1:8000 or 0.0.0.0:8000")
    return (host.strip("[]") or "127.0.0.1"), int(port)


class _BoundedServer(ThreadingHTTPServer):
    """At most :data:`MAX_CLIENTS` handler threads; a client that hangs up early is not an error worth a traceback."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, *args, **kwargs):
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], _GONE):
            log.warning("web view: request from %s failed: %s", client_address[0], sys.exc_info()[1])


def start_server(view: LiveView, host: str, port: int) -> ThreadingHTTPServer:
    """Starts serving ``view`` on a background thread; ``server.shutdown()`` stops it."""
    handler = type("Handler", (_Handler,), {"view": view})
    try:
        server = _BoundedServer((host, port), handler)
    except OSError as err:
        raise OptionError(f"--serve {host}:{port}: cannot listen there ({err.strerror or err})") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="edgecnn web view", daemon=True).start()
    return server


def _page() -> bytes:
    return resources.files("edgecnn.runtime").joinpath("web_view.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    view: LiveView
    timeout = CLIENT_TIMEOUT_S  # socket timeout for reads and writes (StreamRequestHandler applies it)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(200, "text/html; charset=utf-8", _page())
        elif path == "/predictions":
            self._send(200, "application/json", json.dumps(self.view.latest_prediction()).encode("utf-8"))
        elif path == "/stream.mjpg":
            self._stream()
        else:
            self._send(404, "text/plain", b"not found: try /, /stream.mjpg or /predictions\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            self.wfile.write(body)
        except _GONE:
            self.close_connection = True  # the browser went away before the answer was sent

    def _stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        number = 0
        self.view.add_viewer()
        try:
            while True:
                number, jpeg = self.view.next_jpeg(number)
                if self.view.closed:
                    return
                if jpeg is None:
                    continue
                self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}"
                                 f"\r\n\r\n".encode("ascii") + jpeg + b"\r\n")
                self.wfile.flush()
                self.view.sent_frame(number)
        except _GONE:
            return  # the browser went away, or stopped reading

    def log_message(self, format: str, *args) -> None:
        pass  # one line per request would drown the predictions; errors still reach the client
