"""ONNX conversion shared by the ``format_onnx_*`` modules.

Keras 3 pitfalls handled here (measured on TF 2.21, Keras 3.15, tf2onnx 1.17, onnxruntime 1.32):
``tf2onnx.convert.from_keras`` fails on every Keras 3 Sequential model (``KeyError: 'keras_tensor_N'``), so the
model is wrapped in a ``tf.function`` with an explicit input signature and converted with ``from_function``.
onnxruntime's *dynamic* int8 quantization writes ConvInteger kernels 5-7x slower than float32 on x86, so int8 is
*static* QDQ, per-channel, calibrated on the same real images as TFLite; ``quant_pre_process`` runs with
``skip_symbolic_shape=True`` because symbolic shape inference needs sympy, which is not a dependency.
Weights use ``reduce_range`` (7 bits): on x86 CPUs without VNNI (AVX2 only, like CI) onnxruntime's u8s8 kernels
saturate with full 8-bit weights - measured max probability error 0.23 and 95% top-1 agreement on cats_dogs_cnn,
against 0.013 and 100% with reduce_range.
tf2onnx deep-copies the whole graph, weights included, before each of its ONNX optimizers, and the copies it drops
hold reference cycles that only a full garbage collection frees; Python collects by object count, not bytes, so they
pile up. Measured on inception_transfer (181 MB of weights): 14.6 GB peak RSS for ``from_function`` as is, 4.6 GB
with a full collection every half second while it runs (``benchmarks/bench_convert.py --model inception_transfer``).
"""

from __future__ import annotations

import gc
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.convert.errors import ConversionError
from edgecnn.convert.formats import ExportResult
from edgecnn.convert.quantization import Quantization
from edgecnn.runtime.atomic import atomic_path

# The newest opset tf2onnx 1.17 writes is 18; 17 is what onnxruntime >= 1.13 (any Pi wheel in use) runs, and has
# per-channel QuantizeLinear/DequantizeLinear (>= 13).
OPSET = 17
INPUT_NAME = "image"


def keras_to_onnx(model: Any):
    """The Keras model as an ONNX ``ModelProto`` (input ``image``, open batch dimension)."""
    import tensorflow as tf
    import tf2onnx

    shape = (None, *model.input_shape[1:])
    signature = (tf.TensorSpec(shape, tf.float32, name=INPUT_NAME),)
    function = tf.function(lambda image: model(image, training=False))
    try:
        with collecting_garbage():
            proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET)
    except Exception as err:  # noqa: BLE001 - tf2onnx raises many types for unsupported graphs
        raise ConversionError(f"tf2onnx could not convert {model.name!r} ({type(err).__name__}: {err})") from None
    return proto


@contextmanager
def collecting_garbage(interval_s: float = 0.5):
    """Runs a full garbage collection every ``interval_s`` seconds while the block runs (see the module note)."""
    stop = threading.Event()

    def collect() -> None:
        while not stop.wait(interval_s):
            gc.collect()

    collector = threading.Thread(target=collect, name="edgecnn-gc", daemon=True)
    collector.start()
    try:
        yield
    finally:
        stop.set()
        collector.join()
        gc.collect()


def export_onnx_float32(model: Any, out_path: Path, quantization: Quantization) -> ExportResult:
    import onnx
    import tf2onnx

    proto = keras_to_onnx(model)
    with atomic_path(out_path) as tmp:
        onnx.save(proto, str(tmp))
    return ExportResult(details={"converter": f"tf2onnx {tf2onnx.__version__}", "opset": OPSET,
                                 **quantization.describe()})


def export_onnx_int8(model: Any, out_path: Path, quantization: Quantization) -> ExportResult:
    """Static QDQ int8 (per-channel weights, int8 activations) with float32 input and output."""
    import onnx
    import onnxruntime
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if quantization.calibration is None or not len(quantization.calibration):
        raise ConversionError(f"{out_path.name}: int8 quantization needs calibration images (none were given)")
    with tempfile.TemporaryDirectory(prefix="edgecnn-onnx-") as scratch:
        float_path, prepared_path = Path(scratch, "float.onnx"), Path(scratch, "prepared.onnx")
        onnx.save(keras_to_onnx(model), str(float_path))
        quant_pre_process(str(float_path), str(prepared_path), skip_symbolic_shape=True)
        with atomic_path(out_path) as tmp:
            # int16 activations (a repair remedy) need onnxruntime's com.microsoft Q/DQ ops: opset 17's are 8-bit only.
            wide = quantization.activations == "int16"
            quantize_static(str(prepared_path), str(tmp), _Calibration(quantization.calibration),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QInt16 if wide else QuantType.QInt8,
                            weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                            reduce_range=True, extra_options={"UseQDQContribOps": True} if wide else {})
    return ExportResult(details={"converter": f"tf2onnx + onnxruntime.quantization {onnxruntime.__version__}",
                                 "opset": OPSET, "onnx_quant_format": "QDQ", "per_channel": True, "reduce_range": True,
                                 **quantization.describe()})


class _Calibration:
    """onnxruntime's CalibrationDataReader protocol: one ``{input name: (1, H, W, C) float32}`` per call."""

    def __init__(self, images: np.ndarray):
        self._images = iter(images)

    def get_next(self) -> dict | None:
        image = next(self._images, None)
        return None if image is None else {INPUT_NAME: image[None].astype(np.float32)}
