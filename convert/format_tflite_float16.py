"""Export format ``tflite_float16``: TFLite, float16 weights (half the size), float32 compute."""

from edgecnn.convert.formats import ExportFormat, Tolerance, register_format
from edgecnn.convert.quantization import Quantization
from edgecnn.convert.tflite_export import export_tflite

FORMAT = register_format(ExportFormat(
    name="tflite_float16",
    summary="TFLite, float16 weights (half the size), float32 compute",
    suffix=".tflite",
    quantization=Quantization.float16(),
    tolerance=Tolerance(max_abs_diff=2e-3, min_agreement=0.99, max_accuracy_drop=1.0),
    export=export_tflite,
    runs_on=("litert", "tflite_runtime"),
))
