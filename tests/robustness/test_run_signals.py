"""SIGINT and SIGTERM while ``edgecnn run`` serves the web view and saves a video: the saved file is playable."""

from __future__ import annotations

import signal
import subprocess
import sys

import cv2
import pytest


@pytest.fixture(scope="module")
def clip(tmp_path_factory, shared_data):
    path = tmp_path_factory.mktemp("clip") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for photo in sorted((shared_data / "rps-real-pi" / "validation" / "paper").glob("*.jpg"))[:10]:
        writer.write(cv2.resize(cv2.imread(str(photo)), (160, 120)))
    writer.release()
    return path


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated")])
@pytest.mark.parametrize("serve", [False, True], ids=["saving", "serving-and-saving"])
def test_signal_keeps_a_playable_video(clip, tmp_path, signum, code, word, serve):
    saved = tmp_path / "out.mp4"
    argv = ["run", "--source", str(clip), "--loop", "--fps", "30", "--headless", "--save", str(saved)]
    argv += ["--serve", "127.0.0.1:0"] if serve else []
    # A shell without job control starts background jobs with SIGINT ignored, and Python keeps an inherited
    # SIG_IGN: restore the default so the test sends what a terminal's Ctrl-C sends, wherever pytest was started.
    process = subprocess.Popen([sys.executable, "-m", "edgecnn", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(15):  # at least 15 predictions printed: the video has frames in it
        assert process.stdout.readline(), process.stderr.read()
    process.send_signal(signum)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == f"edgecnn run: {word}"
    assert "Traceback" not in stderr
    capture = cv2.VideoCapture(str(saved))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames >= 10  # the frame being written when the signal came may be the one left out
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]  # no partial file left beside it
