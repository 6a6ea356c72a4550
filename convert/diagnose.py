"""Why an int8 TFLite export lost accuracy: the layers with the largest quantization error.

Uses TensorFlow's quantization debugger (``tf.lite.experimental.QuantizationDebugger``): it re-converts the Keras
model with numeric-verify ops after every quantized layer, runs real images through it, and compares each layer's
int8 output with its float output. Layers are ranked by RMSE divided by the layer's quantization step (scale): an
error of many steps means the calibrated range is too wide or the layer does not quantize well.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def quantization_hotspots(keras_path: Path, calibration: np.ndarray, images: np.ndarray,
                          top: int = 3) -> list[tuple[str, float]]:
    """``[(layer tensor name, rmse / scale)]`` of the ``top`` worst layers, worst first."""
    from edgecnn.convert.runner import load_keras_model

    debugger, scored = _scored(load_keras_model(keras_path), calibration, images)
    return [(_layer_name(name), score) for name, score in scored[:top]]


def hotspot_nodes(model, calibration: np.ndarray, images: np.ndarray, top: int = 3) -> list[tuple[str, float]]:
    """``[(output tensor name, rmse / scale)]`` of the ``top`` worst layers of the Keras ``model``, worst first: the
    names the quantizer's ``denylisted_nodes`` takes (the layers to keep in float)."""
    debugger, scored = _scored(model, calibration, images)
    names = [(debugger._get_operand_name_and_index(name)[0], score)  # noqa: SLF001 - the name the denylist takes
             for name, score in scored]
    return [(name, score) for name, score in names if name][:top]


def _scored(model, calibration: np.ndarray, images: np.ndarray):
    """The debugger after its run, and every numeric-verify tensor with its RMSE / scale, worst first."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _dataset(calibration)
    debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=_dataset(images))
    debugger.run()
    scored = []
    for name, stats in debugger.layer_statistics.items():
        scale = _scale_of(debugger, name)
        if scale and "mean_squared_error" in stats:
            scored.append((name, float(np.sqrt(stats["mean_squared_error"]) / scale)))
    return debugger, sorted(scored, key=lambda item: -item[1])


def _layer_name(tensor_name: str) -> str:
    """``NumericVerify/model_1/dense_1_1/MatMul;...:45`` -> ``model_1/dense_1_1/MatMul``."""
    return tensor_name.removeprefix("NumericVerify/").split(";", 1)[0].rsplit(":", 1)[0]


def _dataset(images: np.ndarray):
    def generate():
        for image in images:
            yield [image[None].astype(np.float32)]

    return generate


def _scale_of(debugger, tensor_name: str) -> float | None:
    """The quantization scale of the int8 tensor a numeric-verify op checks (its first input)."""
    interpreter = debugger._quant_interpreter  # noqa: SLF001 - the debugger exposes no public accessor for this
    for detail in interpreter.get_tensor_details():
        if detail["name"] != tensor_name:
            continue
        op_index = debugger._defining_op.get(detail["index"])  # noqa: SLF001
        if op_index is None:
            return None
        quantized_input = interpreter._get_op_details(op_index)["inputs"][0]  # noqa: SLF001
        scales = interpreter._get_tensor_details(quantized_input, 0)["quantization_parameters"]["scales"]  # noqa: SLF001
        return float(scales[0]) if len(scales) else None
    return None
