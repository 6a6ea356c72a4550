"""Export format ``tflite_dynamic``.

TFLite, int8 weights with per-channel dense layers, float activations (dynamic range).
"""

from edgecnn.convert.formats import ExportFormat, Tolerance, register_format
from edgecnn.convert.quantization import Quantization
from edgecnn.convert.tflite_export import export_tflite

FORMAT = register_format(ExportFormat(
    name="tflite_dynamic",
    summary="TFLite, int8 weights with per-channel dense layers, float activations (dynamic range)",
    suffix=".tflite",
    quantization=Quantization.dynamic(),
    tolerance=Tolerance(min_agreement=0.99, max_accuracy_drop=1.0),
    export=export_tflite,
    runs_on=("litert",),
))
