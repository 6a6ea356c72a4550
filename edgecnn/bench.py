"""``edgecnn bench``: one row per export format x interpreter, each measured in a fresh runtime-only process.

Columns: file size, accuracy on the held-out split, verify status, latency p50/p90 at batch 1, frames/s, peak RSS
and cold start (import + load) of a process that has only :mod:`edgecnn.runtime` loaded. A ``.tflite``/``.onnx``
that is not ours (no contract) is benchmarked on random inputs of its own shape, with accuracy unknown.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from edgecnn.errors import EdgecnnError
from edgecnn.runtime.units import format_size

MODEL_SUFFIXES = (".tflite", ".onnx")


class BenchError(EdgecnnError):
    """Nothing to benchmark, or a benchmark process failed."""


@dataclass(frozen=True)
class BenchOptions:
    """How to benchmark."""

    threads: int = 1
    """Interpreter threads (1: the per-core figure; a Pi 4/5 has 4 cores)."""
    runs: int = 100
    """Timed invocations per row, at batch 1."""
    warmup: int = 10
    """Untimed invocations first (allocations, XNNPACK packing)."""
    limit_per_class: int | None = 50
    """Held-out images per class for accuracy (None: all of them)."""
    data: Path | None = None
    """Labelled data root for accuracy; default: the held-out split the model's contract names."""
    backends: tuple[str, ...] = ()
    """Interpreters to use; empty: every installed one that runs the file type."""


@dataclass
class BenchRow:
    """One measured format x interpreter."""

    file: str
    format: str
    size_bytes: int
    backend: str
    backend_version: str = ""
    threads: int = 0
    accuracy: float | None = None
    images: int | None = None
    verify_status: str = "not verified"
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    fps: float | None = None
    peak_rss_mb: float | None = None
    cold_start_ms: float | None = None
    error: str | None = None


def model_files(target: Path) -> list[Path]:
    """The exported files of an artifact folder (``model_*.tflite``/``.onnx``), or the one file given."""
    target = Path(target)
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise BenchError(f"{target}: no such model file or artifact folder")
    files = sorted(p for p in target.iterdir() if p.suffix in MODEL_SUFFIXES and p.is_file())
    if not files:
        raise BenchError(f"{target}: no .tflite or .onnx files to benchmark (run 'edgecnn convert {target}' first)")
    return files


def bench(target: Path, options: BenchOptions = BenchOptions(),
          on_note: Callable[[str], None] | None = None) -> list[BenchRow]:
    """Benchmarks every exported file of ``target`` with every applicable interpreter.

    ``on_note`` gets notes for the user (why accuracy was not measured).
    """
    files = model_files(target)
    statuses = _verify_statuses(Path(target))
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgecnn-bench-") as tmp:
        data_files = _held_out_data(files[0], options, Path(tmp), on_note)
        for file in files:
            for backend in _backends_for(file, options.backends):
                row = _measure(file, backend, options, data_files)
                row.verify_status = statuses.get(file.name, statuses.get("*", row.verify_status))
                rows.append(row)
    return rows


def _backends_for(file: Path, wanted: tuple[str, ...]) -> list[str]:
    from edgecnn.runtime import backends

    names = wanted or tuple(backends.installed_backends())
    usable = [n for n in names if file.suffix in backends.backend_entry(n).suffixes]
    if not usable:
        raise BenchError(f"{file}: no installed interpreter runs {file.suffix} files (pip install 'edgecnn[runtime]')")
    return usable


def _held_out_data(file: Path, options: BenchOptions, tmp: Path,
                   on_note: Callable[[str], None] | None) -> dict | None:
    """Saves the held-out pixels and labels for the worker processes; None when the model has no contract/data."""
    from edgecnn.data.description import held_out_selection
    from edgecnn.data.loader import load_labelled
    from edgecnn.runtime.errors import ContractError
    from edgecnn.runtime.model_file import read_contract

    try:
        contract = read_contract(file)
    except (ContractError, EdgecnnError):
        return None
    try:
        selection = held_out_selection(contract.extra, options.data, contract.model_name)
        images = load_labelled(selection.root, contract, selection.split, options.limit_per_class,
                               keep=selection.keep)
    except EdgecnnError as err:
        if on_note is not None:
            on_note(f"accuracy not measured: {err}")
        return None
    np.save(tmp / "pixels.npy", images.images)
    np.save(tmp / "labels.npy", images.labels)
    return {"pixels": str(tmp / "pixels.npy"), "labels": str(tmp / "labels.npy")}


def _measure(file: Path, backend: str, options: BenchOptions, data_files: dict | None) -> BenchRow:
    row = BenchRow(file=file.name, format=_format_of(file), size_bytes=file.stat().st_size, backend=backend)
    spec = {"model": str(file), "backend": backend, "threads": options.threads, "runs": options.runs,
            "warmup": options.warmup, **(data_files or {})}
    done = subprocess.run([sys.executable, "-m", "edgecnn.bench_worker", json.dumps(spec)], capture_output=True,
                          text=True, timeout=600, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        row.error = f"benchmark process failed (exit {done.returncode}): {last}"
        return row
    result = json.loads(lines[-1])
    if "error" in result:
        row.error = result["error"]
        return row
    for key in ("backend_version", "threads", "accuracy", "latency_p50_ms", "latency_p90_ms", "fps", "peak_rss_mb",
                "cold_start_ms"):
        setattr(row, key, result[key])
    row.images = None if result.get("predictions") is None else len(result["predictions"])
    if not result["has_contract"]:
        row.verify_status = "no contract: accuracy unknown"
    return row


def _format_of(file: Path) -> str:
    from edgecnn.data.artifact import export_format_of

    return export_format_of(file) or f"foreign{file.suffix}"


def _verify_statuses(target: Path) -> dict[str, str]:
    """Per file name, the status ``edgecnn verify --json ART/verify.json`` (or the pipeline) recorded there."""
    from edgecnn.data.artifact import Artifact

    report = Artifact(target if target.is_dir() else target.parent).verify_path
    if not report.is_file():
        return {}
    try:
        data = json.loads(report.read_bytes()[:1 << 24])
    except (OSError, ValueError, RecursionError):  # ValueError: bad JSON or bad UTF-8
        data = None
    exports = data.get("exports") if isinstance(data, dict) else None
    if not isinstance(exports, dict):
        # A stale or damaged report only loses the verify column; the benchmark itself does not depend on it.
        return {"*": f"unknown ({report.name} unreadable)"}
    return {str(name): str(entry.get("status", "unknown")) if isinstance(entry, dict) else "unknown"
            for name, entry in exports.items()}


def rows_to_json(rows: list[BenchRow]) -> str:
    return json.dumps([asdict(row) for row in rows], indent=2)


def format_table(rows: list[BenchRow]) -> str:
    """A Markdown table of the rows."""
    head = ("| file | backend | threads | size | accuracy | verify | p50 ms | p90 ms | fps | peak RSS MB | "
            "cold start ms |\n|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        if r.error:
            lines.append(f"| {r.file} | {r.backend} |  | {_size(r.size_bytes)} |  | {r.verify_status} | "
                         f"error: {r.error} | | | | |")
            continue
        accuracy = "unknown" if r.accuracy is None else f"{r.accuracy:.2%} of {r.images}"
        lines.append(f"| {r.file} | {r.backend} {r.backend_version} | {r.threads} | {_size(r.size_bytes)} | "
                     f"{accuracy} | {r.verify_status} | {r.latency_p50_ms:.2f} | {r.latency_p90_ms:.2f} | "
                     f"{r.fps:.0f} | {r.peak_rss_mb:.0f} | {r.cold_start_ms:.0f} |")
    return "\n".join(lines)


def _size(size: int) -> str:
    return format_size(size)
