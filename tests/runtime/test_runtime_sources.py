"""Frame sources on real files: videos written from real RPS images, folders with a corrupt image, live reading."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import time

import numpy as np
import pytest
from runtime_fixtures import video_frames_rgb

from edgecnn.runtime.errors import SourceError
from edgecnn.runtime.images import read_image_rgb
from edgecnn.runtime.sources import FolderSource, LiveSource, VideoFileSource, _opencv_reader, open_source


@pytest.mark.parametrize("video", ["rps_video", "rps_avi"])
def test_video_file_yields_every_frame_in_order(video, request):
    path = request.getfixturevalue(video)
    expected = video_frames_rgb(path)
    assert len(expected) == 12
    with open_source(str(path)) as source:
        assert isinstance(source, VideoFileSource)
        frames = list(source)
    assert [f.source for f in frames] == [str(i) for i in range(12)]
    for frame, reference in zip(frames, expected):
        np.testing.assert_array_equal(frame.image, reference)


def test_video_loop_starts_over(rps_avi):
    with open_source(str(rps_avi), loop=True) as source:
        frames = [f for _, f in zip(range(30), source)]
    assert [f.source for f in frames[10:14]] == ["10", "11", "0", "1"]
    assert [f.index for f in frames] == list(range(30))


def test_folder_reports_and_skips_a_corrupt_image(tmp_path, rps_frames, caplog):
    for path in rps_frames[:3]:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "0000_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    (tmp_path / "notes.txt").write_text("not an image, not listed")
    with caplog.at_level(logging.WARNING, logger="edgecnn.runtime"):
        with open_source(str(tmp_path)) as source:
            assert isinstance(source, FolderSource)
            frames = list(source)
    assert [f.source for f in frames] == [str(tmp_path / p.name) for p in sorted(rps_frames[:3])]
    assert any("0000_corrupt.jpg: not a readable image" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(frames[0].image, read_image_rgb(sorted(rps_frames[:3])[0]))


def test_single_image_source(rps_frames):
    frames = list(open_source(str(rps_frames[0])))
    assert len(frames) == 1 and frames[0].image.shape[2] == 3


@pytest.mark.parametrize("spec, message", [
    ("no/such/file.mp4", "cannot open source 'no/such/file.mp4': no such file, folder or camera; use one of:"),
    ("/dev/video99", "cannot open camera or stream '/dev/video99'"),
    ("37", "cannot open camera or stream '37'"),
])
def test_unopenable_sources_name_themselves_and_the_valid_kinds(spec, message):
    with pytest.raises(SourceError, match=message) as err:
        open_source(spec)
    assert "rtsp://" in str(err.value) and "picamera" in str(err.value)


def test_corrupt_video_is_a_source_error(tmp_path, rps_video):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(rps_video.read_bytes()[:2000])
    with pytest.raises(SourceError, match="broken.mp4: not a readable video"):
        open_source(str(broken))


def test_empty_folder_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="no images in this folder"):
        open_source(str(tmp_path))


def test_picamera_without_picamera2_says_how_to_get_it():
    if importlib.util.find_spec("picamera2") is not None:
        pytest.skip("picamera2 is installed here (a Pi): this test is about its absence")
    with pytest.raises(SourceError, match="picamera2, which is not installed"):
        open_source("picamera")


def _video_as_camera(path):
    """A real OpenCV capture of a video file standing in for a camera: it 'fails' when the file ends."""
    return LiveSource(f"camera:{path.name}", lambda: _opencv_reader(str(path), path.name), retry_delays=(0.05,))


def test_live_source_keeps_only_the_newest_frame(rps_avi):
    source = _video_as_camera(rps_avi)
    try:
        frames = []
        for frame in source:
            time.sleep(0.05)  # a slow model: the capture thread runs ahead meanwhile
            frames.append(frame)
            if len(frames) == 5:
                break
        # Each frame handed out was the newest captured when it was taken; frames in between were dropped.
        assert all(b.captured > a.captured for a, b in zip(frames, frames[1:]))
        assert frames[-1].captured - frames[0].captured > len(frames) - 1
    finally:
        source.close()


def test_live_source_reports_loss_and_reconnects(rps_avi, caplog):
    with caplog.at_level(logging.WARNING, logger="edgecnn.runtime"):
        source = _video_as_camera(rps_avi)
        try:
            deadline = time.time() + 10
            while source.captured <= 12 and time.time() < deadline:  # 12 frames, then 'camera lost', then back
                time.sleep(0.02)
        finally:
            source.close()
    assert source.captured > 12
    messages = [r.getMessage() for r in caplog.records]
    assert any("no frame (camera lost?); reopening in 0.1 s" in m for m in messages)
    assert any(m.endswith(": reopened") for m in messages)
