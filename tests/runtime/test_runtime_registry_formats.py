"""Every export format in the convert registry x every installed backend that runs it: ``edgecnn run --headless``
on a real video gives Keras' labels.

The tiny trained RPS model is saved as an artifact folder (model.keras + contract, as ``edgecnn train`` writes it)
and exported in-process with the convert stage's own ``export_one``, calibrated on real training images.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from runtime_fixtures import RECORD_KEYS, RPS_SIZE, class_images, edgecnn_run, keras_labels, video_frames_rgb

from edgecnn.convert.formats import format_names, get_format
from edgecnn.runtime.backends import installed_backends
from edgecnn.runtime.contract import write_sidecar
from edgecnn.runtime.images import load_for_model, resize


@pytest.fixture(scope="session")
def registry_exports(tiny_models, tmp_path_factory, shared_data):
    """``{format name: exported file}`` for every registered format, from the tiny softmax model."""
    from edgecnn.convert.runner import export_one

    root = tmp_path_factory.mktemp("artifact")
    model = tiny_models["tflite_float32"].keras_model
    model.save(root / "model.keras")
    write_sidecar(root / "model.keras", tiny_models["tflite_float32"].contract.with_format("keras"))
    paths, _, _ = class_images(shared_data / "rps-real-pi" / "train", per_class=8, skip=40)
    calibration = np.stack([load_for_model(p, RPS_SIZE) for p in paths])
    return {name: export_one(root, get_format(name), calibration, model).path for name in format_names()}


def _cases():
    for name in format_names():
        fmt = get_format(name)
        for backend in installed_backends():
            if backend in fmt.runs_on:
                yield name, backend


@pytest.mark.parametrize("name, backend", list(_cases()))
def test_every_export_format_runs_headless_like_keras(registry_exports, tiny_models, rps_video, name, backend):
    fmt = get_format(name)
    result = edgecnn_run("--model", registry_exports[name], "--source", rps_video, "--headless", "--backend",
                         backend, "--threads", 1)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 12 and all(set(r) == RECORD_KEYS for r in records)
    model = tiny_models["tflite_float32"]
    pixels = np.stack([resize(frame, RPS_SIZE) for frame in video_frames_rgb(rps_video)])
    expected = keras_labels(model, pixels)
    agreement = np.mean([r["label"] == e for r, e in zip(records, expected)])
    # Exact formats must agree on every frame; quantized ones may flip one near-tie out of 12.
    assert agreement >= (1.0 if fmt.tolerance.min_agreement == 1.0 else 11 / 12), (name, records, expected)
