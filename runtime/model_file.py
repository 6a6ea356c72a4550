"""Finding the model contract of a model file: embedded in the file first, then the sidecar beside it.

Both readers are pure Python: TFLite metadata through :mod:`edgecnn.runtime.tflite_metadata`, ONNX
``metadata_props`` by scanning the top level of the ``ModelProto`` protobuf (the ``onnx`` package is a convert-time
dependency, not a runtime one).
"""

from __future__ import annotations

import logging
from pathlib import Path

from edgecnn.runtime.contract import METADATA_KEY, ModelContract, read_sidecar, sidecar_path
from edgecnn.runtime.errors import ContractError, ModelLoadError
from edgecnn.runtime.tflite_metadata import check_model_size, read_metadata

log = logging.getLogger("edgecnn.runtime")
_told: set[Path] = set()  # model files whose sidecar conflict was already said (once per process)
_ONNX_METADATA_PROPS = 14  # ModelProto.metadata_props: repeated StringStringEntryProto {key = 1; value = 2}
CONTRACT_FLAGS = "--labels, --input-size and --channels"


def read_contract(path: str | Path) -> ModelContract:
    """The contract embedded in ``path``, else its sidecar; :class:`ContractError` says which flags to pass."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such model file (expected a .tflite or .onnx file)")
    embedded = read_embedded_contract(path)
    if embedded is not None:
        _say_if_sidecar_differs(path, embedded)
        return embedded
    sidecar = read_sidecar(path)
    if sidecar is not None:
        return sidecar
    raise ContractError(f"{path}: no model contract inside the file and no sidecar {sidecar_path(path).name}; "
                        f"pass {CONTRACT_FLAGS} to describe its input and labels")


def _say_if_sidecar_differs(path: Path, embedded: ModelContract) -> None:
    """The contract inside the file wins over its sidecar (it cannot be separated from the weights); a sidecar that
    says something else is named once, so an edit to it is not silently ignored."""
    try:
        sidecar = read_sidecar(path)
        problem = None if sidecar is None or sidecar == embedded else "differs from"
    except ContractError as err:
        problem = f"is unreadable ({err}) and is ignored in favour of"
    if problem and path not in _told:
        _told.add(path)
        log.warning("%s %s the contract embedded in %s; using the embedded one", sidecar_path(path).name, problem,
                    path.name)


def read_embedded_contract(path: str | Path) -> ModelContract | None:
    """The contract inside a ``.tflite`` or ``.onnx`` file, or None when it has none."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        payload = read_metadata(path).get(METADATA_KEY)
    elif suffix == ".onnx":
        payload = read_onnx_metadata(path).get(METADATA_KEY)
    else:
        return None
    if payload is None:
        return None
    return ModelContract.from_json(payload, origin=f"{path} (embedded contract)")


def read_onnx_metadata(path: str | Path) -> dict[str, bytes]:
    """The ``metadata_props`` of an ONNX file as ``{key: UTF-8 value bytes}``; skips the graph without parsing it."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            first = handle.read(1)
            check_model_size(path, handle.seek(0, 2))
            # Protobuf writers emit fields in number order, so a ModelProto starts with ir_version (field 1, varint).
            if first != b"\x08":
                raise ModelLoadError(f"{path}: not a valid ONNX model (first byte {first!r}, expected b'\\x08': "
                                     f"ir_version); expected an ONNX ModelProto as written by tf2onnx")
            handle.seek(0)
            data = handle.read()
    except OSError as err:
        raise ModelLoadError(f"{path}: cannot read the model file ({err.strerror or err})") from None
    entries = {}
    try:
        for number, value in _fields(data):
            if number == _ONNX_METADATA_PROPS and isinstance(value, (bytes, memoryview)):
                entry = {n: bytes(v) for n, v in _fields(bytes(value)) if n in (1, 2)}
                entries[entry.get(1, b"").decode("utf-8")] = entry.get(2, b"")
    except (IndexError, ValueError, UnicodeDecodeError) as err:
        raise ModelLoadError(f"{path}: not a valid ONNX model (protobuf: {err}); expected an ONNX ModelProto "
                             f"as written by tf2onnx") from None
    return entries


def _fields(data: bytes):
    """Yields ``(field number, value)`` of one protobuf message; length-delimited values as memoryviews."""
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        key, pos = _varint(view, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(view, pos)
        elif wire == 1:
            value, pos = view[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(view, pos)
            if pos + length > len(view):
                raise ValueError(f"field {number} runs past the end of the file")
            value, pos = view[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = view[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire} at byte {pos}")
        if pos > len(view):
            raise ValueError("truncated message")
        yield number, value


def _varint(view: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = view[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def probe_keras(path: str | Path) -> None:
    """:class:`ModelLoadError` unless ``path`` is a whole ``.keras`` archive (a zip with ``config.json`` and the
    weights), checked without TensorFlow: no start-up logging, and not Keras's "File not found" for a file that is
    there but broken."""
    import zipfile

    path = Path(path)
    expected = "expected a .keras file saved by Keras 3 (a zip with config.json and model.weights.h5)"
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such .keras file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip() if "config.json" in names else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as err:
        raise ModelLoadError(f"{path}: not a loadable Keras model (not a whole zip archive: {err}); {expected}") \
            from None
    except OSError as err:
        raise ModelLoadError(f"{path}: cannot read this .keras file ({err.strerror or err})") from None
    missing = [name for name in ("config.json", "model.weights.h5") if name not in names]
    if missing:
        raise ModelLoadError(f"{path}: not a loadable Keras model ({', '.join(missing)} missing inside); {expected}")
    if broken is not None:
        raise ModelLoadError(f"{path}: not a loadable Keras model ({broken} inside is corrupt); {expected}")

