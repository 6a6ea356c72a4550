"""Real tiny models in every format and backend classify real images like Keras does."""

from __future__ import annotations

import numpy as np
import pytest
from runtime_fixtures import keras_labels

from edgecnn.runtime.backends import backend_names, installed_backends, open_backend
from edgecnn.runtime.classifier import Classifier
from edgecnn.runtime.contract import METADATA_KEY, ModelContract, sidecar_path, write_sidecar
from edgecnn.runtime.errors import ContractError, InputShapeError, ModelLoadError
from edgecnn.runtime.images import load_for_model, read_image_rgb
from edgecnn.runtime.model_file import read_contract, read_embedded_contract
from edgecnn.runtime.tflite_metadata import read_metadata

FORMATS = ("tflite_float32", "tflite_int8", "onnx", "tflite_sigmoid")


def _backends_for(path) -> list[str]:
    suffix = path.suffix
    return [name for name in installed_backends() if (suffix == ".onnx") == (name == "onnxruntime")]


def _cases(tiny_models):
    return [(fmt, backend) for fmt in FORMATS for backend in _backends_for(tiny_models[fmt].path)]


def test_registry_lists_every_backend():
    assert backend_names() == ["litert", "tflite_runtime", "onnxruntime"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_contract_is_embedded_and_read_back(tiny_models, fmt):
    model = tiny_models[fmt]
    assert read_embedded_contract(model.path) == model.contract
    sidecar_path(model.path).rename(model.path.with_name("moved.json"))
    try:
        assert read_contract(model.path) == model.contract  # from inside the file alone
    finally:
        model.path.with_name("moved.json").rename(sidecar_path(model.path))


def test_tflite_metadata_reader_matches_the_embedded_json(tiny_models):
    entries = read_metadata(tiny_models["tflite_int8"].path)
    assert ModelContract.from_json(entries[METADATA_KEY]) == tiny_models["tflite_int8"].contract
    # The converter's own entry is there too: the reader walks every metadata entry, not just ours.
    assert "min_runtime_version" in entries


def test_sidecar_is_used_when_nothing_is_embedded(tiny_models, tmp_path):
    model = tiny_models["tflite_plain"]
    plain = tmp_path / "plain.tflite"
    plain.write_bytes(model.path.read_bytes())
    assert read_embedded_contract(plain) is None
    with pytest.raises(ContractError, match="plain.tflite: no model contract .* pass --labels, --input-size"):
        read_contract(plain)
    write_sidecar(plain, model.contract)
    assert read_contract(plain) == model.contract


@pytest.mark.parametrize("fmt", FORMATS)
def test_classify_matches_keras_on_real_images(tiny_models, fmt, shared_data):
    from runtime_fixtures import RPS_SIZE, class_images

    model = tiny_models[fmt]
    root = shared_data / ("horses-or-humans" if fmt == "tflite_sigmoid" else "rps-real-pi") / "validation"
    paths, _, _ = class_images(root, per_class=6)
    size = model.contract.input_size if fmt == "tflite_sigmoid" else RPS_SIZE
    pixels = np.stack([load_for_model(p, size) for p in paths])
    expected = keras_labels(model, pixels)
    assert len(set(expected)) > 1, "the tiny model should not predict one class for everything"
    for backend in _backends_for(model.path):
        classifier = Classifier.open(model.path, backend=backend, threads=1)
        probabilities = classifier.predict(pixels)
        assert probabilities.shape == (len(paths), len(model.contract.labels))
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=0.02)
        labels = [model.contract.labels[i] for i in probabilities.argmax(axis=1)]
        agreement = np.mean([a == b for a, b in zip(labels, expected)])
        # int8 may flip a near-tie; float exports must agree exactly.
        assert agreement >= (0.9 if fmt == "tflite_int8" else 1.0), (backend, labels, expected)
        frame = classifier.classify(read_image_rgb(paths[0]))
        assert frame.label == labels[0] and frame.latency_ms > 0


def test_uint8_input_with_unit_scale_passes_pixels_straight(tiny_models, shared_data):
    """The tiny int8 model, calibrated on 0-255 pixels, takes uint8 with scale 1 and zero point 0: the interpreter
    is handed the photo's very pixels, and the probabilities are those of LiteRT fed those pixels by hand."""
    from ai_edge_litert.interpreter import Interpreter
    from runtime_fixtures import RPS_SIZE, class_images

    from edgecnn.runtime.preprocess import passes_pixels_through

    model = tiny_models["tflite_int8"]
    classifier = Classifier.open(model.path, threads=1)
    spec = classifier.backend.input
    assert spec.dtype == np.uint8 and spec.scale == pytest.approx(1.0) and spec.zero_point == 0
    assert classifier.contract.value_range == (0.0, 255.0) and passes_pixels_through(classifier.contract, spec)
    paths, _, _ = class_images(shared_data / "rps-real-pi" / "validation", per_class=2)
    pixels = np.stack([load_for_model(p, RPS_SIZE) for p in paths])
    handed = []
    invoke = classifier.backend.invoke
    classifier.backend.invoke = lambda batch: handed.append(batch.copy()) or invoke(batch)
    probabilities = classifier.predict(pixels)
    np.testing.assert_array_equal(np.concatenate(handed), pixels)  # same dtype, same values: no scaling at all
    reference = Interpreter(model_path=str(model.path), num_threads=1)  # LiteRT itself, no edgecnn in between
    reference.allocate_tensors()
    (inp,), (out,) = reference.get_input_details(), reference.get_output_details()
    out_scale, out_zero = out["quantization"]
    for row, image in zip(probabilities, pixels):
        reference.set_tensor(inp["index"], image[None])
        reference.invoke()
        raw = reference.get_tensor(out["index"])[0].astype(np.float32)
        np.testing.assert_allclose(row, (raw - out_zero) * out_scale, atol=1e-6)


@pytest.mark.parametrize("value_range, dtype, scale, zero_point, expected, straight", [
    ((0.0, 255.0), np.uint8, 1.0, 0, [0, 100, 200, 255], True),
    ((0.0, 1.0), np.uint8, 1.0, 0, [0, 0, 1, 1], False),               # a 0-1 model: 100/255 -> 0, 200/255 -> 1
    ((0.0, 1.0), np.uint8, 1 / 255, 0, [0, 100, 200, 255], False),     # the same values, through the scaling
    ((0.0, 255.0), np.int8, 1.0, -128, [-128, -28, 72, 127], False),   # int8: shifted by the zero point
    ((0.0, 255.0), np.uint8, 0.5, 0, [0, 200, 255, 255], False),       # a finer step: 400 and 510 clipped to 255
    ((-1.0, 1.0), np.int8, 1 / 128, 0, [-128, -28, 73, 127], False),   # 100 -> -0.216 -> -27.6; 255 -> 128, clipped
])
def test_pixels_reach_the_interpreter_as_the_input_tensor_declares(value_range, dtype, scale, zero_point, expected,
                                                                    straight):
    """What the interpreter is handed for pixels 0, 100, 200, 255, worked out by hand for each input declaration;
    only uint8 at scale 1, zero point 0 for a 0-255 model passes the pixels through untouched."""
    from edgecnn.runtime.backends import TensorSpec
    from edgecnn.runtime.preprocess import passes_pixels_through, pixels_to_tensor

    contract = ModelContract("m", ("a", "b"), (1, 4), value_range=value_range)
    spec = TensorSpec("x", (1, 1, 4, 3), np.dtype(dtype), scale=scale, zero_point=zero_point)
    pixels = np.array([0, 100, 200, 255], np.uint8).reshape(1, 1, 4, 1).repeat(3, axis=3)
    tensor = pixels_to_tensor(pixels, contract, spec)
    assert tensor.dtype == dtype and tensor[..., 0].ravel().tolist() == expected
    assert passes_pixels_through(contract, spec) is straight


def test_wrong_pixel_shape_names_the_file_and_the_shape(tiny_models):
    classifier = Classifier.open(tiny_models["tflite_float32"].path, threads=1)
    with pytest.raises(InputShapeError, match=r"rps_tflite_float32.tflite: expected a batch of shape \(N, 32, 32, 3\)"):
        classifier.predict(np.zeros((1, 64, 64, 3), np.uint8))


def test_contract_that_disagrees_with_the_model_is_refused(tiny_models):
    model = tiny_models["tflite_float32"]
    wrong = model.contract.with_format("tflite_float32", input_size=(64, 64))
    with pytest.raises(InputShapeError, match=r"takes input \(N, 32, 32, 3\) but .* say \(N, 64, 64, 3\)"):
        Classifier.open(model.path, contract=wrong)
    fewer = model.contract.with_format("tflite_float32", labels=("a", "b"))
    with pytest.raises(ContractError, match="gives 3 output values"):
        Classifier.open(model.path, contract=fewer)


@pytest.mark.parametrize("content", [b"", b"garbage" * 3, b"\x10\x00\x00\x00TFL3" + b"\xff" * 40])
@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
def test_broken_model_files_raise_model_load_error(tmp_path, content, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match="broken"):
        open_backend(path, threads=1)


def test_truncated_tflite_is_a_one_line_error(tiny_models, tmp_path):
    data = tiny_models["tflite_int8"].path.read_bytes()
    # Cut through the weights: the pure-Python probe catches it before the C++ interpreter sees the file.
    path = tmp_path / "truncated.tflite"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ModelLoadError, match="truncated.tflite: not a valid .tflite model .*beyond the end"):
        open_backend(path, threads=1)
    # Cut through the trailing tables the probe does not walk: the interpreter's verifier refuses it, still one line.
    for cut in range(len(data) - 120, len(data), 7):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelLoadError, match="truncated.tflite: ") as err:
            open_backend(path, threads=1)
        assert "\n" not in str(err.value)


def test_unknown_suffix_and_backend_are_one_line_errors(tiny_models, tmp_path):
    path = tmp_path / "model.pb"
    path.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match=r"unknown model file type '.pb'; expected one of .onnx, .tflite"):
        open_backend(path)
    with pytest.raises(ModelLoadError, match="backend 'onnxruntime' runs .onnx files"):
        open_backend(tiny_models["tflite_float32"].path, name="onnxruntime")
