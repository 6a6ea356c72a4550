"""Fixtures of the runtime tests: tiny real models in every export format, and real videos/folders made from real
RPS images in ../shared/data.

Built once per session: a tiny softmax CNN (32x32 RGB, 3 classes) trained a few epochs on rps-real-pi, exported to
TFLite float32, TFLite int8 with uint8 input/output (calibrated on real images) and ONNX (tf2onnx from a
tf.function with an explicit input signature; ``from_keras`` fails on Keras 3); plus a tiny sigmoid model
(24x24, horses-or-humans) to test the [1-p, p] expansion. Contracts are embedded and written as sidecars.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgecnn.runtime.contract import ModelContract, TensorQuantization
from edgecnn.runtime.images import is_image_file, load_for_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[2]
EDGECNN = REPO / ".venv" / "bin" / "edgecnn"
RPS_SIZE = (32, 32)
SIGMOID_SIZE = (24, 24)


@dataclass(frozen=True)
class TinyModel:
    """One exported tiny model and the Keras model it came from."""

    path: Path
    keras_model: object
    contract: ModelContract


def class_images(root: Path, per_class: int, skip: int = 0) -> tuple[list[Path], list[int], tuple[str, ...]]:
    labels = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    paths, indices = [], []
    for index, label in enumerate(labels):
        files = sorted(p for p in (root / label).iterdir() if is_image_file(p))[skip:skip + per_class]
        paths += files
        indices += [index] * len(files)
    return paths, indices, labels


def _tiny_cnn(input_shape, units: int, activation: str):
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(units, activation=activation)(x)
    model = keras.Model(inputs, outputs)
    loss = "binary_crossentropy" if activation == "sigmoid" else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
    return model


def _train(root: Path, size, units: int, activation: str):
    import keras

    keras.utils.set_random_seed(4)
    paths, indices, labels = class_images(root, per_class=40)
    pixels = np.stack([load_for_model(p, size) for p in paths])
    model = _tiny_cnn(pixels.shape[1:], units, activation)
    model.fit(pixels, np.array(indices), epochs=6, batch_size=16, verbose=0)
    return model, labels, pixels


def _to_tflite(model, calibration: np.ndarray | None) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if calibration is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([p[None].astype(np.float32)] for p in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    return converter.convert()


def _to_onnx(model, path: Path) -> None:
    import tensorflow as tf
    import tf2onnx

    spec = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="image")]
    function = tf.function(lambda x: model(x, training=False))
    tf2onnx.convert.from_function(function, input_signature=spec, opset=13, output_path=str(path))


def _quantization(path: Path, which: str) -> TensorQuantization:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    details = (interpreter.get_input_details if which == "input" else interpreter.get_output_details)()[0]
    scale, zero_point = details["quantization"]
    return TensorQuantization(np.dtype(details["dtype"]).name, float(scale), int(zero_point))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, shared_data) -> dict[str, TinyModel]:
    """``{"tflite_float32", "tflite_int8", "onnx", "tflite_sigmoid"}`` -> :class:`TinyModel` (contract embedded),
    and ``"tflite_plain"``: the float32 model with no contract at all."""
    from edgecnn.convert.embed import embed_contract

    out = tmp_path_factory.mktemp("models")
    rps, labels, calibration = _train(shared_data / "rps-real-pi" / "train", RPS_SIZE, 3, "softmax")
    base = ModelContract(model_name="tiny_rps", labels=labels, input_size=RPS_SIZE, dataset="rps-real-pi")
    models = {}
    for name, calib in (("tflite_float32", None), ("tflite_int8", calibration[::4])):
        path = out / f"rps_{name}.tflite"
        path.write_bytes(_to_tflite(rps, calib))
        if calib is None:  # a copy with no contract inside and no sidecar, as a third-party model would be
            plain = out / "plain.tflite"
            plain.write_bytes(path.read_bytes())
            models["tflite_plain"] = TinyModel(plain, rps, base.with_format(name))
        contract = base.with_format(name)
        if calib is not None:
            contract = contract.with_format(name, input_quantization=_quantization(path, "input"),
                                            output_quantization=_quantization(path, "output"))
        embed_contract(path, contract)
        models[name] = TinyModel(path, rps, contract)
    onnx_path = out / "rps.onnx"
    _to_onnx(rps, onnx_path)
    embed_contract(onnx_path, base.with_format("onnx"))
    models["onnx"] = TinyModel(onnx_path, rps, base.with_format("onnx"))

    hoh, hoh_labels, _ = _train(shared_data / "horses-or-humans" / "train", SIGMOID_SIZE, 1, "sigmoid")
    sigmoid_path = out / "hoh_sigmoid.tflite"
    sigmoid_path.write_bytes(_to_tflite(hoh, None))
    sigmoid_contract = ModelContract(model_name="tiny_hoh", labels=hoh_labels, input_size=SIGMOID_SIZE,
                                     output_activation="sigmoid", format="tflite_float32")
    embed_contract(sigmoid_path, sigmoid_contract)
    models["tflite_sigmoid"] = TinyModel(sigmoid_path, hoh, sigmoid_contract)
    return models


def keras_labels(model: TinyModel, pixels: np.ndarray) -> list[str]:
    """Keras' labels for a batch of model-sized uint8 pixels (the reference every backend must match)."""
    probabilities = np.asarray(model.keras_model.predict(pixels.astype(np.float32), verbose=0))
    if model.contract.output_activation == "sigmoid":
        return [model.contract.labels[int(p[0] > 0.5)] for p in probabilities]
    return [model.contract.labels[int(i)] for i in probabilities.argmax(axis=1)]


@pytest.fixture(scope="session")
def rps_frames(shared_data) -> list[Path]:
    """Twelve real RPS validation images (4 per class) never used for training the tiny model."""
    paths, _, _ = class_images(shared_data / "rps-real-pi" / "validation", per_class=4)
    return paths


def write_video(path: Path, images: list[Path], fourcc: str, fps: float = 10.0, size=(160, 120)) -> Path:
    """A real video file made of real images (resized to ``size`` = (width, height)), one image per frame."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} video here"
    for image in images:
        writer.write(cv2.resize(cv2.imread(str(image)), size, interpolation=cv2.INTER_AREA))
    writer.release()
    return path


@pytest.fixture(scope="session")
def rps_video(tmp_path_factory, rps_frames) -> Path:
    """An .mp4 (mp4v) of the twelve real RPS images."""
    return write_video(tmp_path_factory.mktemp("video") / "rps.mp4", rps_frames, "mp4v")


@pytest.fixture(scope="session")
def rps_avi(tmp_path_factory, rps_frames) -> Path:
    """An .avi (MJPG) of the same images."""
    return write_video(tmp_path_factory.mktemp("video") / "rps.avi", rps_frames, "MJPG")


def video_frames_rgb(path: Path) -> list[np.ndarray]:
    """Every frame of a video as OpenCV decodes it, in RGB (what the runtime's video source yields)."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


RECORD_KEYS = {"timestamp", "source", "label", "index", "confidence", "probabilities", "latency_ms"}


def edgecnn_run(*args, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """``edgecnn run ARGS`` as a user runs it; ``env`` replaces the whole environment when given."""
    return subprocess.run([str(EDGECNN), "run", *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, env=env)


def chromium(headless: bool = True):
    """Debian's chromium through chromium-driver, driven by Selenium; ``headless=False`` opens a real window on
    ``$DISPLAY`` (an Xvfb server in the tests)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    flags = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=800,600"]
    for flag in flags + (["--headless=new"] if headless else []):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


@pytest.fixture(scope="session")
def xvfb_display():
    """``":N"``: a real X server (Xvfb, Debian's ``xvfb``) for the session, as a laptop's desktop would be."""
    assert shutil.which("Xvfb"), "Xvfb is missing: install Debian's xvfb (.ci/apt-packages.txt lists it)"
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten",
                               "tcp"], pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()  # Xvfb writes its display number once it accepts connections
    try:
        assert number.isdigit(), f"Xvfb did not start (exit {server.poll()})"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def desktop_env(display: str | None, **extra: str) -> dict:
    """This environment with ``DISPLAY`` set to ``display`` (None: no display at all) and no Wayland."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    return {**env, **({"DISPLAY": display} if display else {}), **extra}


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("edgecnn run: error: ")
    return lines[0]
