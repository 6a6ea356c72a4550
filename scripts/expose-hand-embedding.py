#!/usr/bin/env python3
"""Makes the hand landmark model also return its own 672-value embedding, for the ``hand_embedding`` classifiers.

Usage: .venv/bin/python scripts/expose-hand-embedding.py   (needs TensorFlow: the ``train`` extra)

Reads ``runtime/models/hand_landmark_lite.tflite`` (the unchanged MediaPipe file that
``scripts/fetch-hand-models.py`` takes from the pinned wheel; its SHA-256 is checked here too) and writes
``runtime/models/hand_landmark_lite_embedding.tflite``: the same graph, operators and weights, with one more graph
output, the global-average-pooled features its landmark, presence and handedness heads all read
(``model_1/model/global_average_pooling2d/Mean``, shape (1, 672)). Only the subgraph's output list changes, so the
first four outputs are bit-identical (tests/runtime/test_hand_embedding.py checks it on real photos) and the runtime
reads the embedding at no extra cost, instead of preserving every intermediate tensor.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

MODELS = Path(__file__).resolve().parent.parent / "runtime" / "models"
SOURCE = MODELS / "hand_landmark_lite.tflite"
TARGET = MODELS / "hand_landmark_lite_embedding.tflite"
EMBEDDING_TENSOR = "global_average_pooling2d/Mean"


def expected_source_sha256() -> str:
    spec = importlib.util.spec_from_file_location("fetch_hand_models", Path(__file__).with_name("fetch-hand-models.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MEMBERS["mediapipe/modules/hand_landmark/hand_landmark_lite.tflite"]


def main() -> int:
    from tensorflow.lite.tools import flatbuffer_utils

    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    if digest != expected_source_sha256():
        print(f"{SOURCE}: SHA-256 {digest} is not the pinned MediaPipe file (run scripts/fetch-hand-models.py)",
              file=sys.stderr)
        return 1
    model = flatbuffer_utils.read_model(str(SOURCE))
    graph = model.subgraphs[0]
    found = [i for i, tensor in enumerate(graph.tensors) if tensor.name.decode().endswith(EMBEDDING_TENSOR)]
    if len(found) != 1 or list(graph.tensors[found[0]].shape) != [1, 672]:
        print(f"{SOURCE}: expected one (1, 672) tensor named *{EMBEDDING_TENSOR}", file=sys.stderr)
        return 1
    graph.outputs = np.append(graph.outputs, found[0]).astype(np.int32)
    partial = TARGET.with_name(f".{TARGET.name}.partial")
    flatbuffer_utils.write_model(model, str(partial))
    partial.replace(TARGET)
    print(f"wrote {TARGET} (SHA-256 {hashlib.sha256(TARGET.read_bytes()).hexdigest()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
