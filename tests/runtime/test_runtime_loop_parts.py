"""The loop's parts: overlay text and threshold, smoothing, options, and the no-TensorFlow import rule."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from edgecnn.runtime.errors import OptionError
from edgecnn.runtime.live import LiveOptions
from edgecnn.runtime.overlay import MIN_WIDTH, describe, draw
from edgecnn.runtime.smoothing import ProbabilitySmoother

LABELS = ("paper", "rock", "scissors")


def test_overlay_says_unsure_below_the_threshold():
    sure = describe(LABELS, np.array([0.1, 0.8, 0.1], np.float32), threshold=0.6, fps=10)
    unsure = describe(LABELS, np.array([0.3, 0.25, 0.45], np.float32), threshold=0.6, fps=10)
    assert sure.sure and sure.title == "rock 80%"
    assert not unsure.sure and unsure.title == "unsure (scissors 45%)"
    assert [label for label, _ in unsure.top] == ["scissors", "paper", "rock"]


def test_overlay_draws_on_a_bgr_copy_scaled_up_when_small():
    frame = np.full((28, 28, 3), 200, np.uint8)
    annotated = draw(frame, describe(LABELS, np.array([0.1, 0.8, 0.1], np.float32), 0.5, 12.0))
    assert annotated.shape[0] == annotated.shape[1] >= MIN_WIDTH
    assert frame.mean() == 200  # the input frame is left alone
    assert (annotated[:50] != 200).any()


@pytest.mark.parametrize("height, width", [(150, 225), (28, 28), (240, 320), (480, 640)])
def test_overlay_band_covers_at_most_a_quarter_of_the_frame(height, width):
    frame = np.full((height, width, 3), 200, np.uint8)  # a 225x150 rps-real-pi photo, a CGI hand, two cameras
    annotated = draw(frame, describe(LABELS, np.array([0.1, 0.8, 0.1], np.float32), 0.5, 12.0))
    darkened = np.flatnonzero((annotated[:, -1] < 200).any(axis=1))  # the band's rows, read at the right edge
    assert darkened.max() + 1 <= annotated.shape[0] / 4
    assert abs(annotated.shape[1] / annotated.shape[0] - width / height) < 0.02  # aspect kept


def test_a_single_frame_shows_no_rate_instead_of_zero_fps():
    from edgecnn.runtime.overlay import FpsMeter, fps_label

    meter = FpsMeter()
    assert fps_label(meter.tick()) == "-- FPS"  # a still picture: one frame, no rate
    time.sleep(0.01)
    rate = meter.tick()
    assert 0 < rate <= 100 and fps_label(rate) == f"{rate:.1f} FPS"


def test_smoothing_is_an_exponential_moving_average():
    smoother = ProbabilitySmoother(0.5)
    first = smoother.update(np.array([1.0, 0.0], np.float32))
    second = smoother.update(np.array([0.0, 1.0], np.float32))
    np.testing.assert_allclose(first, [1.0, 0.0])
    np.testing.assert_allclose(second, [0.5, 0.5])
    off = ProbabilitySmoother(0.0)
    off.update(np.array([1.0, 0.0], np.float32))
    np.testing.assert_allclose(off.update(np.array([0.0, 1.0], np.float32)), [0.0, 1.0])


@pytest.mark.parametrize("bad, message", [({"threshold": 1.5}, "--threshold"), ({"max_frames": 0}, "--max-frames"),
                                          ({"fps": -1}, "--fps"), ({"save": "out.gif"}, "--save out.gif")])
def test_options_refuse_out_of_range_values(bad, message):
    with pytest.raises(OptionError, match=message):
        LiveOptions(**bad)
    with pytest.raises(OptionError, match="--smooth"):
        ProbabilitySmoother(1.0)


@pytest.mark.parametrize("fmt", ["tflite_int8", "onnx"])
def test_runtime_never_imports_tensorflow(tiny_models, rps_frames, fmt):
    # Loading and classifying, not just importing: the backends import their libraries lazily.
    code = ("import sys, edgecnn.runtime.cli, edgecnn.runtime.live, edgecnn.runtime.sources, edgecnn.runtime.server; "
            "from edgecnn.runtime.classifier import Classifier; from edgecnn.runtime.images import read_image_rgb; "
            f"Classifier.open({str(tiny_models[fmt].path)!r}).classify(read_image_rgb({str(rps_frames[0])!r})); "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'tf2onnx', 'onnx') or m.startswith(('edgecnn.train', 'edgecnn.convert', "
            "'edgecnn.devices'))); print(bad)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _contract(**changes):
    from edgecnn.runtime.contract import ModelContract

    return ModelContract(model_name="t", labels=("a", "b"), input_size=(4, 6), **changes)


def test_preprocess_gray_invert_and_resize():
    from edgecnn.runtime.preprocess import frame_to_pixels

    frame = np.zeros((8, 12, 3), np.uint8)
    frame[..., 0] = 255  # pure red: luma 76
    pixels = frame_to_pixels(frame, _contract(channel_order="GRAY"), invert=True)
    assert pixels.shape == (4, 6, 1) and pixels.dtype == np.uint8
    assert int(pixels[0, 0, 0]) == 255 - 76


def test_preprocess_scales_and_quantizes_as_the_tensor_says():
    from edgecnn.runtime.backends import TensorSpec
    from edgecnn.runtime.preprocess import output_to_probabilities, pixels_to_tensor

    pixels = np.array([0, 128, 255], np.uint8).reshape(1, 1, 3, 1)
    float_spec = TensorSpec("x", (None, 1, 3, 1), np.dtype(np.float32))
    scaled = pixels_to_tensor(pixels, _contract(value_range=(-1.0, 1.0)), float_spec)
    np.testing.assert_allclose(scaled.ravel(), [-1.0, 128 / 127.5 - 1, 1.0], atol=1e-6)
    int8_spec = TensorSpec("x", (1, 1, 3, 1), np.dtype(np.int8), scale=1.0, zero_point=-128)
    np.testing.assert_array_equal(pixels_to_tensor(pixels, _contract(), int8_spec).ravel(), [-128, 0, 127])
    uint8_spec = TensorSpec("x", (1, 1, 3, 1), np.dtype(np.uint8), scale=1.0, zero_point=0)
    np.testing.assert_array_equal(pixels_to_tensor(pixels, _contract(), uint8_spec), pixels)
    out_spec = TensorSpec("y", (1, 1), np.dtype(np.uint8), scale=1 / 256, zero_point=0)
    probabilities = output_to_probabilities(np.array([[192]], np.uint8), _contract(output_activation="sigmoid"),
                                            out_spec)
    np.testing.assert_allclose(probabilities, [[0.25, 0.75]])
