"""Fixtures of the conversion tests: small real Keras models trained a few steps on real images.

Two artifact folders, each laid out as ``edgecnn train`` writes them (model.keras + its contract), built once per
session: the chapter's ``cats_dogs_cnn`` (64x64 RGB, sigmoid) trained on horses-or-humans, and a tiny softmax CNN
(32x32 RGB, 3 classes) trained on rps-real-pi. Trained to confident outputs so that int8 parity is a fair test.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgecnn.runtime.contract import ModelContract, write_sidecar
from edgecnn.runtime.images import is_image_file, load_for_model

from data_sets import need_set

# Keep TensorFlow to the cores we are given and quiet; set before TensorFlow is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def class_images(root: Path, per_class: int) -> tuple[list[Path], list[int], tuple[str, ...]]:
    """The first ``per_class`` images of every class folder under ``root`` (sorted), with label indices."""
    labels = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    paths, indices = [], []
    for index, label in enumerate(labels):
        files = sorted(p for p in (root / label).iterdir() if is_image_file(p))[:per_class]
        paths += files
        indices += [index] * len(files)
    return paths, indices, labels


def build_tiny_softmax(input_shape: tuple[int, int, int], classes: int):
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu")(x)
    outputs = layers.Dense(classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="tiny_softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_artifact(out: Path, model, model_name: str, dataset: str, eval_split: str, per_class: int,
                  epochs: int, activation: str) -> Path:
    """Trains ``model`` on real images of ``dataset`` and writes the artifact folder ``out``."""
    import keras

    keras.utils.set_random_seed(7)
    height, width, _ = model.input_shape[1:]
    paths, indices, labels = class_images(need_set(dataset) / "train", per_class)
    pixels = np.stack([load_for_model(p, (height, width)) for p in paths]).astype("float32")
    model.fit(pixels, np.array(indices, dtype="float32"), epochs=epochs, batch_size=16, verbose=0, shuffle=True)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    contract = ModelContract(
        model_name=model_name, labels=labels, input_size=(height, width), output_activation=activation,
        dataset=dataset, extra={"data": {"kind": "image_folder", "root": str(need_set(dataset)),
                                         "train_split": "train", "eval_split": eval_split}})
    write_sidecar(out / "model.keras", contract)
    return out


@pytest.fixture(scope="session")
def real_pixels():
    """``real_pixels(dataset, split, per_class, (h, w))`` -> (N, h, w, 3) uint8 images, as the runtime loads them."""
    def load(dataset: str, split: str, per_class: int, size: tuple[int, int]) -> np.ndarray:
        paths, _, _ = class_images(need_set(dataset) / split, per_class)
        return np.stack([load_for_model(p, size) for p in paths])

    return load


@pytest.fixture(scope="session")
def sigmoid_artifact(tmp_path_factory) -> Path:
    from edgecnn.train.registry import build_model

    return make_artifact(tmp_path_factory.mktemp("sigmoid") / "artifact", build_model("cats_dogs_cnn"),
                         "cats_dogs_cnn", "horses-or-humans", "validation", per_class=400, epochs=10,
                         activation="sigmoid")


@pytest.fixture(scope="session")
def softmax_artifact(tmp_path_factory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("softmax") / "artifact", build_tiny_softmax((32, 32, 3), 3),
                         "tiny_softmax", "rps-real-pi", "validation", per_class=150, epochs=10,
                         activation="softmax")


@pytest.fixture(scope="session", params=["sigmoid", "softmax"])
def artifact(request) -> Path:
    """Each of the two artifacts in turn."""
    return request.getfixturevalue(f"{request.param}_artifact")
