"""The export format registry: every ``convert/format_<name>.py`` registers one :class:`ExportFormat`.

Adding a format or a quantization mode is one module; ``edgecnn convert --formats``' choices, verify's parity
checks and the tests that parametrize over :func:`format_names` pick it up with no other edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from edgecnn.convert.errors import ConversionError
from edgecnn.convert.quantization import Quantization
from edgecnn.data.artifact import export_file_name, export_suffix

MODULE_PREFIX = "format_"


@dataclass(frozen=True)
class Tolerance:
    """How far an export may drift from the Keras model on real images before verify fails it."""

    max_abs_diff: float | None = None
    """Largest allowed absolute difference of any probability; None: not checked (quantized formats)."""
    min_agreement: float = 0.99
    """Smallest allowed fraction of images whose top-1 class equals Keras's."""
    max_accuracy_drop: float = 1.0
    """Largest allowed drop of accuracy against the true labels, in percentage points."""
    max_class_accuracy_drop: float | None = 5.0
    """Largest allowed accuracy drop of any one class against Keras, in percentage points; None: not checked."""
    min_class_agreement: float | None = 0.90
    """Smallest allowed top-1 agreement with Keras on the images of any one class (fraction); None: not checked."""
    min_class_images: int = 20
    """Classes with fewer verify images are reported, not gated: one flipped image would move them 5+ points."""
    max_regression: float = 0.5
    """``--baseline``: largest allowed fall of overall agreement or accuracy below the baseline's, in points."""
    max_class_regression: float = 2.0
    """``--baseline``: largest allowed fall of any class's agreement or accuracy below the baseline's, in points."""


@dataclass(frozen=True)
class ExportResult:
    """What an exporter tells the contract about the file it wrote."""

    details: dict[str, Any]
    """Format details recorded in the contract's ``extra["export"]`` (opset, converter version...)."""


@dataclass(frozen=True)
class ExportFormat:
    """One registered export: a file name, a converter with its quantization, and the parity it must keep."""

    name: str
    """Registry key, equal to the module name without ``format_`` (``tflite_int8``...)."""
    summary: str
    """One line for ``--help`` and reports."""
    suffix: str
    """``".tflite"`` or ``".onnx"``."""
    quantization: Quantization
    """Quantization preset (calibration images are added when converting)."""
    tolerance: Tolerance
    """Parity tolerance against the Keras model."""
    export: Callable[[Any, Path, Quantization], ExportResult]
    """``export(keras_model, out_path, quantization) -> ExportResult``: writes the model file (no contract)."""
    runs_on: tuple[str, ...]
    """Interpreters expected to run it (runtime backend names); verify checks every one anyway."""
    remedies: tuple[str, ...] = ()
    """What verify tries, in this order, when the export fails its tolerance (:data:`edgecnn.convert.repair.REMEDIES`
    names); empty: no repair."""

    @property
    def file_name(self) -> str:
        """``model_<name><suffix>``, written beside ``model.keras`` (the rule lives in :mod:`edgecnn.data.artifact`)."""
        return export_file_name(self.name)


_REGISTRY: dict[str, ExportFormat] = {}


def register_format(fmt: ExportFormat) -> ExportFormat:
    if export_suffix(fmt.name) != fmt.suffix:
        raise ConversionError(f"export format {fmt.name!r} declares suffix {fmt.suffix!r}, but its name's kind "
                              f"means {export_suffix(fmt.name)!r} (edgecnn.data.artifact.EXPORT_SUFFIXES)")
    _REGISTRY[fmt.name] = fmt
    return fmt


def _load_all() -> None:
    from edgecnn import convert as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith(MODULE_PREFIX):
            importlib.import_module(f"{package.__name__}.{info.name}")


def format_names() -> list[str]:
    """Registered format names, in the order ``convert`` writes them (TFLite first, then ONNX; by module name)."""
    from edgecnn import convert as package

    names = [info.name[len(MODULE_PREFIX):] for info in pkgutil.iter_modules(package.__path__)
             if info.name.startswith(MODULE_PREFIX)]
    return sorted(names, key=lambda name: (not name.startswith("tflite"), _ORDER.get(name, 99), name))


def get_format(name: str) -> ExportFormat:
    if name not in format_names():
        raise ConversionError(f"unknown export format {name!r}; choose from: {', '.join(format_names())}")
    if name not in _REGISTRY:
        _load_all()
    return _REGISTRY[name]


# Cheapest and most exact first, so a user watching the progress sees the float exports land early.
_ORDER = {"tflite_float32": 0, "tflite_float16": 1, "tflite_dynamic": 2, "tflite_dynamic_compat": 3,
          "tflite_int8": 4, "tflite_int8_uint8io": 5, "onnx_float32": 6, "onnx_int8": 7}
