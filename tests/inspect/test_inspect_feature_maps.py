"""``edgecnn inspect MODEL IMAGE``: feature maps of fashion_cnn from Keras and from a .tflite, on real photos."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from inspect_fixtures import first_image, max_of_2x2

from edgecnn.cli import main
from edgecnn.inspect.feature_maps import inspect_image, keras_feature_maps, tflite_feature_maps
from edgecnn.inspect.model_source import ModelSource, registry_contract, resolve_model
from edgecnn.runtime.contract import write_sidecar
from edgecnn.runtime.errors import ModelLoadError, SourceError
from edgecnn.runtime.images import load_for_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# What the chapter prints for the Fashion-MNIST CNN: 28 -> 26 -> 13 -> 11 -> 5, 64 filters throughout.
CHAPTER_SHAPES = [("conv", (26, 26, 64)), ("pool", (13, 13, 64)), ("conv", (11, 11, 64)), ("pool", (5, 5, 64))]


@pytest.fixture(scope="module")
def photo(shared_data):
    return first_image(shared_data / "rps-cgi-28px" / "test")


@pytest.fixture(scope="module")
def fashion_keras():
    from edgecnn.train.registry import build_model

    return build_model("fashion_cnn")


@pytest.fixture(scope="module")
def fashion_artifact(tmp_path_factory, fashion_keras):
    """An artifact folder by hand: the untrained registry model saved as model.keras with its contract."""
    root = tmp_path_factory.mktemp("fashion_artifact")
    fashion_keras.save(root / "model.keras")
    write_sidecar(root / "model.keras", registry_contract("fashion_cnn"))
    return root


@pytest.fixture(scope="module")
def fashion_tflite(tmp_path_factory, fashion_keras):
    """The same model converted by the real TFLite converter, contract embedded by edgecnn.convert.embed."""
    import tensorflow as tf

    from edgecnn.convert.embed import embed_contract

    path = tmp_path_factory.mktemp("fashion_tflite") / "model.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(fashion_keras).convert())
    embed_contract(path, registry_contract("fashion_cnn").with_format("tflite"))
    return path


def test_keras_grid_has_one_panel_per_conv_pool_layer_with_the_chapters_shapes(fashion_keras, photo):
    contract = registry_contract("fashion_cnn")
    pixels = load_for_model(photo, contract.input_size, contract.channel_order, contract.resize)
    maps, probabilities = keras_feature_maps(fashion_keras, contract, pixels)
    assert [(m.kind, m.shape) for m in maps] == CHAPTER_SHAPES
    # The pooling panels are the 2x2 maximum of the convolution panels before them: real activations, in order.
    for conv, pool in ((maps[0], maps[1]), (maps[2], maps[3])):
        for channel in range(0, 64, 9):
            np.testing.assert_allclose(pool.values[..., channel], max_of_2x2(conv.values[..., channel]), rtol=1e-6)
    assert probabilities.shape == (10,)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(probabilities, fashion_keras.predict(pixels[None], verbose=0)[0], atol=1e-6)


def test_image_is_preprocessed_as_the_runtime_does(photo):
    report = inspect_image(resolve_model("fashion_cnn"), photo, invert=True)
    contract = report.contract
    expected = load_for_model(photo, contract.input_size, contract.channel_order, contract.resize, invert=True)
    np.testing.assert_array_equal(report.pixels, expected)
    assert report.pixels.shape == (28, 28, 1)
    assert list(report.probabilities) == list(contract.labels)


def test_tflite_feature_maps_match_keras_without_tensorflow_calls(fashion_keras, fashion_tflite, photo):
    contract = registry_contract("fashion_cnn")
    pixels = load_for_model(photo, contract.input_size, contract.channel_order, contract.resize)
    keras_maps, keras_probabilities = keras_feature_maps(fashion_keras, contract, pixels)
    tflite_maps, tflite_probabilities = tflite_feature_maps(fashion_tflite, contract, pixels)
    assert [(m.kind, m.shape) for m in tflite_maps] == CHAPTER_SHAPES
    assert [m.op for m in tflite_maps] == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "MAX_POOL_2D"]
    for keras_map, tflite_map in zip(keras_maps, tflite_maps):
        np.testing.assert_allclose(tflite_map.values, keras_map.values, atol=1e-4)
    np.testing.assert_allclose(tflite_probabilities, keras_probabilities, atol=1e-5)


def test_tflite_contract_comes_from_inside_the_file(fashion_tflite, photo):
    report = inspect_image(resolve_model(fashion_tflite), photo)
    assert report.contract.format == "tflite"
    assert [m.shape for m in report.maps] == [shape for _, shape in CHAPTER_SHAPES]


@pytest.mark.parametrize("as_shorthand", [True, False])
def test_cli_on_an_artifact_folder(fashion_artifact, photo, tmp_path, capsys, as_shorthand):
    out = tmp_path / "maps.png"
    words = [] if as_shorthand else ["features"]
    assert main(["inspect", *words, str(fashion_artifact), str(photo), "--out", str(out), "--json"]) == 0
    printed = capsys.readouterr().out
    assert '"shape": [26, 26, 64]' in printed and '"shape": [5, 5, 64]' in printed
    picture = cv2.imread(str(out))
    assert picture is not None and out.stat().st_size < 300_000
    # Four layer rows of 8 tiles of 72 px (+ borders and gaps): the grid is at least that wide and tall.
    assert picture.shape[1] >= 8 * 74 and picture.shape[0] >= 4 * (72 + 18)


def test_cli_corrupt_image_is_one_line_error(fashion_tflite, tmp_path, capsys):
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    assert main(["inspect", str(fashion_tflite), str(corrupt), "--out", str(tmp_path / "m.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(corrupt) in err[0] and "not a readable image" in err[0]
    with pytest.raises(SourceError):
        inspect_image(ModelSource("tflite", "x", fashion_tflite), corrupt)


@pytest.mark.parametrize("payload", [b"", b"PK\x03\x04 not really a zip"])
def test_broken_keras_file_is_a_load_error(tmp_path, photo, payload):
    path = tmp_path / "model.keras"
    path.write_bytes(payload)
    write_sidecar(path, registry_contract("fashion_cnn"))
    with pytest.raises(ModelLoadError, match=str(path)):
        inspect_image(resolve_model(path), photo)


def test_unknown_model_lists_what_it_may_be(tmp_path, capsys):
    assert main(["inspect", "no_such_model", str(tmp_path / "x.jpg")]) == 2
    err = capsys.readouterr().err
    assert "not a registered model" in err and "fashion_cnn" in err


# Simulates the runtime-only install: importing tensorflow or keras fails, as it would on a Pi without the extra.
NO_TENSORFLOW = """
import importlib.abc, json, sys
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras"):
            raise ImportError(f"No module named {name!r} (blocked: runtime-only install)")
sys.meta_path.insert(0, Blocked())
from edgecnn.cli import main
codes = [main(["inspect", sys.argv[1], sys.argv[2], "--out", sys.argv[3]]), main(["inspect", "summary", sys.argv[1]]),
         main(["inspect", "summary", "fashion_cnn"])]
print(json.dumps(codes))
"""


def test_tflite_views_work_without_tensorflow(fashion_tflite, photo, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "maps.png"
    done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, str(fashion_tflite), str(photo), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[0, 0, 2]"
    assert cv2.imread(str(out)) is not None
    # A registry model needs Keras: one line naming the extra to install.
    assert "pip install 'edgecnn[train]'" in done.stderr
