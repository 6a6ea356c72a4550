"""Reads the ``metadata`` entries of a ``.tflite`` file in pure Python (no TensorFlow, no ``flatbuffers`` package).

A ``.tflite`` file is a FlatBuffer whose root table is ``Model`` (schema.fbs). The two fields read here:

* field 4 ``buffers: [Buffer]`` with ``Buffer { data: [ubyte]; offset: ulong; size: ulong }``; models over 2 GB keep
  the bytes after the FlatBuffer and set ``offset`` (from the start of the file) and ``size`` instead of ``data``;
* field 6 ``metadata: [Metadata]`` with ``Metadata { name: string; buffer: uint }`` (an index into ``buffers``).

Every read is bounds-checked, so a truncated or garbage file raises :class:`ModelLoadError` naming it. The same
checks (:func:`probe_tflite`) run before a file is handed to the C++ interpreter, which does not always survive garbage.
"""

from __future__ import annotations

import struct
from pathlib import Path

from edgecnn.runtime.errors import ModelLoadError

FILE_IDENTIFIER = b"TFL3"
MAX_MODEL_BYTES = 1 << 30
"""Largest model file edgecnn reads (1 GiB; the chapter's largest export is ~90 MB). Checked from the file's size,
after its first bytes, before the file is read whole."""
_MODEL_BUFFERS = 4
_MODEL_METADATA = 6
_METADATA_NAME, _METADATA_BUFFER = 0, 1
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2
_MODEL_SUBGRAPHS, _SUBGRAPH_TENSORS = 2, 0
_TENSOR_SHAPE, _TENSOR_TYPE, _TENSOR_NAME, _TENSOR_QUANTIZATION = 0, 1, 3, 4
_QUANT_SCALE, _QUANT_ZERO_POINT, _QUANT_DIMENSION = 2, 3, 6
# TensorType -> the zero points it can hold: INT8, UINT8, INT16, INT4. Measured: LiteRT segfaults on a zero point
# of 300 in an int8 tensor, and on a NaN, 0 or negative scale, instead of refusing the file.
_ZERO_POINT_RANGE = {9: (-128, 127), 3: (0, 255), 7: (-32768, 32767), 17: (-8, 7)}


class _FlatBuffer:
    """Bounds-checked access to the tables, vectors and strings of one FlatBuffer."""

    def __init__(self, data: bytes, origin: str):
        self.data = data
        self.origin = origin

    def fail(self, what: str) -> ModelLoadError:
        return ModelLoadError(f"{self.origin}: not a valid .tflite model ({what}); expected a TFLite FlatBuffer "
                              f"as written by the TFLite converter")

    def _unpack(self, fmt: str, pos: int):
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > len(self.data):
            raise self.fail(f"reference to byte {pos} beyond the end of the file ({len(self.data)} bytes)")
        return struct.unpack_from(fmt, self.data, pos)[0]

    def root(self) -> int:
        return self._unpack("<I", 0)

    def field_pos(self, table: int, field: int) -> int | None:
        """Position of ``field`` in the table at ``table``, or None when the field is absent (default value)."""
        vtable = table - self._unpack("<i", table)
        vtable_size = self._unpack("<H", vtable)
        entry = 4 + 2 * field
        if entry + 2 > vtable_size:
            return None
        offset = self._unpack("<H", vtable + entry)
        return table + offset if offset else None

    def scalar(self, table: int, field: int, fmt: str, default: int = 0) -> int:
        pos = self.field_pos(table, field)
        return default if pos is None else self._unpack(fmt, pos)

    def indirect(self, pos: int) -> int:
        return pos + self._unpack("<I", pos)

    def vector(self, table: int, field: int) -> tuple[int, int]:
        """``(start, length)`` of the vector in ``field``; ``(0, 0)`` when absent."""
        pos = self.field_pos(table, field)
        if pos is None:
            return 0, 0
        vec = self.indirect(pos)
        length = self._unpack("<I", vec)
        return vec + 4, length

    def byte_vector(self, table: int, field: int) -> bytes:
        start, length = self.vector(table, field)
        if start + length > len(self.data):
            raise self.fail(f"a byte vector of {length} bytes runs past the end of the file")
        return bytes(self.data[start:start + length])

    def string(self, table: int, field: int) -> str:
        raw = self.byte_vector(table, field)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("a metadata name is not UTF-8") from None

    def table_vector(self, table: int, field: int) -> list[int]:
        start, length = self.vector(table, field)
        if start + 4 * length > len(self.data):
            raise self.fail(f"a table vector of {length} entries runs past the end of the file")
        return [self.indirect(start + 4 * i) for i in range(length)]


def _load(path_or_bytes: str | Path | bytes) -> _FlatBuffer:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return _FlatBuffer(bytes(path_or_bytes), "<tflite bytes>")
    path = Path(path_or_bytes)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            check_model_size(path, handle.seek(0, 2))
            if len(head) >= 8 and head[4:8] != FILE_IDENTIFIER:  # a wrong file: refused without reading it all
                raise _FlatBuffer(head, str(path)).fail(f"file identifier {head[4:8]!r}, expected {FILE_IDENTIFIER!r}")
            handle.seek(0)
            data = handle.read()
    except OSError as err:
        raise ModelLoadError(f"{path}: cannot read the model file ({err.strerror or err})") from None
    return _FlatBuffer(data, str(path))


def check_model_size(path: Path, size: int) -> None:
    """:class:`ModelLoadError` when a model file is over :data:`MAX_MODEL_BYTES` (or empty)."""
    if size > MAX_MODEL_BYTES:
        raise ModelLoadError(f"{path}: {size / 2**20:.0f} MiB is larger than the {MAX_MODEL_BYTES >> 20} MiB "
                             f"edgecnn loads as a model")
    if size == 0:
        raise ModelLoadError(f"{path}: the file is empty; expected a .tflite or .onnx model")


def _check_header(fb: _FlatBuffer) -> int:
    """Checks the identifier and the root table; returns the root table's position."""
    if len(fb.data) < 16:
        raise fb.fail(f"only {len(fb.data)} bytes")
    if fb.data[4:8] != FILE_IDENTIFIER:
        raise fb.fail(f"file identifier {bytes(fb.data[4:8])!r}, expected {FILE_IDENTIFIER!r}")
    root = fb.root()
    fb.field_pos(root, 0)  # dereferences the vtable: fails cleanly on a garbage root offset
    return root


def _buffer_bytes(fb: _FlatBuffer, buffer_table: int) -> bytes:
    offset = fb.scalar(buffer_table, _BUFFER_OFFSET, "<Q")
    size = fb.scalar(buffer_table, _BUFFER_SIZE, "<Q")
    # Models over 2 GB: offset > 1 marks bytes stored after the FlatBuffer, counted from the start of the file.
    if offset > 1:
        if offset + size > len(fb.data):
            raise fb.fail(f"buffer bytes at {offset}+{size} lie beyond the end of the file")
        return bytes(fb.data[offset:offset + size])
    return fb.byte_vector(buffer_table, _BUFFER_DATA)


def read_metadata(path_or_bytes: str | Path | bytes) -> dict[str, bytes]:
    """The ``Model.metadata`` entries of a ``.tflite`` file or its bytes, as ``{name: buffer bytes}``."""
    return _metadata(_load(path_or_bytes))


def _metadata(fb: _FlatBuffer) -> dict[str, bytes]:
    root = _check_header(fb)
    buffers = fb.table_vector(root, _MODEL_BUFFERS)
    entries = {}
    for metadata_table in fb.table_vector(root, _MODEL_METADATA):
        name = fb.string(metadata_table, _METADATA_NAME)
        index = fb.scalar(metadata_table, _METADATA_BUFFER, "<I")
        if index >= len(buffers):
            raise fb.fail(f"metadata {name!r} points at buffer {index}, but the model has {len(buffers)}")
        entries[name] = _buffer_bytes(fb, buffers[index])
    return entries


def probe_tflite(path: str | Path) -> None:
    """Raises :class:`ModelLoadError` unless ``path`` looks like a whole TFLite FlatBuffer (checked before the C++
    interpreter sees it): identifier, root table, every buffer (weights) and metadata reference inside the file.

    The interpreter runs its own FlatBuffer verifier too; this catches the truncated downloads and wrong files
    early, with a message that says what the file should be.
    """
    fb = _load(path)
    root = _check_header(fb)
    for buffer_table in fb.table_vector(root, _MODEL_BUFFERS):
        offset = fb.scalar(buffer_table, _BUFFER_OFFSET, "<Q")
        size = fb.scalar(buffer_table, _BUFFER_SIZE, "<Q")
        start, length = (offset, size) if offset > 1 else fb.vector(buffer_table, _BUFFER_DATA)
        if start + length > len(fb.data):
            raise fb.fail(f"weights of {length} bytes at byte {start} run past the end of the file "
                          f"({len(fb.data)} bytes): truncated?")
    _check_quantization(fb, root)
    _metadata(fb)


def _check_quantization(fb: _FlatBuffer, root: int) -> None:
    """Every tensor's scales finite and > 0, zero points inside its integer type, one zero point per scale."""
    import numpy as np  # the runtime has NumPy; this module's readers alone do not need it

    for subgraph in fb.table_vector(root, _MODEL_SUBGRAPHS):
        for tensor in fb.table_vector(subgraph, _SUBGRAPH_TENSORS):
            pos = fb.field_pos(tensor, _TENSOR_QUANTIZATION)
            if pos is None:
                continue
            quantization = fb.indirect(pos)
            scales = _numbers(fb, quantization, _QUANT_SCALE, "<f4", np)
            zero_points = _numbers(fb, quantization, _QUANT_ZERO_POINT, "<i8", np)
            name = fb.string(tensor, _TENSOR_NAME) if fb.field_pos(tensor, _TENSOR_NAME) else "?"
            if len(scales) and not (np.isfinite(scales).all() and (scales > 0).all()):
                bad = scales[~(np.isfinite(scales) & (scales > 0))][0]
                raise fb.fail(f"tensor {name!r} has quantization scale {bad}; scales must be finite and > 0")
            if len(zero_points) and len(zero_points) != len(scales):
                raise fb.fail(f"tensor {name!r} has {len(scales)} scales but {len(zero_points)} zero points")
            low, high = _ZERO_POINT_RANGE.get(fb.scalar(tensor, _TENSOR_TYPE, "<b"), (-2**31, 2**31 - 1))
            if len(zero_points) and not ((zero_points >= low) & (zero_points <= high)).all():
                bad = zero_points[(zero_points < low) | (zero_points > high)][0]
                raise fb.fail(f"tensor {name!r} has zero point {bad}, outside its type's {low}..{high}")


def _numbers(fb: _FlatBuffer, table: int, field: int, dtype: str, np):
    start, length = fb.vector(table, field)
    size = np.dtype(dtype).itemsize
    if start + size * length > len(fb.data):
        raise fb.fail(f"a vector of {length} numbers runs past the end of the file")
    return np.frombuffer(fb.data, dtype, length, start) if length else np.zeros(0, dtype)
