"""The contract goes inside .tflite and .onnx files and the models still run, with identical outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgecnn.convert.embed import add_tflite_metadata, embed_contract
from edgecnn.convert.errors import ConversionError
from edgecnn.runtime.contract import METADATA_KEY, ModelContract, read_sidecar, sidecar_path


@pytest.fixture(scope="module")
def keras_model(sigmoid_artifact):
    import keras

    return keras.saving.load_model(sigmoid_artifact / "model.keras", compile=False)


@pytest.fixture(scope="module")
def contract(sigmoid_artifact) -> ModelContract:
    return read_sidecar(sigmoid_artifact / "model.keras").with_format("tflite_float32", source_sha256="ab" * 32)


@pytest.fixture(scope="module")
def pixels(real_pixels):
    return real_pixels("horses-or-humans", "validation", 3, (64, 64)).astype(np.float32)


def _run_tflite(model_bytes: bytes, batch: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    outputs = []
    for image in batch:
        interpreter = Interpreter(model_content=model_bytes)
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0])
    return np.stack(outputs)


def _run_onnx(path, batch: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: batch})[0]


def test_tflite_metadata_added_replaced_and_model_still_runs(keras_model, pixels, tmp_path, contract):
    import tensorflow as tf

    from edgecnn.runtime.tflite_metadata import read_metadata

    plain = tf.lite.TFLiteConverter.from_keras_model(keras_model).convert()
    once = add_tflite_metadata(plain, METADATA_KEY, b'{"first": 1}')
    twice = add_tflite_metadata(once, METADATA_KEY, contract.to_json().encode())
    metadata = read_metadata(twice)
    assert ModelContract.from_json(metadata[METADATA_KEY]) == contract
    assert "min_runtime_version" in metadata, "the converter's own metadata entries must survive"
    np.testing.assert_array_equal(_run_tflite(plain, pixels), _run_tflite(twice, pixels))
    np.testing.assert_allclose(_run_tflite(twice, pixels), keras_model.predict(pixels, verbose=0), atol=1e-5)


def test_embed_contract_tflite_writes_file_and_sidecar(keras_model, tmp_path, contract):
    import tensorflow as tf

    from edgecnn.runtime.tflite_metadata import read_metadata

    path = tmp_path / "model_float32.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(keras_model).convert())
    assert embed_contract(path, contract) == sidecar_path(path)
    assert ModelContract.from_json(read_metadata(path)[METADATA_KEY]) == contract
    assert read_sidecar(path) == contract
    assert not list(tmp_path.glob(".*.tmp")), "atomic writes leave no temporary files"


def test_embed_contract_onnx_keeps_outputs(keras_model, pixels, tmp_path, contract):
    import onnx
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, 64, 64, 3), tf.float32, name="image"),)
    proto, _ = tf2onnx.convert.from_function(tf.function(lambda x: keras_model(x)), input_signature=spec, opset=17)
    path = tmp_path / "model.onnx"
    onnx.save(proto, str(path))
    before = _run_onnx(path, pixels)
    onnx_contract = contract.with_format("onnx_float32")
    embed_contract(path, onnx_contract)
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props[METADATA_KEY])["format"] == "onnx_float32"
    assert ModelContract.from_json(props[METADATA_KEY]) == onnx_contract
    np.testing.assert_array_equal(before, _run_onnx(path, pixels))


def test_not_a_tflite_file_is_one_line_error(tmp_path, contract):
    path = tmp_path / "broken.tflite"
    path.write_bytes(b"this is not a flatbuffer at all")
    with pytest.raises(ConversionError, match=r"broken\.tflite: not a TFLite flatbuffer") as err:
        embed_contract(path, contract)
    assert "\n" not in str(err.value)
    assert path.read_bytes() == b"this is not a flatbuffer at all"
    assert not sidecar_path(path).exists()
