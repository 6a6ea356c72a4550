"""Export format ``tflite_int8_uint8io``.

TFLite full integer with uint8 input (camera pixels as-is) and uint8 output.
"""

from edgecnn.convert.formats import ExportFormat, Tolerance, register_format
from edgecnn.convert.quantization import Quantization
from edgecnn.convert.tflite_export import export_tflite

FORMAT = register_format(ExportFormat(
    name="tflite_int8_uint8io",
    summary="TFLite full integer with uint8 input (camera pixels as-is) and uint8 output",
    suffix=".tflite",
    quantization=Quantization.int8(io_dtype="uint8"),
    tolerance=Tolerance(min_agreement=0.99, max_accuracy_drop=1.0),
    export=export_tflite,
    runs_on=("litert", "tflite_runtime"),
    remedies=("more_calibration", "float_hotspots"),
))
