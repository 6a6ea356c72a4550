"""Quantization modes of an export, as options with named presets (``Quantization.int8(calib)``...)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

MODES = ("float32", "float16", "dynamic", "int8")
IO_DTYPES = ("float32", "uint8", "int8")
ACTIVATIONS = ("int8", "int16")


@dataclass(frozen=True)
class Quantization:
    """How the weights and activations of an export are stored."""

    mode: str = "float32"
    """``"float32"`` (none), ``"float16"`` (weights), ``"dynamic"`` (int8 weights, float activations) or
    ``"int8"`` (int8 weights and activations, calibrated)."""
    io_dtype: str = "float32"
    """Type of the input and output tensors: ``"float32"``, or ``"uint8"``/``"int8"`` for full-integer models (uint8
    takes camera pixels as-is)."""
    per_channel_dense: bool = True
    """Per-channel weight scales for dense layers. False writes FULLY_CONNECTED ops that tflite-runtime 2.14 loads."""
    calibration: np.ndarray | None = None
    """``(N, H, W, C)`` real images for ``"int8"``, in the model's value range (float32; uint8 for 0-255): the
    activation ranges are measured on them."""
    activations: str = "int8"
    """``"int8"`` or ``"int16"`` (int16 activations, int8 weights: TFLite 16x8, ONNX int16 Q/DQ; float32 io only)."""
    float_nodes: tuple[str, ...] = ()
    """Output tensor names of layers left in float (selective quantization: the debugger's hotspots)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"quantization mode must be one of {MODES}, got {self.mode!r}")
        if self.io_dtype not in IO_DTYPES:
            raise ValueError(f"io_dtype must be one of {IO_DTYPES}, got {self.io_dtype!r}")
        if self.io_dtype != "float32" and self.mode != "int8":
            raise ValueError(f"integer input/output needs mode 'int8', got {self.mode!r}")
        if self.activations not in ACTIVATIONS:
            raise ValueError(f"activations must be one of {ACTIVATIONS}, got {self.activations!r}")
        if self.activations == "int16" and self.io_dtype != "float32":
            raise ValueError(f"int16 activations take float32 input/output, got io_dtype {self.io_dtype!r}")

    @property
    def needs_calibration(self) -> bool:
        return self.mode == "int8"

    def with_calibration(self, images: np.ndarray) -> Quantization:
        return replace(self, calibration=images)

    def describe(self) -> dict:
        """JSON-friendly summary for the contract's ``extra`` (no image data)."""
        summary = {"mode": self.mode, "io_dtype": self.io_dtype, "per_channel_dense": self.per_channel_dense}
        if self.calibration is not None:
            summary["calibration_images"] = int(len(self.calibration))
        if self.activations != "int8":
            summary["activations"] = self.activations
        if self.float_nodes:
            summary["float_nodes"] = list(self.float_nodes)
        return summary

    @classmethod
    def float32(cls) -> Quantization:
        return cls("float32")

    @classmethod
    def float16(cls) -> Quantization:
        return cls("float16")

    @classmethod
    def dynamic(cls, compat: bool = False) -> Quantization:
        """``compat=True``: per-tensor dense weights, loadable by tflite-runtime 2.14 (FULLY_CONNECTED v12 is not)."""
        return cls("dynamic", per_channel_dense=not compat)

    @classmethod
    def int8(cls, calibration: np.ndarray | None = None, io_dtype: str = "float32") -> Quantization:
        return cls("int8", io_dtype=io_dtype, calibration=calibration)
