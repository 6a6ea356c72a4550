"""``edgecnn run --serve`` in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from runtime_fixtures import EDGECNN, REPO

from edgecnn.runtime.errors import OptionError
from edgecnn.runtime.server import parse_address


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, timeout: float = 30.0) -> bytes:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def served(tiny_models, rps_video):
    """``edgecnn run --serve`` on the looping real video, paced at 8 frames per second."""
    port = _free_port()
    process = subprocess.Popen([str(EDGECNN), "run", "--model", str(tiny_models["tflite_int8"].path), "--source",
                                str(rps_video), "--serve", f"127.0.0.1:{port}", "--fps", "8", "--loop",
                                "--max-frames", "2000"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/predictions")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=800,600"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def test_web_view_in_headless_chromium(served, tmp_path):
    from selenium.webdriver.common.by import By

    predictions = json.loads(_wait_for(f"{served}/predictions"))
    assert predictions == {} or {"label", "confidence", "frame"} <= set(predictions)
    browser = _chromium()
    try:
        browser.get(served + "/")
        assert browser.title == "edgecnn live view"
        image = browser.find_element(By.ID, "stream")
        labels, frames, captions, deadline = set(), set(), set(), time.time() + 30
        while time.time() < deadline and (len(labels) < 2 or len(frames) < 5):
            text = browser.find_element(By.ID, "label").text
            details = browser.find_element(By.ID, "details").text
            if details.startswith("frame "):
                labels.add(text.split()[0])  # the label name, not its confidence
                frames.add(details.split()[1].rstrip(","))
                captions.add(details)
            time.sleep(0.2)
        width = browser.execute_script("return arguments[0].naturalWidth", image)
        browser.save_screenshot(str(tmp_path / "web_view.png"))
    finally:
        browser.quit()
    assert width >= 320, "the MJPEG stream shows no frame"
    assert len(frames) >= 5, f"the page saw frames {frames}"
    assert len(labels) >= 2, f"the label never changed: {labels}"
    assert labels <= {"paper", "rock", "scissors"}
    # a video's source is its frame number: the caption must not read "frame 42 from 42"
    assert not [c for c in captions if " from " in c], captions


def test_stream_endpoint_serves_jpeg_parts(served):
    with urllib.request.urlopen(served + "/stream.mjpg", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        chunk = response.read(4096)
    assert b"Content-Type: image/jpeg" in chunk and b"\xff\xd8" in chunk


@pytest.mark.parametrize("text, expected", [("8000", ("127.0.0.1", 8000)), (":8000", ("127.0.0.1", 8000)),
                                            ("0.0.0.0:9000", ("0.0.0.0", 9000)), ("[::1]:80", ("::1", 80))])
def test_parse_address_binds_loopback_unless_told(text, expected):
    assert parse_address(text) == expected


def test_parse_address_rejects_nonsense():
    with pytest.raises(OptionError, match="expected HOST:PORT or PORT"):
        parse_address("localhost:http")


def _serve(model, video, port):
    return subprocess.Popen([str(EDGECNN), "run", "--model", str(model), "--source", str(video), "--serve",
                             f"127.0.0.1:{port}", "--fps", "10", "--loop"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_network_stream_lost_and_back_is_reported_and_reconnected(tiny_models, rps_video):
    # A real MJPEG-over-HTTP stream (our own --serve) read by a second edgecnn run as a live source; the producer
    # dies and comes back on the same port, as an IP camera rebooting would.
    port = _free_port()
    producer = _serve(tiny_models["tflite_int8"].path, rps_video, port)
    url = f"http://127.0.0.1:{port}/stream.mjpg"
    consumer = None
    try:
        _wait_for(f"http://127.0.0.1:{port}/predictions")
        consumer = subprocess.Popen([str(EDGECNN), "run", "--model", str(tiny_models["onnx"].path), "--source", url,
                                     "--headless", "--max-frames", "40"],
                                    cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(5):  # the stream is flowing
            assert json.loads(consumer.stdout.readline())["label"] in tiny_models["onnx"].contract.labels
        producer.terminate()
        producer.wait(timeout=10)
        time.sleep(1.5)
        producer = _serve(tiny_models["tflite_int8"].path, rps_video, port)
        out, err = consumer.communicate(timeout=90)
    finally:
        producer.terminate()
        producer.wait(timeout=10)
        if consumer is not None and consumer.poll() is None:
            consumer.kill()
    assert consumer.returncode == 0, err
    assert len(out.splitlines()) == 35
    assert f"source {url}: no frame (camera lost?); reopening in 0.5 s (attempt 1)" in err
    assert f"source {url}: reopened" in err
    assert "@ 0x" not in err  # FFmpeg's own lines stay out
