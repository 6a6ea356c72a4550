"""The runtime in the environments a Pi has: only the runtime extra (no TensorFlow), and tflite-runtime 2.14 with
numpy<2 (an older Pi image). Each classifies the same real images identically to the main environment; with
numpy 2, tflite-runtime 2.14 fails in one clear line.

Slow (creates three venvs with pip the first time, ~2 minutes after that):

    EDGECNN_SLOW=1 .venv/bin/python -m pytest tests/runtime/test_runtime_envs.py

The environments come from scripts/make-runtime-envs.sh, which this test runs (it skips what already exists).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from runtime_fixtures import REPO

pytestmark = pytest.mark.skipif(
    os.environ.get("EDGECNN_SLOW") != "1",
    reason="creates three pip environments (scripts/make-runtime-envs.sh); run with EDGECNN_SLOW=1")

RUNTIME_ENV = REPO / ".venv-runtime"
TFLITE214_ENV = REPO / ".venv-runtime-tflite214"


@pytest.fixture(scope="module")
def envs():
    subprocess.run([str(REPO / "scripts" / "make-runtime-envs.sh")], check=True, cwd=REPO, timeout=1200)
    return {"runtime": RUNTIME_ENV, "tflite214": TFLITE214_ENV, "numpy2": REPO / ".venv-runtime-tflite214-numpy2"}


def _labels(env, model, folder, backend: str | None = None) -> list[tuple[str, str]]:
    command = [str(env / "bin" / "edgecnn"), "run", "--model", str(model), "--source", str(folder), "--headless"]
    if backend:
        command += ["--backend", backend]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [(r["source"], r["label"]) for r in map(json.loads, result.stdout.splitlines())]


def _folder(tmp_path, rps_frames):
    for path in rps_frames:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    return tmp_path


def test_runtime_extra_alone_has_no_tensorflow(envs):
    code = "import importlib.util as u; print([m for m in ('tensorflow', 'keras') if u.find_spec(m)])"
    result = subprocess.run([str(envs["runtime"] / "bin" / "python"), "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("fmt", ["tflite_float32", "tflite_int8", "onnx"])
def test_runtime_extra_alone_classifies_like_the_main_env(envs, tiny_models, rps_frames, tmp_path, fmt):
    folder = _folder(tmp_path, rps_frames)
    main = _labels(REPO / ".venv", tiny_models[fmt].path, folder)
    assert _labels(envs["runtime"], tiny_models[fmt].path, folder) == main


def test_tflite_runtime_214_with_numpy1_classifies_like_litert(envs, tiny_models, rps_frames, tmp_path):
    folder = _folder(tmp_path, rps_frames)
    model = tiny_models["tflite_float32"].path
    main = _labels(REPO / ".venv", model, folder, backend="litert")
    # Auto-selection falls back to tflite_runtime there (no LiteRT installed) and says what that costs.
    command = [str(envs["tflite214"] / "bin" / "edgecnn"), "run", "--model", str(model), "--source", str(folder),
               "--headless"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "falling back to tflite-runtime" in result.stderr and "on tflite_runtime 2.14.0" in result.stderr
    assert [(r["source"], r["label"]) for r in map(json.loads, result.stdout.splitlines())] == main


def test_tflite_runtime_214_on_an_int8_export(envs, tiny_models, rps_frames, tmp_path):
    # TF 2.21's int8 exports may use op versions tflite-runtime 2.14 does not know: then the user sees one line
    # naming the file and why; when it does load, it must agree with LiteRT.
    folder = _folder(tmp_path, rps_frames)
    model = tiny_models["tflite_int8"].path
    command = [str(envs["tflite214"] / "bin" / "edgecnn"), "run", "--model", str(model), "--source", str(folder),
               "--headless"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode == 0:
        got = [(r["source"], r["label"]) for r in map(json.loads, result.stdout.splitlines())]
        assert got == _labels(REPO / ".venv", model, folder, backend="litert")
        return
    lines = [line for line in result.stderr.strip().splitlines() if "falling back" not in line]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "rps_tflite_int8.tflite: tflite_runtime cannot load this model" in lines[0]


def test_tflite_runtime_214_under_numpy2_is_one_line(envs, tiny_models, rps_video):
    # The claim behind LiteRT-first: tflite-runtime 2.14 was built for NumPy 1 and fails at interpreter creation.
    command = [str(envs["numpy2"] / "bin" / "edgecnn"), "run", "--model", str(tiny_models["tflite_float32"].path),
               "--source", str(rps_video), "--headless"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "tflite_runtime 2.14.0 cannot create an interpreter with NumPy 2." in result.stderr
