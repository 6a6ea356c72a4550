"""``edgecnn convert``'s engine: every selected format, one at a time, each written atomically with its contract.

Memory: the TFLite and ONNX converters keep frozen copies of the graph alive after they return (InceptionV3 transfer
converted naively in one process was measured at ~16 GB peak RSS). With ``isolate=True`` (the CLI default) every
format is exported in a fresh Python process (:mod:`edgecnn.convert.worker`), so each starts from zero and its memory
is returned to the system when it exits; the parent never imports TensorFlow. Per-format peak RSS comes from
``os.wait4``'s resource usage of that child.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edgecnn.convert.calibration import CalibrationOptions, load_calibration
from edgecnn.convert.embed import embed_in_file
from edgecnn.convert.errors import ConversionError
from edgecnn.convert.formats import ExportFormat, format_names, get_format
from edgecnn.convert.quantization import Quantization
from edgecnn.data.artifact import Artifact
from edgecnn.data.errors import DataError
from edgecnn.runtime.contract import ModelContract, TensorQuantization, write_sidecar
from edgecnn.runtime.preprocess import to_value_range


@dataclass(frozen=True)
class ConvertOptions:
    """What ``edgecnn convert`` writes and how."""

    formats: tuple[str, ...] = field(default_factory=lambda: tuple(format_names()))
    """Registered format names to export, in this order."""
    calibration: CalibrationOptions = field(default_factory=CalibrationOptions)
    """Where the int8 calibration images come from."""
    isolate: bool = True
    """Run each export in a fresh subprocess so its memory is released before the next (keeps peak RSS bounded)."""


@dataclass(frozen=True)
class ExportRecord:
    """One written export, for the final table."""

    format: str
    """Registered format name."""
    path: str
    """The model file written."""
    size_bytes: int
    """Its size."""
    seconds: float
    """Wall time of the export, contract embedding included."""
    peak_rss_mb: float | None
    """Peak resident memory of the process that exported it (None when not measured)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_artifact(root: str | Path) -> Artifact:
    """The artifact folder (model.keras + contract); ConversionError naming what is missing."""
    from edgecnn.runtime.errors import ModelLoadError
    from edgecnn.runtime.model_file import probe_keras

    try:
        artifact = Artifact.open(root)
    except DataError as err:
        raise ConversionError(str(err)) from None
    try:
        probe_keras(artifact.model_path)  # before TensorFlow starts: one line, none of its start-up logging
    except ModelLoadError as err:
        raise ConversionError(str(err)) from None
    return artifact


def load_keras_model(path: Path) -> Any:
    """Loads a ``.keras`` file (no compile); one-line ConversionError when it is not a readable Keras model.

    An imported SavedModel's ``model.keras`` is loaded with the ``saved_model/`` beside it (see convert/saved_model.py).
    """
    from edgecnn.runtime.errors import ModelLoadError
    from edgecnn.runtime.model_file import probe_keras

    try:
        probe_keras(path)
    except ModelLoadError as err:
        raise ConversionError(str(err)) from None
    import keras

    from edgecnn.convert.saved_model import custom_objects_for

    try:
        return keras.saving.load_model(path, compile=False, custom_objects=custom_objects_for(path))
    except Exception as err:  # noqa: BLE001 - Keras raises ValueError, OSError, zipfile errors... for a bad file
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise ConversionError(f"{path}: not a loadable Keras model file ({type(err).__name__}: {first})") from None


def convert_artifact(root: str | Path, options: ConvertOptions,
                     on_done: Callable[[ExportRecord], None] | None = None,
                     on_note: Callable[[str], None] | None = None) -> list[ExportRecord]:
    """Exports every format of ``options`` beside ``<root>/model.keras``; returns one record per file.

    ``on_done`` gets each record as it is written; ``on_note`` gets notes for the user (skipped corrupt images).
    """
    artifact = open_artifact(root)
    formats = [get_format(name) for name in options.formats]
    calibration, info = None, None
    if any(fmt.quantization.needs_calibration for fmt in formats):
        images = load_calibration(artifact.contract, options.calibration, on_note)
        calibration = images.images
        info = {"calibration_classes": dict(zip(artifact.contract.labels,
                                                images.per_class(len(artifact.contract.labels)))),
                "calibration_data": str(options.calibration.data) if options.calibration.data else None}
    records = []
    with tempfile.TemporaryDirectory(prefix="edgecnn-convert-") as scratch:
        calib_file = None
        if calibration is not None and options.isolate:
            calib_file = Path(scratch, "calibration.npy")
            np.save(calib_file, calibration)
        model = None if options.isolate else load_keras_model(artifact.model_path)
        for fmt in formats:
            if options.isolate:
                record = _export_in_subprocess(artifact.root, fmt.name, calib_file, info)
            else:
                record = export_one(artifact.root, fmt, calibration, model, info)
            records.append(record)
            if on_done is not None:
                on_done(record)
    return records


def export_one(root: Path, fmt: ExportFormat, calibration: np.ndarray | None, model: Any = None,
               calibration_info: dict | None = None, out: Path | None = None,
               quantization: Quantization | None = None) -> ExportRecord:
    """Exports one format in this process: staged file, contract embedded, then moved into place, then sidecar.

    ``calibration_info`` (``calibration_classes``: label -> image count, ``calibration_data``: the --calib-data
    folder or None for the contract's training split, and anything else to record, such as a repair) is recorded in
    the contract of calibrated exports. ``out`` (default: the format's file in ``root``) and ``quantization``
    (default: the format's preset) are how int8 repair writes a candidate elsewhere with another recipe.
    """
    start = time.perf_counter()
    artifact = open_artifact(root)
    model = load_keras_model(artifact.model_path) if model is None else model
    quantization = fmt.quantization if quantization is None else quantization
    if quantization.needs_calibration:
        # Calibration measures activation ranges: the images must be in the range the model takes (0-1 for a model
        # trained with the 1/255 outside it), exactly as the runtime will feed them.
        quantization = quantization.with_calibration(to_value_range(calibration, artifact.contract.value_range))
    out = artifact.root / fmt.file_name if out is None else Path(out)
    staging = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        result = fmt.export(model, staging, quantization)
        details = dict(result.details)
        if quantization.needs_calibration and calibration_info:
            details.update(calibration_info)
        contract = _export_contract(artifact.contract, fmt, staging, sha256_of(artifact.model_path), details)
        embed_in_file(staging, contract)
        os.replace(staging, out)
        write_sidecar(out, contract)
    except OSError as err:
        raise ConversionError(f"{out}: cannot write the export ({err.strerror or err}); expected a writable "
                              f"file path in {out.parent}") from None
    finally:
        staging.unlink(missing_ok=True)
    return ExportRecord(fmt.name, str(out), out.stat().st_size, time.perf_counter() - start, None)


def _export_contract(source: ModelContract, fmt: ExportFormat, path: Path, source_sha256: str,
                     details: dict) -> ModelContract:
    input_q = output_q = None
    if fmt.suffix == ".tflite" and fmt.quantization.io_dtype != "float32":
        from edgecnn.convert.tflite_export import tensor_quantization

        inp, out = tensor_quantization(path)
        input_q = TensorQuantization(**inp) if inp else None
        output_q = TensorQuantization(**out) if out else None
    extra = {**source.extra, "export": {"format": fmt.name, **details}}
    return source.with_format(fmt.name, input_quantization=input_q, output_quantization=output_q,
                              source_sha256=source_sha256, extra=extra)


def _export_in_subprocess(root: Path, name: str, calib_file: Path | None,
                          calibration_info: dict | None) -> ExportRecord:
    command = [sys.executable, "-m", "edgecnn.convert.worker", str(root), name]
    if calib_file is not None:
        command += ["--calibration", str(calib_file), "--calibration-info", json.dumps(calibration_info or {})]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise ConversionError(_child_error(name, process.returncode, stderr))
    record = json.loads(stdout.strip().splitlines()[-1])
    record["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    record["seconds"] = time.perf_counter() - start  # the whole process: what the user waits for
    return ExportRecord(**record)


def _child_error(name: str, code: int, stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    marked = [line.split("edgecnn-worker: error: ", 1)[1] for line in lines if "edgecnn-worker: error: " in line]
    if marked:
        return marked[-1]
    if code < 0:
        return f"{name}: the export process was killed by signal {-code} (out of memory?)"
    return f"{name}: the export process failed with exit code {code}: {lines[-1] if lines else 'no output'}"


def record_json(record: ExportRecord) -> str:
    return json.dumps(asdict(record))
