"""Export format ``onnx_float32``: ONNX float32 via tf2onnx (opset 17)."""

from edgecnn.convert.formats import ExportFormat, Tolerance, register_format
from edgecnn.convert.onnx_export import export_onnx_float32
from edgecnn.convert.quantization import Quantization

FORMAT = register_format(ExportFormat(
    name="onnx_float32",
    summary="ONNX float32 via tf2onnx (opset 17)",
    suffix=".onnx",
    quantization=Quantization.float32(),
    tolerance=Tolerance(max_abs_diff=1e-5, min_agreement=1.0, max_accuracy_drop=0.0, max_class_accuracy_drop=0.0,
                        min_class_agreement=1.0, max_regression=0.0, max_class_regression=0.0),
    export=export_onnx_float32,
    runs_on=("onnxruntime",),
))
