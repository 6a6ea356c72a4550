"""Puts the model contract inside an exported file (TFLite metadata, ONNX ``metadata_props``) and beside it.

The runtime reads the contract from the file alone (``edgecnn.runtime.model_file.read_contract``), so a ``.tflite``
copied to a Pi without its sidecar still says how to feed it. Both writes are atomic: an interrupted run leaves the
previous file in place.
"""

from __future__ import annotations

from pathlib import Path

from edgecnn.convert.errors import ConversionError
from edgecnn.runtime.atomic import atomic_path, write_bytes_atomic
from edgecnn.runtime.contract import METADATA_KEY, ModelContract, write_sidecar

TFLITE_SUFFIX = ".tflite"
ONNX_SUFFIX = ".onnx"


def add_tflite_metadata(tflite_bytes: bytes, name: str, data: bytes) -> bytes:
    """Returns ``tflite_bytes`` with a flatbuffer ``metadata`` entry ``name`` whose buffer holds ``data``.

    An existing entry of the same name is replaced (its old buffer is left empty rather than renumbering buffers
    that tensors point at). Ops, tensors and weights are repacked unchanged.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    if bytes(tflite_bytes[4:8]) != b"TFL3":
        raise ConversionError("not a TFLite flatbuffer (missing the 'TFL3' identifier); cannot add metadata")
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite_bytes))
    model.metadata = list(model.metadata or [])
    for entry in model.metadata:
        if _text(entry.name) == name:
            model.buffers[entry.buffer].data = None
    model.metadata = [entry for entry in model.metadata if _text(entry.name) != name]
    buffer = schema.BufferT()
    buffer.data = _as_uint8(data)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    return flatbuffer_utils.convert_object_to_bytearray(model)


def embed_contract(model_path: str | Path, contract: ModelContract) -> Path:
    """Writes ``contract`` inside the ``.tflite`` / ``.onnx`` file at ``model_path`` and as its sidecar.

    Returns the sidecar's path. Other file types get only the sidecar (nothing to embed into).
    """
    embed_in_file(model_path, contract)
    return write_sidecar(model_path, contract)


def embed_in_file(model_path: str | Path, contract: ModelContract) -> None:
    """Writes ``contract`` inside the ``.tflite`` / ``.onnx`` file (atomically); other suffixes are left alone."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ConversionError(f"{model_path}: no such model file to embed the contract into")
    payload = contract.to_json().encode("utf-8")
    suffix = model_path.suffix.lower()
    if suffix == TFLITE_SUFFIX:
        try:
            updated = add_tflite_metadata(model_path.read_bytes(), METADATA_KEY, payload)
        except ConversionError as err:
            raise ConversionError(f"{model_path}: {err}") from None
        write_bytes_atomic(model_path, updated)
    elif suffix == ONNX_SUFFIX:
        _embed_onnx(model_path, payload.decode("utf-8"))


def _embed_onnx(model_path: Path, payload: str) -> None:
    import onnx

    try:
        model = onnx.load(str(model_path))
    except Exception as err:  # noqa: BLE001 - onnx raises DecodeError, ValueError... for a broken file
        raise ConversionError(f"{model_path}: not a readable ONNX model ({type(err).__name__}: {err})") from None
    kept = [prop for prop in model.metadata_props if prop.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=METADATA_KEY, value=payload)
    with atomic_path(model_path) as tmp:
        onnx.save(model, str(tmp))


def _text(value: str | bytes | None) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _as_uint8(data: bytes):
    import numpy as np

    return np.frombuffer(data, dtype=np.uint8).copy()
