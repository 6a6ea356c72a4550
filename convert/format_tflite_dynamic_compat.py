"""Export format ``tflite_dynamic_compat``.

TFLite dynamic range with per-tensor dense weights: loads in tflite-runtime 2.14.
"""

from edgecnn.convert.formats import ExportFormat, Tolerance, register_format
from edgecnn.convert.quantization import Quantization
from edgecnn.convert.tflite_export import export_tflite

FORMAT = register_format(ExportFormat(
    name="tflite_dynamic_compat",
    summary="TFLite dynamic range with per-tensor dense weights: loads in tflite-runtime 2.14",
    suffix=".tflite",
    quantization=Quantization.dynamic(compat=True),
    tolerance=Tolerance(min_agreement=0.99, max_accuracy_drop=1.0),
    export=export_tflite,
    runs_on=("litert", "tflite_runtime"),
))
