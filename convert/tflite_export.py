"""TFLite conversion shared by the ``format_tflite_*`` modules: one converter, configured by a Quantization.

Keras 3 pitfalls handled here: ``TFLiteConverter.from_keras_model`` on a Keras 3 model goes through
``model.export()`` internally, which works in TF 2.21; the input keeps an open batch dimension (``shape_signature``
-1) so the runtime can feed batches. Integer input/output types need the full-integer op set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.convert.errors import ConversionError
from edgecnn.convert.formats import ExportResult
from edgecnn.convert.quantization import Quantization
from edgecnn.runtime.atomic import write_bytes_atomic


def export_tflite(model: Any, out_path: Path, quantization: Quantization) -> ExportResult:
    """Converts the Keras ``model`` and writes ``out_path`` atomically."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    _configure(converter, quantization, tf)
    try:
        flatbuffer = _selective(converter, quantization, tf) if quantization.float_nodes else converter.convert()
    except Exception as err:  # noqa: BLE001 - the converter raises ConverterError, RuntimeError, ValueError...
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConversionError(f"{out_path.name}: TFLite conversion failed ({message})") from None
    write_bytes_atomic(out_path, flatbuffer)
    return ExportResult(details={"converter": f"tensorflow {tf.__version__}", **quantization.describe()})


def _configure(converter: Any, quantization: Quantization, tf: Any) -> None:
    if quantization.mode == "float32":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization.mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization.mode == "dynamic":
        converter._experimental_disable_per_channel_quantization_for_dense_layers = not quantization.per_channel_dense
    elif quantization.mode == "int8":
        if quantization.calibration is None or not len(quantization.calibration):
            raise ConversionError("int8 quantization needs calibration images (none were given)")
        converter.representative_dataset = _representative_dataset(quantization.calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if quantization.activations == "int16":
            ops = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
            converter.target_spec.supported_ops = [ops]
        converter._experimental_disable_per_channel_quantization_for_dense_layers = not quantization.per_channel_dense
        io_type = {"float32": tf.float32, "uint8": tf.uint8, "int8": tf.int8}[quantization.io_dtype]
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type


def _selective(converter: Any, quantization: Quantization, tf: Any) -> bytes:
    """Int8 with the layers ``quantization.float_nodes`` names left in float.

    The same two steps ``converter.convert()`` takes for int8 (calibrate, then the MLIR quantizer), with the
    quantizer's node denylist - what ``tf.lite.experimental.QuantizationDebugger`` uses for selective quantization,
    called here directly so the format's integer input/output types are kept (the debugger's model is float-io).
    """
    from tensorflow.lite.python.convert import mlir_quantize

    converter._experimental_calibrate_only = True  # noqa: SLF001 - TF's documented route to a calibrated model
    calibrated = converter.convert()
    io_type = converter.inference_input_type
    return mlir_quantize(calibrated, converter._experimental_disable_per_channel,  # noqa: SLF001
                         input_data_type=io_type, output_data_type=converter.inference_output_type,
                         disable_per_channel_for_dense_layers=not quantization.per_channel_dense,
                         denylisted_nodes=list(quantization.float_nodes))


def _representative_dataset(images: np.ndarray):
    def generate():
        for image in images:
            yield [image[None].astype(np.float32)]

    return generate


def tensor_quantization(path: Path) -> tuple[dict | None, dict | None]:
    """``(input, output)`` quantization of an integer-io ``.tflite`` as ``{"dtype", "scale", "zero_point"}``."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    return (_quant(interpreter.get_input_details()[0]), _quant(interpreter.get_output_details()[0]))


def _quant(details: dict) -> dict | None:
    dtype = np.dtype(details["dtype"])
    if dtype.kind not in "iu":
        return None
    scale, zero_point = details["quantization"]
    return {"dtype": dtype.name, "scale": float(scale), "zero_point": int(zero_point)}
