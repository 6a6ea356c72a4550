"""Image dimensions from the first bytes of a file, read before anything is decoded.

A 49 KB PNG can declare 20000x20000 pixels; OpenCV would allocate and decode all 1.2 GB of it (or raise its own
pixel-limit assertion). Reading the declared size first lets :func:`edgecnn.runtime.images.decode_image` refuse it
in microseconds. Only the formats edgecnn reads (PNG, JPEG, BMP, WebP) are recognised: any other bytes are refused,
whatever the file's suffix says, so no decoder edgecnn does not check runs on user files.
"""

from __future__ import annotations

import struct

FORMATS = ("PNG", "JPEG", "BMP", "WebP")

# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the frame's size.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_NO_LENGTH = {0x01, 0xD8, *range(0xD0, 0xD8)}


def declared_size(data: bytes) -> tuple[str, int, int] | None:
    """``(format, width, height)`` the header declares, or None when the bytes are none of :data:`FORMATS` (or the
    header is cut short)."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return "PNG", width, height
        if data[:2] == b"\xff\xd8":
            return _jpeg(data)
        if data[:2] == b"BM":
            return _bmp(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except struct.error:  # the header stops inside a field
        return None
    return None


def _jpeg(data: bytes) -> tuple[str, int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_NO_LENGTH:
            pos += 2
            continue
        if marker == 0xDA:  # start of scan before any frame header
            return None
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return "JPEG", width, height
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2:
            return None
        pos += 2 + length
    return None


def _bmp(data: bytes) -> tuple[str, int, int]:
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<HH", data[18:22])
    else:
        width, height = struct.unpack("<ii", data[18:26])
    return "BMP", abs(width), abs(height)  # a negative height means rows stored top-down


def _webp(data: bytes) -> tuple[str, int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return "WebP", width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        b0, b1, b2, b3 = data[21:25]
        return "WebP", 1 + (b0 | (b1 & 0x3F) << 8), 1 + (b1 >> 6 | b2 << 2 | (b3 & 0x0F) << 10)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return "WebP", width, height
    return None
