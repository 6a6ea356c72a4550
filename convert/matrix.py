"""The compatibility matrix's tflite-runtime 2.14 column: each .tflite export run in that separate environment.

The input tensors are the ones the runtime's preprocessing made for ai-edge-litert (same file, same tensor types), and
the raw outputs are turned into probabilities by the runtime's own ``output_to_probabilities``; a cell is ``ok`` when
the model loads and keeps its format's tolerance against Keras.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.convert.parity import compare
from edgecnn.convert.tflite214 import find_python, run_models

PRIMARY = {".tflite": "litert", ".onnx": "onnxruntime"}
"""The interpreter each export suffix is verified in first (its parity is the format's verdict)."""
TFLITE214 = "tflite_runtime 2.14"
"""The matrix column of the separate tflite-runtime 2.14 environment."""
INTERPRETERS = ("litert", TFLITE214, "onnxruntime")
"""The matrix's columns, in order."""


def fill_tflite214(reports: list, prepared: dict[str, tuple], reference: np.ndarray, truth: np.ndarray,
                   python: Path | None, versions: dict[str, str]) -> None:
    """Sets ``report.matrix["tflite_runtime 2.14"]`` for every TFLite report (``prepared``: name -> inputs)."""
    tflite_reports = [report for report in reports if report.file.endswith(".tflite")]
    python = find_python(python)
    if python is None:
        for report in tflite_reports:
            report.matrix[TFLITE214] = ("not checked (no tflite-runtime 2.14 environment: run "
                                        "scripts/make-tflite214-env.sh or pass --tflite214-python)")
        return
    batches = {Path(report.file): prepared[report.format][0] for report in tflite_reports if report.format in prepared}
    if not batches:
        return
    version, results = run_models(python, batches)
    versions[TFLITE214] = version
    for report in tflite_reports:
        if report.format not in prepared:
            report.matrix[TFLITE214] = "not checked (litert could not run it)"
            continue
        result = results[Path(report.file)]
        if not result.ok:
            report.matrix[TFLITE214] = f"FAIL: {result.error}"
            continue
        report.matrix[TFLITE214] = _cell(report, prepared[report.format], result.outputs, reference, truth)


def _cell(report, prepared: tuple, outputs: np.ndarray, reference: np.ndarray, truth: np.ndarray) -> str:
    from edgecnn.runtime.preprocess import output_to_probabilities

    _, output_spec, contract = prepared
    probabilities = output_to_probabilities(outputs, contract, output_spec, check=False)  # compare() reports
    parity = compare(reference, probabilities, truth, contract.labels, report.tolerance)
    return "ok" if parity.passed else f"FAIL: {'; '.join(parity.reasons)}"
