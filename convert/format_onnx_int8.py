"""Export format ``onnx_int8``.

ONNX static QDQ int8, per-channel weights, calibrated on real images; float32 input and output.
"""

from edgecnn.convert.formats import ExportFormat, Tolerance, register_format
from edgecnn.convert.onnx_export import export_onnx_int8
from edgecnn.convert.quantization import Quantization

FORMAT = register_format(ExportFormat(
    name="onnx_int8",
    summary="ONNX static QDQ int8, per-channel weights, calibrated on real images; float32 input and output",
    suffix=".onnx",
    quantization=Quantization.int8(),
    tolerance=Tolerance(min_agreement=0.99, max_accuracy_drop=1.0),
    export=export_onnx_int8,
    runs_on=("onnxruntime",),
    remedies=("more_calibration", "int16_activations"),
))
