"""Export format ``tflite_int8``: TFLite full integer (int8 weights and activations), float32 input and output."""

from edgecnn.convert.formats import ExportFormat, Tolerance, register_format
from edgecnn.convert.quantization import Quantization
from edgecnn.convert.tflite_export import export_tflite

FORMAT = register_format(ExportFormat(
    name="tflite_int8",
    summary="TFLite full integer (int8 weights and activations), float32 input and output",
    suffix=".tflite",
    quantization=Quantization.int8(),
    tolerance=Tolerance(min_agreement=0.99, max_accuracy_drop=1.0),
    export=export_tflite,
    runs_on=("litert", "tflite_runtime"),
    remedies=("more_calibration", "float_hotspots", "int16_activations"),
))
