"""``--serve HOST:PORT``: a small web view for a Pi without a screen (standard library only).

``/`` is a page showing the stream and the live label, ``/stream.mjpg`` an MJPEG stream of the annotated frames,
``/predictions`` the latest prediction as JSON (the same record ``--headless`` prints). Binds 127.0.0.1 unless a
host is given, so a Pi on a shared network does not publish its camera by accident.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from edgecnn.runtime.errors import OptionError

BOUNDARY = "edgecnnframe"


class LiveView:
    """The newest annotated JPEG and prediction, shared between the loop (writer) and the HTTP handlers."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.jpeg: bytes | None = None
        self.prediction: dict = {}
        self.frames = 0
        self.closed = False

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


def start_server(view: LiveView, host: str, port: int) -> ThreadingHTTPServer:
    """Starts serving ``view`` on a background thread; ``server.shutdown()`` stops it."""
    handler = type("Handler", (_Handler,), {"view": view})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as err:
        raise OptionError(f"--serve {host}:{port}: cannot listen there ({err.strerror or err})") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="edgecnn web view", daemon=True).start()
    return server


def _page() -> bytes:
    return resources.files("edgecnn.runtime").joinpath("web_view.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    view: LiveView

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(200, "text/html; charset=utf-8", _page())
        elif path == "/predictions":
            self._send(200, "application/json", json.dumps(self.view.prediction).encode("utf-8"))
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
        self.wfile.write(body)

    def _stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        number = 0
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
        except (BrokenPipeError, ConnectionResetError):
            return  # the browser went away

    def log_message(self, format: str, *args) -> None:
        pass  # one line per request would drown the predictions; errors still reach the client
