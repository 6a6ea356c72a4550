"""``edgecnn inspect summary``: the chapter's parameter arithmetic, checked for every registered model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgecnn.cli import main
from edgecnn.inspect.model_source import resolve_model
from edgecnn.inspect.summary import summarize
from edgecnn.train.registry import get_spec, model_names


@pytest.fixture(scope="module")
def fashion_tflite(tmp_path_factory):
    import tensorflow as tf

    from edgecnn.convert.embed import embed_contract
    from edgecnn.inspect.model_source import registry_contract
    from edgecnn.train.registry import build_model

    model = build_model("fashion_cnn")
    # Untrained biases are all zero, and the converter drops or shares all-zero bias tensors; trained ones are not.
    rng = np.random.default_rng(8)
    for layer in model.layers:
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(rng.normal(0.0, 0.1, layer.bias.shape).astype("float32"))
    path = tmp_path_factory.mktemp("summary_tflite") / "fashion.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    embed_contract(path, registry_contract("fashion_cnn").with_format("tflite"))
    return path


@pytest.mark.parametrize("name", model_names())
def test_arithmetic_total_equals_keras_and_the_chapter(name):
    summary = summarize(resolve_model(name))
    assert all(row.arithmetic is not None for row in summary.rows), [r.formula for r in summary.rows]
    # Each layer's hand-worked count equals Keras' own count for that layer, and so do the totals.
    assert [row.arithmetic for row in summary.rows] == [row.framework_count for row in summary.rows]
    assert summary.arithmetic_total == summary.framework_total == get_spec(name).expected_params
    assert summary.checks == {"keras": True, "chapter": True} and summary.consistent


def test_fashion_cnn_walk_through_is_the_chapters():
    summary = summarize(resolve_model("fashion_cnn"))
    assert summary.arithmetic_total == 243_786
    assert summary.spatial_sizes == ("28", "26", "13", "11", "5")
    # Keras numbers layer names per session (conv2d, conv2d_7...): pick the rows by type, in graph order.
    formulas = [row.formula for row in summary.rows if row.type in ("Conv2D", "Dense")]
    assert formulas == ["3x3 kernel x 1 in x 64 filters + 64 biases = 640",
                        "3x3 kernel x 64 in x 64 filters + 64 biases = 36,928",
                        "1,600 in x 128 out + 128 biases = 204,928",
                        "128 in x 10 out + 10 biases = 1,290"]


def test_horses_humans_total(capsys):
    assert main(["inspect", "summary", "horses_humans_cnn"]) == 0
    printed = capsys.readouterr().out
    assert "total worked out: 1,704,097" in printed
    assert "Keras count_params(): 1,704,097 -> matches" in printed
    assert "the chapter's figure: 1,704,097 -> matches" in printed
    assert "300 -> 298 -> 149 -> 147 -> 73 -> 71 -> 35 -> 33 -> 16 -> 14 -> 7" in printed


def test_json_output(capsys):
    assert main(["inspect", "summary", "fashion_cnn", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["arithmetic_total"] == data["framework_total"] == 243_786
    assert data["spatial_sizes"] == ["28", "26", "13", "11", "5"] and data["consistent"] is True


def test_tflite_summary_works_from_the_file_and_says_what_needs_tensorflow(fashion_tflite, capsys):
    summary = summarize(resolve_model(fashion_tflite))
    assert summary.framework_total is None and summary.arithmetic_total == 243_786
    assert summary.spatial_sizes == ("28", "26", "13", "11", "5")
    conv_rows = [row for row in summary.rows if row.type == "CONV_2D"]
    assert [row.formula for row in conv_rows] == ["3x3 kernel x 1 in x 64 filters + 64 biases = 640",
                                                  "3x3 kernel x 64 in x 64 filters + 64 biases = 36,928"]
    assert main(["inspect", "summary", str(fashion_tflite)]) == 0
    printed = capsys.readouterr().out
    assert "need TensorFlow" in printed and "the chapter prints 243,786" in printed


def test_unsupported_file_is_one_line_error(tmp_path, capsys):
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"\x08\x07")
    assert main(["inspect", "summary", str(onnx)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(onnx) in err[0] and ".tflite" in err[0]
