"""``edgecnn bench`` on real exports, a foreign model and a corrupt file, through the real command line."""

import json
from pathlib import Path

import numpy as np
import pytest
from jobs_helpers import edgecnn_in

from cli_helpers import error_lines


@pytest.fixture(scope="module")
def exported(tmp_path_factory, shared_data):
    """A cats_dogs_cnn trained briefly on real images, exported to float32 TFLite, int8 TFLite and ONNX."""
    out = tmp_path_factory.mktemp("bench") / "cats_dogs"
    trained = edgecnn_in(tmp_path_factory.mktemp("cwd"), "train", "cats_dogs_cnn", "--data",
                         shared_data / "cats-vs-dogs", "--limit", "20", "--epochs", "1", "--out", out)
    assert trained.returncode == 0, trained.stderr
    from edgecnn.convert.runner import ConvertOptions, convert_artifact

    convert_artifact(out, ConvertOptions(formats=("tflite_float32", "tflite_int8_uint8io", "onnx_float32")))
    return out


def test_one_row_per_format_and_backend_with_real_numbers(exported, tmp_path):
    result = edgecnn_in(tmp_path, "bench", exported, "--runs", "20", "--limit", "10", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    # verify on the same held-out sample (same split, 10 per class) gives each export's accuracy image for image
    # (a one-epoch model's int8 export may drift past its gate on 20 images: verify then exits 1, as it must)
    checked = edgecnn_in(tmp_path, "verify", exported, "--limit", "10", "--json", tmp_path / "verify.json")
    verify = json.loads((tmp_path / "verify.json").read_text())
    assert checked.returncode == (0 if verify["passed"] else 1), checked.stderr
    accuracy = {Path(entry["file"]).name: entry["parity"]["accuracy"] / 100 for entry in verify["formats"]}
    assert {(r["file"], r["backend"]) for r in rows} >= {
        ("model_tflite_float32.tflite", "litert"), ("model_tflite_int8_uint8io.tflite", "litert"),
        ("model_onnx_float32.onnx", "onnxruntime")}
    for row in rows:
        if row["backend"] == "tflite_runtime":
            continue  # only present where the numpy<2 environment is installed
        assert row["error"] is None, row
        assert 0 < row["latency_p50_ms"] <= row["latency_p90_ms"]
        assert row["fps"] == pytest.approx(1000.0 / row["latency_p50_ms"])
        assert row["images"] == verify["images"] == 20 and row["size_bytes"] > 10_000
        assert row["accuracy"] == pytest.approx(accuracy[row["file"]]), (row, accuracy)
        if "float32" in row["file"]:  # float32 exports agree with Keras on every image, so score as it does
            assert row["accuracy"] == pytest.approx(verify["keras_accuracy"] / 100), row
        assert row["peak_rss_mb"] > 10 and row["cold_start_ms"] > 0


def test_worker_process_never_loads_tensorflow(exported):
    import subprocess
    import sys

    spec = {"model": str(exported / "model_tflite_int8_uint8io.tflite"), "backend": "litert", "threads": 1,
            "runs": 3, "warmup": 1}
    done = subprocess.run([sys.executable, "-m", "edgecnn.bench_worker", json.dumps(spec)], capture_output=True,
                          text=True, check=True)
    assert json.loads(done.stdout)["tensorflow_loaded"] is False


def test_foreign_model_without_contract_is_timed_on_random_inputs(tmp_path):
    import tensorflow as tf

    inputs = tf.keras.Input((32, 32, 3))
    outputs = tf.keras.layers.Dense(4)(tf.keras.layers.Flatten()(tf.keras.layers.Conv2D(4, 3)(inputs)))
    model = tf.keras.Model(inputs, outputs)
    foreign = tmp_path / "someone_elses.tflite"
    foreign.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    result = edgecnn_in(tmp_path, "bench", foreign, "--runs", "5", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and rows[0]["accuracy"] is None and rows[0]["latency_p50_ms"] > 0
    assert rows[0]["verify_status"] == "no contract: accuracy unknown"
    assert np.isfinite(rows[0]["fps"])


def test_corrupt_model_file_is_a_one_line_error(tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"TFL3" + bytes(range(256)) * 4)
    result = edgecnn_in(tmp_path, "bench", broken, "--runs", "5")
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "broken.tflite" in lines[0], result.stderr


def test_missing_target_is_a_one_line_error(tmp_path):
    result = edgecnn_in(tmp_path, "bench", tmp_path / "nothing-here")
    assert result.returncode == 2
    assert error_lines(result.stderr) == [f"edgecnn bench: error: {tmp_path / 'nothing-here'}: no such model file "
                                          f"or artifact folder"]


def _own_peak_mb() -> float:
    """The test process's VmHWM in MB: the peak a worker would inherit through ru_maxrss."""
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise AssertionError("no VmHWM in /proc/self/status")


def test_worker_reports_its_own_peak_rss_not_its_parents():
    """Started from a process holding TensorFlow (as 'edgecnn pipeline' is), the worker's figure is its own."""
    import subprocess
    import sys

    import tensorflow as tf

    from edgecnn.runtime.cli import SHIPPED_CNN

    tf.constant([1.0]) + 1.0  # TensorFlow loaded and running in this (parent) process
    spec = {"model": str(SHIPPED_CNN), "backend": "litert", "threads": 1, "runs": 3, "warmup": 1}
    done = subprocess.run([sys.executable, "-m", "edgecnn.bench_worker", json.dumps(spec)], capture_output=True,
                          text=True, check=True)
    worker = json.loads(done.stdout)["peak_rss_mb"]
    parent = _own_peak_mb()  # ru_maxrss, which the worker used to read, inherits this peak across fork and exec
    assert 10 < worker < parent / 2, (worker, parent)
