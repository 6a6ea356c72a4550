"""``edgecnn import``: a reader's own model, saved the way the book's code saves it, through every later stage.

One small Sequential CNN (64x64 RGB, rock/paper/scissors) is trained a few epochs on real rps-real-pi images with the
1/255 scaling *outside* the model, as ImageDataGenerator(rescale=1/255) does, then saved three ways: ``.h5`` (Keras 2
style, what the book saves), ``.keras`` and a SavedModel (``model.export``). Shared by every test of the module.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edgecnn.convert.errors import ModelImportError, ParityError
from edgecnn.convert.import_load import KINDS
from edgecnn.convert.import_model import ImportOptions, import_model
from edgecnn.runtime.images import is_image_file, load_for_model

from cli_helpers import error_lines, run_edgecnn

SIZE = (64, 64)
LABELS = ("paper", "rock", "scissors")
FILES = {"keras": "rps.keras", "h5": "rps.h5", "saved_model": "rps_saved_model"}


def _images(folder: Path, per_class: int) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    paths, labels = [], []
    for index, label in enumerate(LABELS):
        files = sorted(p for p in (folder / label).iterdir() if is_image_file(p))[:per_class]
        paths += files
        labels += [index] * len(files)
    return np.stack([load_for_model(p, SIZE) for p in paths]), np.array(labels), paths


@pytest.fixture(scope="module")
def book_models(tmp_path_factory, shared_data) -> dict[str, Path]:
    """The same trained model as ``.keras``, ``.h5`` and a SavedModel folder; the 1/255 is outside it."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    pixels, labels, _ = _images(shared_data / "rps-real-pi" / "train", 100)
    model = keras.Sequential([
        keras.Input((*SIZE, 3)),
        layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(32, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(pixels / 255.0, labels, epochs=8, batch_size=32, verbose=0, shuffle=True)
    folder = tmp_path_factory.mktemp("book")
    model.save(folder / FILES["h5"])
    model.save(folder / FILES["keras"])
    model.export(folder / FILES["saved_model"], verbose=False)
    return {kind: folder / name for kind, name in FILES.items()}


@pytest.fixture(scope="module")
def imports(book_models, shared_data, tmp_path_factory) -> dict:
    """Each saved form imported with --data (labels from its class folders, value range assumed): ImportResults."""
    out = tmp_path_factory.mktemp("imported")
    return {kind: import_model(path, out / kind, ImportOptions(data=shared_data / "rps-real-pi"))
            for kind, path in book_models.items()}


@pytest.fixture(scope="module")
def imported(imports) -> dict[str, Path]:
    return {kind: result.out for kind, result in imports.items()}


def test_every_kind_is_covered():
    assert set(FILES) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_contract_comes_from_the_model_and_says_what_was_assumed(kind, book_models, imports):
    from edgecnn.convert.runner import sha256_of
    from edgecnn.convert.saved_model import folder_sha256

    result = imports[kind]
    contract = result.contract
    assert (contract.input_size, contract.channel_order, contract.labels) == (SIZE, "RGB", LABELS)
    assert contract.output_activation == "softmax" and contract.value_range == (0.0, 1.0)
    source = book_models[kind]
    assert contract.source_sha256 == (folder_sha256(source) if kind == "saved_model" else sha256_of(source))
    if kind == "keras":  # copied byte for byte: the exports' source hash is the user's own file's
        assert sha256_of(result.out / "model.keras") == sha256_of(source)
    assert contract.extra["import"]["value_range"] == "assumed"
    notes = "\n".join(result.notes)
    assert "value range: 0,1 (assumed" in notes and "--value-range" in notes
    held_out = [note for note in result.notes if note.startswith("held-out check")]
    accuracy = float(held_out[0].split("%")[0].rsplit(" ", 1)[1])
    assert accuracy > 70.0, held_out  # far above chance (33%): the 0-1 scaling really reaches the model


@pytest.mark.parametrize("kind", ["h5", "saved_model"])
def test_round_trip_int8_tflite_and_onnx_verified_and_run(kind, imported, shared_data):
    from edgecnn.convert.runner import ConvertOptions, convert_artifact
    from edgecnn.convert.verify import VerifyOptions, verify_artifact

    art = imported[kind]
    formats = ("tflite_int8_uint8io", "onnx_int8")
    convert_artifact(art, ConvertOptions(formats=formats, isolate=False))
    report = verify_artifact(art, VerifyOptions(limit=20, formats=formats))
    report.raise_for_failures()
    assert report.keras_accuracy > 70.0 and report.value_range_problem is None
    for item in report.formats:
        assert item.parity.accuracy > 65.0, item.format  # int8 calibrated on 0-1 images, as the runtime feeds them

    # The live loop on real image files, through the installed command line (no TensorFlow in it).
    _, truth, paths = _images(shared_data / "rps-real-pi" / "validation", 4)
    result = run_edgecnn("run", "--model", art / "model_tflite_int8_uint8io.tflite", "--source",
                         shared_data / "rps-real-pi" / "validation" / "rock", "--headless", "--max-frames", "4")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4 and sum(line["label"] == "rock" for line in lines) >= 3


def test_inspect_features_feeds_the_imported_range(imported, shared_data, book_models):
    import keras

    from edgecnn.inspect.feature_maps import inspect_image
    from edgecnn.inspect.model_source import resolve_model

    image = sorted((shared_data / "rps-real-pi" / "validation" / "paper").iterdir())[0]
    report = inspect_image(resolve_model(imported["h5"]), image)
    model = keras.saving.load_model(book_models["keras"], compile=False)
    expected = model.predict(load_for_model(image, SIZE)[None] / 255.0, verbose=0)[0]
    assert np.allclose([report.probabilities[label] for label in LABELS], expected, atol=1e-5)


def test_verify_catches_a_wrong_value_range(book_models, shared_data, tmp_path):
    from edgecnn.convert.runner import ConvertOptions, convert_artifact
    from edgecnn.convert.verify import VerifyOptions, verify_artifact

    art = import_model(book_models["keras"], tmp_path / "art",
                       ImportOptions(labels=LABELS, value_range=(-1.0, 1.0))).out  # no --data: not checked yet
    convert_artifact(art, ConvertOptions(formats=("tflite_float32",), isolate=False))
    report = verify_artifact(art, VerifyOptions(data=shared_data / "rps-real-pi", limit=30))
    assert report.value_range_problem and "probably the wrong value range" in report.value_range_problem
    assert "--value-range 0,1" in report.value_range_problem
    with pytest.raises(ParityError, match="probably the wrong value range"):
        report.raise_for_failures()


def test_import_with_data_refuses_a_wrong_value_range_and_keeps_the_old_artifact(imported, book_models, shared_data):
    art = imported["keras"]
    before = (art / "model.keras.contract.json").read_bytes()
    with pytest.raises(ModelImportError, match=r"probably the wrong value range.*pass --value-range 0,1"):
        import_model(book_models["keras"], art, ImportOptions(data=shared_data / "rps-real-pi",
                                                              value_range=(-1.0, 1.0), force=True))
    assert (art / "model.keras.contract.json").read_bytes() == before


def test_out_folder_is_never_taken_over(book_models, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ModelImportError, match="is not an edgecnn artifact folder"):
        import_model(book_models["keras"], tmp_path / "mine", ImportOptions(labels=LABELS, force=True))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    import_model(book_models["keras"], tmp_path / "art", ImportOptions(labels=LABELS))
    with pytest.raises(ModelImportError, match="pass --force"):
        import_model(book_models["keras"], tmp_path / "art", ImportOptions(labels=LABELS))


# --- bad input: one line naming the file and what was expected --------------------------------------------------

def _save(model, path: Path) -> Path:
    model.save(path)
    return path


def _two_inputs(folder: Path) -> Path:
    import keras

    a, b = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
    x = keras.layers.Flatten()(keras.layers.Add()([a, b]))
    return _save(keras.Model([a, b], keras.layers.Dense(2, activation="softmax")(x)), folder / "two_inputs.keras")


def _two_outputs(folder: Path) -> Path:
    import keras

    a = keras.Input((8, 8, 3))
    x = keras.layers.Flatten()(a)
    outputs = [keras.layers.Dense(2, activation="softmax")(x), keras.layers.Dense(3, activation="softmax")(x)]
    return _save(keras.Model(a, outputs), folder / "two_outputs.keras")


def _not_an_image(folder: Path) -> Path:
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    return _save(model, folder / "mlp.h5")


def _logits(folder: Path) -> Path:
    import keras

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(3)])
    return _save(model, folder / "logits.keras")


def _softmax3(folder: Path) -> Path:
    import keras

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    return _save(model, folder / "three.keras")


def _custom_layer(folder: Path) -> Path:
    import keras

    @keras.saving.register_keras_serializable(package="reader")
    class Brighten(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    model = keras.Sequential([keras.Input((8, 8, 3)), Brighten(), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    path = _save(model, folder / "custom.keras")
    del keras.saving.get_custom_objects()["reader>Brighten"]  # the reader's code is not here any more
    return path


def _newer_keras(folder: Path) -> Path:
    """A real .keras whose metadata says a future Keras wrote it, with an argument this Keras does not know."""
    source = _logits(folder)
    with zipfile.ZipFile(source) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    config["config"]["layers"][-1]["config"]["future_option"] = True
    entries["config.json"] = json.dumps(config).encode()
    entries["metadata.json"] = json.dumps({"keras_version": "9.1.0", "date_saved": "2031-01-01"}).encode()
    path = folder / "future.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _weights_only(folder: Path) -> Path:
    import keras

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    path = folder / "rps.weights.h5"
    model.save_weights(path)
    return path.rename(folder / "weights.h5")


def _garbage(folder: Path) -> Path:
    path = folder / "broken.keras"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    return path


BAD = {
    "two inputs": (_two_inputs, {}, "has 2 inputs; expected an image classifier"),
    "two outputs": (_two_outputs, {}, "has 2 outputs; expected an image classifier"),
    "not an image": (_not_an_image, {}, "input shape (None, 784) is not an image batch"),
    "logits": (_logits, {}, "are not probabilities"),
    "custom layer": (_custom_layer, {}, "uses the custom layer or function 'Brighten'"),
    "newer keras": (_newer_keras, {}, "needs Keras >= 9.1"),
    "weights only": (_weights_only, {}, "holds weights only"),
    "not a zip": (_garbage, {}, "not a .keras file"),
    "no such file": (lambda folder: folder / "missing.h5", {}, "no such file or folder"),
    "labels width": (_softmax3, {"labels": ("a", "b")}, "2 labels ['a', 'b'] for"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_naming_the_file(case, tmp_path):
    make, options, expected = BAD[case]
    path = make(tmp_path)
    with pytest.raises(ModelImportError) as caught:
        import_model(path, tmp_path / "out", ImportOptions(**options))
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and expected in message, message
    assert not (tmp_path / "out").exists()


def test_cli_bad_input_exit_code_and_one_line(tmp_path):
    broken = _garbage(tmp_path)
    result = run_edgecnn("import", broken, "--out", tmp_path / "out", "--labels", "a,b")
    assert result.returncode == 2
    assert error_lines(result.stderr) == [f"edgecnn import: error: {broken}: not a .keras file (a .keras file is a "
                                          f"zip archive; this is not one); expected a Keras 3 .keras file, a Keras 2 "
                                          f".h5 file (model.save('model.h5')) or a SavedModel folder"]


def test_custom_layer_model_imports_as_a_saved_model(tmp_path):
    """The way out the custom-layer message offers: export where the code is, import the SavedModel folder."""
    import keras

    class Brighten(keras.layers.Layer):  # never registered: a .keras of this model cannot be loaded
        def call(self, inputs):
            return inputs * 2.0

    model = keras.Sequential([keras.Input((8, 8, 3)), Brighten(), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.export(tmp_path / "exported", verbose=False)
    result = import_model(tmp_path / "exported", tmp_path / "art", ImportOptions(labels=("a", "b", "c")))
    assert result.kind == "saved_model" and result.contract.input_size == (8, 8)
    from edgecnn.convert.runner import load_keras_model

    pixels = np.random.default_rng(1).random((2, 8, 8, 3), dtype=np.float32)
    reloaded = load_keras_model(tmp_path / "art" / "model.keras")
    assert np.allclose(reloaded.predict(pixels, verbose=0), model.predict(pixels, verbose=0), atol=1e-6)
