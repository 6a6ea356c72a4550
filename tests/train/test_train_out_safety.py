"""``edgecnn train --out DIR`` replaces an earlier artifact folder, and nothing else unless ``--force``."""

import pytest

from edgecnn.data.artifact import replacement_note
from edgecnn.data.errors import DataError

from cli_helpers import error_lines


def _artifact(folder, *extra):
    folder.mkdir()
    for name in ("model.keras", "model.keras.contract.json", "metrics.json", "history.json", "curves.png", *extra):
        (folder / name).write_text("x")
    return folder


def test_user_folder_is_refused_and_kept(tmp_path, edgecnn_cli):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    result = edgecnn_cli("train", "fashion_dnn", "--epochs", "1", "--out", mine, timeout=300)
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        f"edgecnn train: error: --out {mine}: the folder exists and is not an edgecnn artifact folder (1 entries, "
        f"e.g. thesis.tex); training replaces the whole folder: pick a new --out, or pass --force to delete what "
        f"is there"]
    assert (mine / "thesis.tex").read_text() == "years of work"


def test_earlier_artifact_is_replaced_and_the_lost_exports_are_named(tmp_path):
    out = _artifact(tmp_path / "a", "model_tflite_int8.tflite", "model_tflite_int8.tflite.contract.json",
                    "model_onnx_float32.onnx", "verify.json", "report.md")
    assert replacement_note(out) == (
        f"replacing the earlier artifact in {out} (model.keras, metrics and plots; its 2 converted export(s) "
        f"(model_onnx_float32.onnx, model_tflite_int8.tflite) go too: run 'edgecnn convert {out}' again)")
    assert replacement_note(tmp_path / "new") is None


def test_artifact_with_a_users_file_needs_force(tmp_path):
    out = _artifact(tmp_path / "a", "notes.txt")
    with pytest.raises(DataError, match=r"also holds files edgecnn did not write \(notes.txt\)"):
        replacement_note(out)
    assert replacement_note(out, force=True) == f"replacing {out} and all 6 entries in it (--force)"


def test_a_file_as_out_is_refused(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("x")
    with pytest.raises(DataError, match="this is a file, not a folder"):
        replacement_note(target)


def test_verify_on_a_plain_folder_does_not_recommend_training_into_it(tmp_path, edgecnn_cli):
    result = edgecnn_cli("verify", tmp_path, timeout=300)
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert lines == [f"edgecnn verify: error: {tmp_path} is not an edgecnn artifact folder: model.keras is missing "
                     f"(pass the folder 'edgecnn train MODEL --out FOLDER' wrote)"]
