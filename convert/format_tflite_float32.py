"""Export format ``tflite_float32``: TFLite, float32 weights and activations."""

from edgecnn.convert.formats import ExportFormat, Tolerance, register_format
from edgecnn.convert.quantization import Quantization
from edgecnn.convert.tflite_export import export_tflite

FORMAT = register_format(ExportFormat(
    name="tflite_float32",
    summary="TFLite, float32 weights and activations",
    suffix=".tflite",
    quantization=Quantization.float32(),
    tolerance=Tolerance(max_abs_diff=1e-5, min_agreement=1.0, max_accuracy_drop=0.0, max_class_accuracy_drop=0.0,
                        min_class_agreement=1.0, max_regression=0.0, max_class_regression=0.0),
    export=export_tflite,
    runs_on=("litert", "tflite_runtime"),
))
