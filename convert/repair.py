"""int8 repair: when a calibrated export fails its tolerance, verify tries the format's remedies and keeps the best.

Each format lists its remedies in order (``ExportFormat.remedies``); each remedy re-exports the format in a fresh
process (:mod:`edgecnn.convert.repair_worker`, so the converters' memory is returned), and the candidate is measured
against the same tolerance on the same images as the original; a passing candidate of the format's own recipe (only
more calibration) ends the search, as the later remedies only add float layers or wider activations. The smallest
candidate that passes replaces the export (atomically, its contract recording ``extra["export"]["repair"]``); when
none passes the original stays. Remedies:

1. ``more_calibration``: many more calibration images from the training split, drawn evenly across every class.
2. ``float_hotspots``: those images, and the layers TF's quantization debugger ranks worst (RMSE in quantization
   steps) kept in float (selective quantization, the MLIR quantizer's node denylist).
3. ``int16_activations``: those images, with 16-bit activations and int8 weights (TFLite 16x8, ONNX int16 Q/DQ
   through onnxruntime's com.microsoft ops; float input/output only).

Chosen over ``ai-edge-quantizer``'s selective recipes because that package is not installed here (not in
``edgecnn[convert]``) while the debugger ships with TensorFlow, which converting already needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edgecnn.convert.errors import ConversionError
from edgecnn.convert.formats import ExportFormat
from edgecnn.convert.quantization import Quantization
from edgecnn.errors import EdgecnnError


@dataclass(frozen=True)
class RepairOptions:
    """How hard verify tries to repair a failing int8 export."""

    calibration_count: int = 2000
    """Calibration images of the remedies (drawn evenly across the classes), instead of the export's few hundred."""
    float_layers: int = 3
    """``float_hotspots``: how many of the debugger's worst layers stay in float."""
    debug_images: int = 200
    """``float_hotspots``: calibration images the debugger measures each layer's error on."""


@dataclass(frozen=True)
class Remedy:
    """One way to re-export a format that failed its tolerance."""

    name: str
    """Registry key, listed in ``ExportFormat.remedies``."""
    summary: str
    """One line for the report."""
    applies: Callable[[ExportFormat], bool]
    """Whether it can be applied to a format (e.g. 16x8 needs float input/output)."""
    recipe: Callable[[Quantization, Any, np.ndarray, RepairOptions], tuple[Quantization, dict]]
    """``(format's quantization, Keras model, calibration, options) -> (quantization, details)``, in the worker."""
    keeps_recipe: bool = False
    """Same quantization recipe as the format, only other calibration: a passing candidate is as small as the format
    gets (the others add float layers or wider activations), so the search ends there."""


def _more_calibration(quantization, model, calibration, options):
    return quantization, {}


def _float_hotspots(quantization, model, calibration, options):
    from edgecnn.convert.diagnose import hotspot_nodes

    step = max(1, len(calibration) // options.debug_images)
    hotspots = hotspot_nodes(model, calibration, calibration[::step], options.float_layers)
    if not hotspots:
        raise ConversionError("the quantization debugger found no quantized layer to keep in float")
    return (replace(quantization, float_nodes=tuple(name for name, _ in hotspots)),
            {"float_layers": {name.split(";", 1)[0]: round(score, 3) for name, score in hotspots}})


def _int16_activations(quantization, model, calibration, options):
    return replace(quantization, activations="int16"), {}


REMEDIES: dict[str, Remedy] = {remedy.name: remedy for remedy in (
    Remedy("more_calibration", "more calibration images, drawn evenly across every class",
           lambda fmt: fmt.quantization.needs_calibration, _more_calibration, keeps_recipe=True),
    Remedy("float_hotspots", "the quantization debugger's worst layers kept in float",
           lambda fmt: fmt.suffix == ".tflite" and fmt.quantization.needs_calibration, _float_hotspots),
    Remedy("int16_activations", "16-bit activations, int8 weights (TFLite 16x8, ONNX int16 Q/DQ)",
           lambda fmt: fmt.quantization.io_dtype == "float32", _int16_activations),
)}


def get_remedy(name: str) -> Remedy:
    if name not in REMEDIES:
        raise ConversionError(f"unknown remedy {name!r}; choose from: {', '.join(REMEDIES)}")
    return REMEDIES[name]


@dataclass
class Candidate:
    """One remedy's export, written to a scratch folder and measured."""

    remedy: str
    path: Path | None
    size_bytes: int = 0
    passed: bool = False
    figures: dict[str, Any] | None = None
    """``agreement``, ``accuracy`` and ``reasons`` against the format's tolerance; None when the export failed."""
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"remedy": self.remedy, "passed": self.passed, "size_bytes": self.size_bytes, "error": self.error,
                **(self.figures or {})}


def repair(fmt: ExportFormat, artifact_root: Path, calibration: np.ndarray, calibration_info: dict,
           measure: Callable[[Path], tuple[bool, dict]], options: RepairOptions, before: dict, scratch: Path,
           on_progress: Callable[[str], None] | None = None) -> tuple[Candidate | None, list[Candidate]]:
    """Tries ``fmt``'s remedies; returns the smallest passing candidate (None: none passed) and every attempt.

    ``measure(path) -> (passed, figures)`` runs a candidate through the same check as the original. Candidates are
    written under ``scratch`` (a temporary folder the caller removes); :func:`install` moves the winner into place.
    """
    calib_file = scratch / "calibration.npy"
    np.save(calib_file, calibration)
    attempts = []
    for name in fmt.remedies:
        remedy = get_remedy(name)
        if not remedy.applies(fmt):
            continue
        if on_progress:
            on_progress(f"{fmt.name}: repair: {name}")
        out = scratch / name / fmt.file_name
        info = {**calibration_info, "repair": {"remedy": name, "summary": remedy.summary, "before": before}}
        candidate = Candidate(name, out)
        try:
            _export_candidate(artifact_root, fmt, name, calib_file, info, out, options)
        except EdgecnnError as err:
            candidate.error, candidate.path = str(err), None
            attempts.append(candidate)
            continue
        candidate.size_bytes = out.stat().st_size
        candidate.passed, candidate.figures = measure(out)
        attempts.append(candidate)
        if candidate.passed and remedy.keeps_recipe:
            break
    passing = [candidate for candidate in attempts if candidate.passed]
    return (min(passing, key=lambda c: c.size_bytes) if passing else None), attempts


def install(candidate: Candidate, target: Path) -> None:
    """Moves the winning candidate and its sidecar over the failing export (each with one atomic rename)."""
    from edgecnn.runtime.contract import sidecar_path

    os.replace(candidate.path, target)
    os.replace(sidecar_path(candidate.path), sidecar_path(target))


def _export_candidate(root: Path, fmt: ExportFormat, remedy: str, calib_file: Path, info: dict, out: Path,
                      options: RepairOptions) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "edgecnn.convert.repair_worker", str(root), fmt.name, remedy, str(calib_file),
               str(out), "--info", json.dumps(info), "--options", json.dumps(options.__dict__)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        from edgecnn.convert.runner import _child_error

        raise ConversionError(_child_error(f"{fmt.name} ({remedy})", result.returncode, result.stderr))
