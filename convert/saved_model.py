"""A TensorFlow SavedModel folder as the Keras model of an artifact.

Keras 3 cannot rebuild layers from a SavedModel; it can only call one of its endpoints through
``keras.layers.TFSMLayer``. ``edgecnn import`` therefore keeps the SavedModel itself, copied into the artifact as
``saved_model/``, and writes ``model.keras`` as a one-layer wrapper (image input -> the SavedModel's endpoint), so that
every stage finds the Keras model it expects and the converters (TFLite ``from_keras_model``, tf2onnx
``from_function``) trace through the endpoint like any other model. A saved ``TFSMLayer`` stores its SavedModel as an
absolute path that Keras refuses to load unless unsafe deserialization is switched on for everything;
:func:`custom_objects_for` instead loads ``model.keras`` with a layer class bound to the ``saved_model/`` beside it, so
the artifact can be moved and nothing else is loaded unsafely.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

SAVED_MODEL_DIR = "saved_model"
ENDPOINTS = ("serve", "serving_default")
"""``model.export()`` (Keras 3) names its endpoint ``serve``; ``tf.saved_model.save`` and Keras 2 name it
``serving_default``."""


class SavedModelError(ValueError):
    """The folder is not a SavedModel with one image endpoint (the importer turns it into a ModelImportError)."""


def is_saved_model(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "saved_model.pb").is_file()


def folder_sha256(folder: Path) -> str:
    """SHA-256 over every file of ``folder``: relative path and contents, in sorted order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(file.relative_to(folder).as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _layer_class():
    import keras

    class SavedModelEndpoint(keras.layers.TFSMLayer):
        """TFSMLayer that also calls signature endpoints (keyword-only arguments, dict results) with one tensor."""

        def call(self, inputs, training=False, **kwargs):
            fn = self.call_endpoint_fn
            names = _keyword_inputs(fn)
            result = fn(**{names[0]: inputs}) if names else fn(inputs)
            if isinstance(result, dict):
                result = next(iter(result.values()))
            return result

        # The endpoint computes with the SavedModel's own variables; the copies TFSMLayer tracks are never read, so
        # model.keras stores none and loading takes none (the weights live in saved_model/).
        def save_own_variables(self, store):
            return None

        def load_own_variables(self, store):
            return None

    return SavedModelEndpoint


def _keyword_inputs(fn) -> list[str]:
    """Names of the keyword inputs of a signature function; empty for a function that takes its input by position."""
    structured = getattr(fn, "structured_input_signature", None)
    if not structured:
        return []
    args, kwargs = structured
    return [] if args else sorted(kwargs)


def _input_output(fn) -> tuple[tuple, tuple]:
    """``(input specs, output specs)`` of an endpoint, flattened."""
    import tensorflow as tf

    args, kwargs = fn.structured_input_signature if hasattr(fn, "structured_input_signature") else ((), {})
    inputs = tf.nest.flatten((args, kwargs))
    outputs = tf.nest.flatten(getattr(fn, "structured_outputs", ()))
    return tuple(inputs), tuple(outputs)


def _endpoint(loaded, folder: Path) -> tuple[str, Any]:
    for name in ENDPOINTS:
        fn = getattr(loaded, name, None)
        if fn is not None and hasattr(fn, "structured_input_signature"):
            return name, fn
        if fn is None and name in loaded.signatures:
            return name, loaded.signatures[name]
        concrete = getattr(fn, "concrete_functions", None) or []
        if concrete:
            return name, concrete[0]
    raise SavedModelError(f"{folder}: the SavedModel has no '{ENDPOINTS[0]}' or '{ENDPOINTS[1]}' endpoint "
                          f"(it has {sorted(loaded.signatures) or 'none'}); expected one written by model.export() "
                          f"or tf.saved_model.save(model)")


def wrap_saved_model(folder: Path, name: str = "imported") -> Any:
    """A Keras model: one image input of the endpoint's shape -> the SavedModel's endpoint."""
    import keras
    import tensorflow as tf

    folder = Path(folder).resolve()
    try:
        loaded = tf.saved_model.load(str(folder))
    except Exception as err:  # noqa: BLE001 - TensorFlow raises OSError, ValueError, its own errors for a bad folder
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise SavedModelError(f"{folder}: TensorFlow cannot load this SavedModel ({type(err).__name__}: {first})") \
            from None
    endpoint, fn = _endpoint(loaded, folder)
    inputs, outputs = _input_output(fn)
    if len(inputs) != 1:
        raise SavedModelError(f"{folder}: endpoint '{endpoint}' takes {len(inputs)} inputs; expected one image "
                              f"input (batch, height, width, channels)")
    if len(outputs) != 1:
        raise SavedModelError(f"{folder}: endpoint '{endpoint}' returns {len(outputs)} outputs; expected one "
                              f"output of class probabilities")
    shape = tuple(inputs[0].shape)
    if len(shape) != 4:
        raise SavedModelError(f"{folder}: endpoint '{endpoint}' takes shape {shape}; expected an image input "
                              f"(batch, height, width, channels)")
    layer = _layer_class()(str(folder), call_endpoint=endpoint, name="saved_model")
    image = keras.Input(shape=shape[1:], name="image")
    return keras.Model(image, layer(image), name=name)


def custom_objects_for(model_path: Path) -> dict:
    """For a ``model.keras`` with a ``saved_model/`` beside it: a TFSMLayer class bound to that folder."""
    folder = Path(model_path).resolve().parent / SAVED_MODEL_DIR
    if not is_saved_model(folder):
        return {}
    base = _layer_class()

    class ArtifactSavedModel(base):
        @classmethod
        def from_config(cls, config, custom_objects=None, safe_mode=None):
            # The SavedModel is the artifact's own copy beside model.keras, not the path stored at import time.
            return cls(**{**config, "filepath": str(folder)})

    return {"TFSMLayer": ArtifactSavedModel, "SavedModelEndpoint": ArtifactSavedModel}
