"""``edgecnn run`` as a user runs it: a subprocess of the installed command, on real videos and images."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from runtime_fixtures import RECORD_KEYS, desktop_env, edgecnn_run, keras_labels, one_line_error, video_frames_rgb

from edgecnn.runtime.backends import installed_backends
from edgecnn.runtime.images import resize

FORMATS = ("tflite_float32", "tflite_int8", "onnx")


def _cases():
    for fmt in FORMATS:
        for backend in installed_backends():
            if (fmt == "onnx") == (backend == "onnxruntime"):
                yield fmt, backend


@pytest.mark.parametrize("fmt, backend", list(_cases()))
def test_headless_video_labels_equal_keras(tiny_models, rps_video, fmt, backend):
    model = tiny_models[fmt]
    result = edgecnn_run("--model", model.path, "--source", rps_video, "--headless", "--backend", backend,
                         "--threads", 1)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(r) for r in records] == [RECORD_KEYS] * 12  # stdout is JSON lines only
    first = records[0]
    assert isinstance(first["timestamp"], float) and isinstance(first["latency_ms"], float)
    assert first["source"] == "0" and list(first["probabilities"]) == list(model.contract.labels)
    assert all(r["label"] == model.contract.labels[r["index"]] for r in records)
    assert f"on {backend} " in result.stderr and "1 thread(s)" in result.stderr
    # Keras on the very frames OpenCV decodes, prepared the way the contract says.
    pixels = np.stack([resize(frame, model.contract.input_size) for frame in video_frames_rgb(rps_video)])
    expected = keras_labels(model, pixels)
    agreement = np.mean([r["label"] == e for r, e in zip(records, expected)])
    assert agreement >= (11 / 12 if fmt == "tflite_int8" else 1.0), ([r["label"] for r in records], expected)


def test_folder_source_with_corrupt_image_is_reported_on_stderr(tiny_models, tmp_path, rps_frames):
    for path in rps_frames[:2]:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    result = edgecnn_run("--model", tiny_models["tflite_int8"].path, "--source", tmp_path, "--headless")
    assert result.returncode == 0, result.stderr
    sources = [json.loads(line)["source"] for line in result.stdout.splitlines()]
    assert sources == [str(tmp_path / p.name) for p in sorted(rps_frames[:2])]
    assert "broken.jpg: not a readable image" in result.stderr


def test_sigmoid_model_reports_two_probabilities(tiny_models, shared_data):
    image = sorted((shared_data / "horses-or-humans" / "validation" / "horses").iterdir())[0]
    result = edgecnn_run("--model", tiny_models["tflite_sigmoid"].path, "--source", image, "--headless")
    record = json.loads(result.stdout)
    assert list(record["probabilities"]) == ["horses", "humans"]
    assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)


def test_smoothing_and_max_frames(tiny_models, rps_video):
    plain = edgecnn_run("--model", tiny_models["onnx"].path, "--source", rps_video, "--headless", "--max-frames", 5)
    smooth = edgecnn_run("--model", tiny_models["onnx"].path, "--source", rps_video, "--headless",
                         "--max-frames", 5, "--smooth", 0.8)
    raw = [json.loads(line)["probabilities"] for line in plain.stdout.splitlines()]
    averaged = [json.loads(line)["probabilities"] for line in smooth.stdout.splitlines()]
    assert len(raw) == len(averaged) == 5
    assert averaged[0] == raw[0]
    label = next(iter(raw[0]))
    expected = 0.8 * averaged[0][label] + 0.2 * raw[1][label]
    assert averaged[1][label] == pytest.approx(expected, rel=1e-5)


def test_save_writes_a_playable_annotated_video(tiny_models, rps_video, tmp_path):
    out = tmp_path / "annotated.mp4"
    result = edgecnn_run("--model", tiny_models["tflite_int8"].path, "--source", rps_video, "--headless",
                         "--save", out)
    assert result.returncode == 0, result.stderr
    frames = video_frames_rgb(out)
    assert len(frames) == 12
    assert frames[0].shape[1] >= 320  # small frames are scaled up so the overlay is readable
    assert not list(tmp_path.glob(".*partial*"))
    source = cv2.resize(video_frames_rgb(rps_video)[0], frames[0].shape[1::-1])
    assert np.abs(frames[0].astype(int) - source).mean() > 1.0  # the overlay is drawn on it


def test_broken_model_file_is_one_line(tmp_path, rps_video):
    broken = tmp_path / "model.tflite"
    broken.write_bytes(b"\x00" * 64)
    line = one_line_error(edgecnn_run("--model", broken, "--source", rps_video, "--headless"))
    assert f"{broken}: not a valid .tflite model" in line


def test_wrong_input_size_is_one_line(tiny_models, rps_video):
    line = one_line_error(edgecnn_run("--model", tiny_models["tflite_plain"].path, "--source", rps_video,
                                      "--headless", "--labels", "paper,rock,scissors", "--input-size", "64x64",
                                      "--channels", "RGB"))
    assert "plain.tflite: the model takes input (N, 32, 32, 3) but its contract/flags say (N, 64, 64, 3)" in line


def test_model_without_contract_says_which_flags(tiny_models, rps_video):
    line = one_line_error(edgecnn_run("--model", tiny_models["tflite_plain"].path, "--source", rps_video,
                                      "--headless"))
    assert "pass --labels, --input-size and --channels" in line
    result = edgecnn_run("--model", tiny_models["tflite_plain"].path, "--source", rps_video, "--headless",
                         "--labels", "paper,rock,scissors", "--input-size", "32x32", "--channels", "RGB")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 12


@pytest.mark.parametrize("source, message", [("/dev/video42", "cannot open camera or stream '/dev/video42'"),
                                             ("missing.mp4", "cannot open source 'missing.mp4'")])
def test_missing_camera_or_file_is_one_line(tiny_models, source, message):
    line = one_line_error(edgecnn_run("--model", tiny_models["onnx"].path, "--source", source, "--headless"))
    assert message in line


def test_corrupt_video_is_one_line(tiny_models, rps_video, tmp_path):
    broken = tmp_path / "cut.mp4"
    broken.write_bytes(rps_video.read_bytes()[:1500])
    line = one_line_error(edgecnn_run("--model", tiny_models["onnx"].path, "--source", broken, "--headless"))
    assert "cut.mp4: not a readable video" in line


def test_no_model_and_none_shipped_names_the_missing_file(tmp_path):
    from edgecnn.runtime.cli import resolve_model_path
    from edgecnn.runtime.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match=r"none\.tflite is missing\); pass --model FILE"):
        resolve_model_path(None, shipped=tmp_path / "none.tflite")


def test_window_without_display_is_one_line(tiny_models, rps_video):
    # no display at all (a CI machine, SSH): what to use instead; a desktop gets the browser view (test_runtime_desktop)
    line = one_line_error(edgecnn_run("--model", tiny_models["onnx"].path, "--source", rps_video,
                                      env=desktop_env(None)))
    assert "use --headless, --save FILE or --serve HOST:PORT" in line


def test_help_lists_backends_and_defaults():
    result = subprocess.run([sys.executable, "-m", "edgecnn", "run", "--help"], capture_output=True, text=True)
    assert "{litert,tflite_runtime,onnxruntime}" in result.stdout
    assert "(default: 0)" in result.stdout


def test_light_on_dark_model_gets_an_invert_hint_from_its_sidecar(tiny_models, tmp_path, rps_frames):
    from edgecnn.runtime.contract import write_sidecar

    model = tmp_path / "fashion_like.tflite"
    model.write_bytes(tiny_models["tflite_plain"].path.read_bytes())
    write_sidecar(model, tiny_models["tflite_plain"].contract.with_format("tflite_float32",
                                                                          extra={"light_on_dark": True}))
    plain = edgecnn_run("--model", model, "--source", rps_frames[0], "--headless")
    inverted = edgecnn_run("--model", model, "--source", rps_frames[0], "--headless", "--invert")
    assert plain.returncode == inverted.returncode == 0, plain.stderr + inverted.stderr
    assert "pass --invert for ordinary dark-on-light photos" in plain.stderr
    assert "--invert" not in inverted.stderr
    assert json.loads(plain.stdout)["probabilities"] != json.loads(inverted.stdout)["probabilities"]
