"""Dependencies point one way, down (README "Layout"): every import statement of every stage, function-level ones
included, is checked against the rules; and the data stage, imported and used in a fresh process, loads no
TensorFlow and no other stage. (The runtime's own run-time check is in tests/runtime/test_runtime_loop_parts.py.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "tf2onnx", "onnx")
STAGES = {"data": "data", "train": "train", "convert": "convert", "runtime": "runtime", "devices": "devices",
          "inspect": "inspection"}
TOP = ("edgecnn.cli", "edgecnn.jobs_cli", "edgecnn.pipeline", "edgecnn.bench", "edgecnn.report_page")
# stage -> the module prefixes it must never import
FORBIDDEN = {
    "runtime": HEAVY + ("edgecnn.data", "edgecnn.train", "edgecnn.convert", "edgecnn.devices", "edgecnn.inspect")
    + TOP,
    "data": HEAVY + ("edgecnn.train", "edgecnn.convert", "edgecnn.devices", "edgecnn.inspect") + TOP,
    "convert": ("edgecnn.train", "edgecnn.devices", "edgecnn.inspect") + TOP,
    # devices may use convert (bundle-time acceptance references: parity, tolerances), never train
    "devices": ("edgecnn.train", "edgecnn.inspect") + TOP,
    "train": ("edgecnn.convert", "edgecnn.devices", "edgecnn.inspect", "edgecnn.cli", "edgecnn.pipeline",
              "edgecnn.bench", "edgecnn.report_page"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # `from edgecnn import convert` names a stage too
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names if node.module == "edgecnn"]
    return found


def _violations(stage: str) -> list[str]:
    bad = []
    for path in sorted((REPO / STAGES[stage]).rglob("*.py")):
        for line, module in _imports(path):
            if any(module == prefix or module.startswith(prefix + ".") for prefix in FORBIDDEN[stage]):
                bad.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_imports_point_down(stage):
    assert _violations(stage) == []


def test_the_check_sees_function_level_imports(tmp_path, monkeypatch):
    # The check must fail on the import this refactor removed (convert -> train, inside a function).
    fake = tmp_path / "convert"
    fake.mkdir()
    (fake / "runner.py").write_text("def open_artifact():\n    from edgecnn.train.artifact import Artifact\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    assert _violations("convert") == ["convert/runner.py:2 imports edgecnn.train.artifact"]


def test_data_stage_loads_images_without_tensorflow_or_other_stages(shared_data):
    # Importing every module and loading real images (the loader imports its helpers lazily).
    code = (
        "import sys, pkgutil, importlib, edgecnn.data\n"
        "for info in pkgutil.iter_modules(edgecnn.data.__path__):\n"
        "    importlib.import_module('edgecnn.data.' + info.name)\n"
        "from edgecnn.data.loader import load_image_split\n"
        f"split = load_image_split([__import__('pathlib').Path({str(shared_data / 'cats-vs-dogs')!r})], "
        "'validation', ('cats', 'dogs'), (32, 32), 'RGB', limit=2)\n"
        "assert len(split.labels) == 4\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith("
        "('edgecnn.train', 'edgecnn.convert', 'edgecnn.devices', 'edgecnn.inspect', 'edgecnn.cli')))\n"
        "print(bad)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
