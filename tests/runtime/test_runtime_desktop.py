"""``edgecnn run`` on a machine with a desktop but OpenCV's headless wheel (what every install gets): the live view
opens in the browser instead of a window.

A real X server (Xvfb) plays the laptop's desktop; ``$BROWSER`` is a small script that opens the page in a real,
non-headless Chromium on that display (Selenium) and records what the page showed. The run is the real command
line on a real video of real hands, with the model shipped by default, exactly as a user starts it.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from runtime_fixtures import EDGECNN, REPO, desktop_env, edgecnn_run, one_line_error, xvfb_display  # noqa: F401

from edgecnn.runtime.sinks import display_available, opencv_has_gui

TESTS = Path(__file__).resolve().parent
FALLBACK_LINE = re.compile(r"^edgecnn run: no OpenCV window here \(opencv-python-headless\); showing the live view "
                           r"in your browser at (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)$", re.MULTILINE)

BROWSER_SCRIPT = '''#!{python}
"""$BROWSER of the desktop test: shows the URL in a real Chromium window on $DISPLAY and records the page."""
import json, os, sys, time
from pathlib import Path

out = Path(os.environ["EDGECNN_TEST_PAGE"])
log = os.open(str(out.with_suffix(".log")), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
os.dup2(log, 1), os.dup2(log, 2)  # let go of edgecnn's own stdout and stderr: it exits long before this script
sys.path.insert(0, {tests!r})
from runtime_fixtures import chromium
from selenium.webdriver.common.by import By

seen, width, title = [], 0, None
browser = chromium(headless=False)
try:
    browser.get(sys.argv[1])
    title = browser.title
    deadline = time.time() + 60
    while time.time() < deadline:
        state = [browser.find_element(By.ID, "label").text, browser.find_element(By.ID, "details").text]
        width = max(width, browser.execute_script("return document.getElementById('stream').naturalWidth"))
        if not seen or seen[-1] != state:
            seen.append(state)
        if state[1].startswith("edgecnn run has stopped"):
            break
        time.sleep(0.05)
    browser.save_screenshot(str(out.with_suffix(".png")))
finally:
    browser.quit()
partial = out.with_suffix(".partial")
partial.write_text(json.dumps({{"title": title, "seen": seen, "image_width": width}}))
partial.rename(out)
'''


def _browser_script(folder: Path) -> Path:
    script = folder / "browser.py"
    script.write_text(BROWSER_SCRIPT.format(python=sys.executable, tests=str(TESTS)))
    script.chmod(0o755)
    return script


def _wait_for_file(path: Path, timeout: float) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.2)


def test_run_with_a_desktop_shows_the_labels_in_a_real_browser(xvfb_display, rps_video, tmp_path):  # noqa: F811
    expected = [json.loads(line)["label"] for line in
                edgecnn_run("--source", rps_video, "--max-frames", "8", "--headless").stdout.splitlines()]
    page = tmp_path / "page.json"
    env = desktop_env(xvfb_display, BROWSER=str(_browser_script(tmp_path)), EDGECNN_TEST_PAGE=str(page))
    started = time.perf_counter()
    run = edgecnn_run("--source", rps_video, "--max-frames", "8", env=env, timeout=180)
    took = time.perf_counter() - started
    assert run.returncode == 0, run.stdout + run.stderr
    assert FALLBACK_LINE.search(run.stdout), run.stdout
    assert "plays at 10 frames per second" in run.stdout  # the video's own rate: a person can follow it
    assert "edgecnn run: 8 frames" in run.stdout
    assert "no browser read the last frame" not in run.stderr, run.stderr
    _wait_for_file(page, 90)
    shown = json.loads(page.read_text())
    labels = [label for label, details in shown["seen"] if details.startswith("frame ")]
    assert shown["title"] == "edgecnn live view"
    assert shown["image_width"] >= 160, "the MJPEG stream showed no frame"
    assert labels, f"the page never showed a label: {shown['seen']}"
    assert all(re.fullmatch(r"(paper|rock|scissors) \d+%", label) for label in labels), labels
    # The page ends on the last frame's label, the one the JSON line gives for it: the run waited for it to be shown.
    assert labels[-1].split()[0] == expected[7] == "rock", (labels, expected)
    assert shown["seen"][-1] == [labels[-1], "edgecnn run has stopped; this was its last frame"], shown["seen"]
    assert took < 60, f"{took:.1f} s"


def test_no_browser_prints_the_url_and_opens_nothing(xvfb_display, rps_video, tmp_path):  # noqa: F811
    opened = tmp_path / "opened"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\ntouch {opened}\n")
    browser.chmod(0o755)
    env = desktop_env(xvfb_display, BROWSER=str(browser))
    process = subprocess.Popen([str(EDGECNN), "run", "--source", str(rps_video), "--max-frames", "5", "--no-browser"],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not (lines and "live view" in lines[-1]):
            lines.append(process.stdout.readline())
            assert lines[-1], "".join(lines) + process.stderr.read()
        match = re.fullmatch(r"edgecnn run: no OpenCV window here \(opencv-python-headless\); the live view is at "
                             r"(http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)\n", lines[-1])
        assert match, lines[-1]
        records = _view(match.group(1), process)  # a person opening the printed URL
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "edgecnn run: 5 frames" in out
    assert records and records[-1]["frame"] == 4
    assert not opened.exists(), "a browser was started despite --no-browser"


def _view(url: str, process: subprocess.Popen) -> list[dict]:
    """Reads the stream and polls /predictions as the page does, until the run ends."""
    def read_stream():
        with urllib.request.urlopen(url + "stream.mjpg", timeout=30) as stream:
            while stream.read(4096):
                pass

    reader = threading.Thread(target=read_stream, daemon=True)
    reader.start()
    records = []
    while process.poll() is None:
        try:
            with urllib.request.urlopen(url + "predictions", timeout=5) as response:
                record = json.loads(response.read())
        except OSError:
            break  # the server has stopped
        if record and (not records or records[-1]["frame"] != record["frame"]):
            records.append(record)
        time.sleep(0.1)
    reader.join(timeout=10)
    return records


def test_ctrl_c_while_waiting_for_the_page_stops_at_once(xvfb_display, rps_video):  # noqa: F811
    process = subprocess.Popen([str(EDGECNN), "run", "--source", str(rps_video), "--no-browser"], cwd=REPO,
                               env=desktop_env(xvfb_display), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while "starts when the page is open" not in process.stdout.readline():
            assert process.poll() is None, process.stderr.read()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "edgecnn run: interrupted"


def test_no_display_is_one_line_naming_what_to_use(rps_video):
    result = edgecnn_run("--source", rps_video, "--max-frames", "3", env=desktop_env(None))
    line = one_line_error(result)
    assert "cannot open a window here (no display: DISPLAY and WAYLAND_DISPLAY are unset)" in line
    assert "use --headless, --save FILE or --serve HOST:PORT" in line
    assert "ssh -L 8080:127.0.0.1:8080" in line


def test_no_display_with_save_writes_the_video_without_a_window(rps_video, tmp_path):
    out = tmp_path / "annotated.mp4"
    result = edgecnn_run("--source", rps_video, "--save", out, env=desktop_env(None))
    assert result.returncode == 0, result.stderr
    assert f"no display: writing {out} only, no window" in result.stdout
    assert out.stat().st_size > 1000


def test_display_and_gui_checks(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert not display_available()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert display_available()
    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert display_available()
    # what opencv-python-headless, opencv-python (Linux, macOS) and an OpenCV 4.5 build say
    assert not opencv_has_gui("General configuration\n  GUI:                           NONE\n")
    assert opencv_has_gui("  GUI:                           QT5\n    QT:                          YES (ver 5.15)\n")
    assert opencv_has_gui("  GUI:                           COCOA\n")
    assert opencv_has_gui("  GUI: \n    GTK+:                        YES (ver 3.24.20)\n  Media I/O: \n")
    assert not opencv_has_gui("  GUI: \n    GTK+:                        NO\n  Media I/O: \n")
    # and the wheel every install gets (pyproject): the case the other tests here are about
    assert not opencv_has_gui(), "this venv has a GUI OpenCV; the project installs opencv-python-headless"
