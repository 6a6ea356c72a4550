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
_MODEL_BUFFERS = 4
_MODEL_METADATA = 6
_METADATA_NAME, _METADATA_BUFFER = 0, 1
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2


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
        data = path.read_bytes()
    except OSError as err:
        raise ModelLoadError(f"{path}: cannot read the model file ({err.strerror or err})") from None
    return _FlatBuffer(data, str(path))


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
    _metadata(fb)
