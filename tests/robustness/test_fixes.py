"""Each hardening fix forced once, checking the exact line a user sees (in-process: fast)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest
from robustness_corpus import SHIPPED, _png_with_size, _quantization_positions

from edgecnn.cli import main
from edgecnn.runtime.atomic import atomic_directory, sweep_leftovers, write_bytes_atomic
from edgecnn.runtime.backends import TensorSpec
from edgecnn.runtime.contract import ModelContract
from edgecnn.runtime.errors import ContractError, ModelLoadError, OutputError, SourceError
from edgecnn.runtime.images import read_image_rgb
from edgecnn.runtime.preprocess import output_to_probabilities
from edgecnn.runtime.sources import open_source
from edgecnn.runtime.tflite_metadata import probe_tflite


def _error(capsys, argv) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err.strip().splitlines()[-1]


def test_threads_are_bounded(capsys):
    from edgecnn.runtime.backends import MAX_THREADS

    assert _error(capsys, ["run", "--threads", "100000", "--headless"]) == (
        2, f"edgecnn run: error: argument --threads: must be at most {MAX_THREADS}, got 100000")


def test_float_options_must_be_finite(capsys):
    assert _error(capsys, ["run", "--fps", "nan", "--headless"]) == (
        2, "edgecnn run: error: --fps nan: expected a finite number")


def test_empty_source_and_huge_camera_index(capsys):
    with pytest.raises(SourceError, match=r"^--source '' is empty; use one of: camera index \(0\)"):
        open_source("")
    with pytest.raises(SourceError, match=r"^--source 99999999999999999999: camera index out of range \(0 to 9999\)"):
        open_source("99999999999999999999")


def test_huge_declared_image_is_refused_before_decoding(tmp_path, shared_data):
    photo = sorted((shared_data / "rps-real-pi" / "validation" / "rock").glob("*.jpg"))[0]
    png = cv2.imencode(".png", cv2.imread(str(photo)))[1].tobytes()
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_with_size(png, 20000, 20000))
    with pytest.raises(SourceError) as err:
        read_image_rgb(huge)
    assert str(err.value) == f"{huge}: the PNG declares 20000x20000 pixels, more than the 64 megapixels edgecnn decodes"
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(huge, folder / "a.png")
    (folder / "b.png").write_bytes(png)
    frames = list(open_source(str(folder)))  # the huge one is skipped, the run goes on
    assert [frame.source for frame in frames] == [str(folder / "b.png")]


def test_a_single_unreadable_image_fails(tmp_path, capsys):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"junk")
    assert _error(capsys, ["run", "--headless", "--source", str(junk)]) == (
        2, f"edgecnn run: error: {junk}: not a readable image (corrupt, or not PNG, JPEG, BMP, WebP; expected a "
           f"file ending in one of .jpg, .jpeg, .png, .bmp, .webp)")


CONTRACT = {"model_name": "m", "labels": ["a", "b"], "input_size": [8, 8]}


@pytest.mark.parametrize("change, expected", [
    ({"labels": "abc"}, 'labels must be a list of strings, got "abc"'),
    ({"labels": {"a": 1}}, 'labels must be a list of strings, got {"a": 1}'),
    ({"value_range": [0, float("inf")]}, "value_range must be [low, high], finite numbers, got [0, Infinity]"),
    ({"extra": [1]}, "extra must be an object, got [1]"),
    ({"input_size": [8.5, 8]}, "input_size must be [height, width], whole numbers 1 to 8192, got [8.5, 8]"),
])
def test_contract_field_types_are_strict(change, expected):
    with pytest.raises(ContractError) as err:
        ModelContract.from_json(json.dumps({**CONTRACT, **change}), origin="x.json")
    assert str(err.value) == f"x.json: malformed contract: {expected}"


def test_deeply_nested_contract():
    with pytest.raises(ContractError) as err:
        ModelContract.from_json("[" * 100000 + "]" * 100000, origin="x.json")
    assert str(err.value) == "x.json: contract JSON is nested too deeply to be a contract"


def test_corrupt_quantization_is_refused_before_litert(tmp_path):
    data = bytearray(SHIPPED.read_bytes())
    for at in _quantization_positions(bytes(data))[0]:
        struct.pack_into("<f", data, at, float("nan"))
    broken = tmp_path / "nan.tflite"
    broken.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError) as err:
        probe_tflite(broken)
    assert str(err.value) == (f"{broken}: not a valid .tflite model (tensor 'serving_default_image:0' has "
                              f"quantization scale nan; scales must be finite and > 0); expected a TFLite FlatBuffer "
                              f"as written by the TFLite converter")


def test_outputs_must_be_scores_and_probabilities():
    contract = ModelContract(model_name="m", labels=("a", "b", "c"), input_size=(8, 8))
    spec = TensorSpec("out", (None, 3), np.dtype(np.float32))
    with pytest.raises(ContractError) as err:
        output_to_probabilities(np.zeros((1, 4, 4, 3), np.float32), contract, spec)
    assert str(err.value) == ("m: the model gives 4x4x3 output values per image, not (N, 3) scores for 3 labels "
                              "(softmax); edgecnn runs classifiers with one score per label")
    with pytest.raises(ContractError) as err:
        output_to_probabilities(np.array([[-3.0, 5.0, 1.0]], np.float32), contract, spec)
    assert str(err.value) == ("m: the model's outputs are not probabilities (from -3 to 5, rows summing to 3); "
                              "expected a softmax output (a model that ends in logits needs its softmax layer)")


def test_sidecar_conflict_is_said_once(tmp_path, caplog):
    from edgecnn.runtime.model_file import read_contract, read_embedded_contract

    model = tmp_path / "m.tflite"
    shutil.copy(SHIPPED, model)
    other = read_embedded_contract(SHIPPED).with_format("edited")
    (tmp_path / "m.tflite.contract.json").write_text(other.to_json())
    with caplog.at_level(logging.WARNING, logger="edgecnn.runtime"):
        assert read_contract(model).format == "tflite_int8_uint8io"
        read_contract(model)
    assert [r.getMessage() for r in caplog.records] == [
        "m.tflite.contract.json differs from the contract embedded in m.tflite; using the embedded one"]


def test_atomic_write_into_a_folder_is_refused(tmp_path):
    with pytest.raises(OutputError) as err:
        write_bytes_atomic(tmp_path, b"x")
    assert str(err.value) == f"{tmp_path}: this is a folder; expected a file path to write"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_dead_writers_are_swept_and_an_interrupted_swap_restored(tmp_path):
    target = tmp_path / "artifact"
    pid = _dead_pid()
    staging = tmp_path / f".artifact.{pid}.abc123.tmp"
    staging.mkdir()
    old = tmp_path / f".artifact.old-{pid}"
    old.mkdir()
    (old / "model.keras").write_text("previous")
    alive = tmp_path / f".artifact.{os.getpid()}.zzz.tmp"  # this process: never touched
    alive.mkdir()
    sweep_leftovers(target)
    assert (target / "model.keras").read_text() == "previous"
    assert not staging.exists() and not old.exists() and alive.exists()
    with atomic_directory(target) as new:
        (new / "model.keras").write_text("new")
    assert (target / "model.keras").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["artifact", alive.name])


def test_bench_survives_a_damaged_verify_report(tmp_path):
    from edgecnn.bench import _verify_statuses

    for text in ("[1, 2]", "{", '{"exports": [1]}', "[" * 100000):
        (tmp_path / "verify.json").write_text(text)
        assert _verify_statuses(tmp_path) == {"*": "unknown (verify.json unreadable)"}


def test_crc_helper_is_real():  # the huge-PNG case must still be a valid PNG, or the test proves nothing
    png = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))[1].tobytes()
    patched = _png_with_size(png, 5, 5)
    assert struct.unpack(">I", patched[29:33])[0] == zlib.crc32(patched[12:29])
