"""tflite-runtime 2.14 in its own numpy<2 environment (scripts/make-tflite214-env.sh), for the compatibility matrix.

tflite-runtime 2.14 is the newest release for Python <= 3.11 with numpy < 2 and still what many Pis run; it refuses
ops newer than it knows (TF 2.21's per-channel dense layers: ``FULLY_CONNECTED`` version 12). It cannot live in
.venv (TF 2.21 needs numpy 2), so verify runs :mod:`edgecnn.convert.tflite214_probe` with that environment's Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.convert.errors import ConversionError

ENV_VAR = "EDGECNN_TFLITE214_PYTHON"
DEFAULT_ENV = Path(".venv-tflite214") / "bin" / "python"
PROBE_SCRIPT = Path(__file__).with_name("tflite214_probe.py")
TIMEOUT_S = 600


@dataclass(frozen=True)
class ProbeResult:
    """What tflite-runtime 2.14 did with one model."""

    ok: bool
    """True when it loaded and ran every input."""
    outputs: np.ndarray | None
    """The raw output batch when ``ok``."""
    error: str | None
    """The interpreter's first error line otherwise."""


def find_python(explicit: str | Path | None) -> Path | None:
    """``--tflite214-python``, else ``$EDGECNN_TFLITE214_PYTHON``, else ``./.venv-tflite214/bin/python``; or None."""
    candidate = explicit or os.environ.get(ENV_VAR)
    if candidate:
        path = Path(candidate)
        if not path.is_file():
            raise ConversionError(f"tflite-runtime 2.14 python {path} does not exist "
                                  f"(create it with scripts/make-tflite214-env.sh)")
        return path
    return DEFAULT_ENV.absolute() if DEFAULT_ENV.is_file() else None  # not resolve(): a venv python is a symlink


def run_models(python: Path, batches: dict[Path, np.ndarray]) -> tuple[str, dict[Path, ProbeResult]]:
    """Runs each model on its ready input tensor batch; returns ``(tflite-runtime version, results per model)``."""
    with tempfile.TemporaryDirectory(prefix="edgecnn-tflite214-") as scratch:
        jobs = []
        for number, (model, batch) in enumerate(batches.items()):
            inp, out = Path(scratch, f"in{number}.npy"), Path(scratch, f"out{number}.npy")
            np.save(inp, batch)
            jobs.append({"model": str(model), "input": str(inp), "output": str(out)})
        try:
            done = subprocess.run([str(python), str(PROBE_SCRIPT)], input=json.dumps({"jobs": jobs}), text=True,
                                  capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise ConversionError(f"{python}: cannot run the tflite-runtime 2.14 probe ({err})") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConversionError(f"{python}: the tflite-runtime 2.14 probe failed ({last}); recreate the "
                                  f"environment with scripts/make-tflite214-env.sh")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        results = {}
        for job in jobs:
            entry = report["models"][job["model"]]
            outputs = np.load(job["output"]) if entry["ok"] else None
            results[Path(job["model"])] = ProbeResult(entry["ok"], outputs, entry.get("error"))
    return report["version"], results
