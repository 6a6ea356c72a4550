"""A corpus of malformed inputs, made at test time from real seed files with a fixed random seed.

Seeds: the shipped model (runtime/models/rps_int8.tflite), real photos from ../shared/data, and a real video that
OpenCV writes from those photos. Nothing binary is committed: every case is built here, in a temporary folder.
Each :class:`Case` is one ``edgecnn`` command line and the strings its error line must name.
"""

from __future__ import annotations

import json
import random
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgecnn.runtime.tflite_metadata import _FlatBuffer

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "runtime" / "models" / "rps_int8.tflite"
SEED = 1313


@dataclass(frozen=True)
class Case:
    """One malformed input and the command that reads it."""

    name: str
    """Unique id (pytest shows it)."""
    argv: tuple[str, ...]
    """``edgecnn`` arguments."""
    names: tuple[str, ...]
    """An error line must contain one of these (the input's path or the value given)."""


def build(tmp: Path, shared_data: Path) -> list[Case]:
    rng = random.Random(SEED)
    photos = sorted((shared_data / "rps-real-pi" / "validation" / "rock").glob("*.jpg"))[:6]
    good = str(photos[0])
    cases = []
    cases += _model_cases(tmp / "models", rng, good)
    cases += _image_cases(tmp / "images", rng, photos[0])
    cases += _video_cases(tmp / "videos", rng, photos)
    cases += _contract_cases(tmp / "contracts", good)
    cases += _option_cases(tmp / "options", good)
    cases += _inspect_cases(tmp / "images")
    return cases


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _run_model(path: Path, source: str) -> tuple[str, ...]:
    return ("run", "--model", str(path), "--headless", "--source", source, "--max-frames", "1")


# --- models --------------------------------------------------------------------------------------------------------


def _quantization_positions(data: bytes) -> tuple[list[int], list[int]]:
    fb = _FlatBuffer(data, "seed")
    scales, zero_points = [], []
    for subgraph in fb.table_vector(fb.root(), 2):
        for tensor in fb.table_vector(subgraph, 0):
            pos = fb.field_pos(tensor, 4)
            if pos is None:
                continue
            table = fb.indirect(pos)
            start, count = fb.vector(table, 2)
            scales += [start + 4 * i for i in range(count)]
            start, count = fb.vector(table, 3)
            zero_points += [start + 8 * i for i in range(count)]
    return scales, zero_points


def _model_cases(folder: Path, rng: random.Random, image: str) -> list[Case]:
    seed = SHIPPED.read_bytes()
    variants: dict[str, bytes] = {"empty": b"", "text": b"not a model\n" * 10, "random": rng.randbytes(20000),
                                  "wrong-identifier": seed[:4] + b"XXXX" + seed[8:],
                                  "junk-appended": seed + b"\0" * 999, "header-only": seed[:16],
                                  "zero-root": b"\0\0\0\0" + seed[4:]}
    for fraction in (0.01, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.99):
        variants[f"truncated-{fraction}"] = seed[: int(len(seed) * fraction)]
    for i in range(30):  # a burst of random bytes somewhere in the file
        data = bytearray(seed)
        at, size = rng.randrange(8, len(seed) - 64), rng.choice((1, 4, 16, 64))
        data[at:at + size] = rng.randbytes(size)
        variants[f"burst-{i}"] = bytes(data)
    for i in range(15):  # bit flips in the first 4 kB: the FlatBuffer tables, where offsets live
        data = bytearray(seed)
        for _ in range(8):
            at = rng.randrange(8, 4096)
            data[at] ^= 1 << rng.randrange(8)
        variants[f"flips-{i}"] = bytes(data)
    scales, zero_points = _quantization_positions(seed)
    for value in (float("nan"), float("inf"), 0.0, -1.0, 1e38):
        data = bytearray(seed)
        for at in scales:
            struct.pack_into("<f", data, at, value)
        variants[f"scale-{value}"] = bytes(data)
    for value in (300, -10**12):
        data = bytearray(seed)
        for at in zero_points:
            struct.pack_into("<q", data, at, value)
        variants[f"zero-point-{value}"] = bytes(data)
    cases = []
    for name, data in variants.items():
        path = _write(folder, f"{name}.tflite", data)
        cases.append(Case(f"model-{name}", _run_model(path, image), (str(path),)))
    for name, data in (("onnx-random", rng.randbytes(5000)), ("onnx-empty", b""), ("onnx-is-tflite", seed),
                       ("onnx-varint", b"\x08" + b"\xff" * 20)):
        path = _write(folder, f"{name}.onnx", data)
        cases.append(Case(f"model-{name}", _run_model(path, image), (str(path),)))
    sparse = folder / "sparse-1g.tflite"
    with open(sparse, "wb") as handle:
        handle.truncate(1 << 30)  # sparse: no disk used
    cases.append(Case("model-sparse-1g", _run_model(sparse, image), (str(sparse),)))
    return cases


# --- images --------------------------------------------------------------------------------------------------------


def _png_with_size(png: bytes, width: int, height: int) -> bytes:
    ihdr = bytearray(png[12:29])  # type + 13 data bytes
    struct.pack_into(">II", ihdr, 4, width, height)
    return png[:12] + bytes(ihdr) + struct.pack(">I", zlib.crc32(bytes(ihdr))) + png[33:]


def _jpeg_with_size(jpeg: bytes, width: int, height: int) -> bytes:
    pos = 2
    data = bytearray(jpeg)
    while pos < len(data):
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            struct.pack_into(">HH", data, pos + 5, height, width)
            return bytes(data)
        pos += 2 + length
    raise AssertionError("no SOF in the seed JPEG")


def _image_cases(folder: Path, rng: random.Random, photo: Path) -> list[Case]:
    image = cv2.imread(str(photo))
    encoded = {suffix: cv2.imencode(suffix, image)[1].tobytes() for suffix in (".jpg", ".png", ".bmp", ".webp")}
    variants: dict[str, bytes] = {}
    for suffix, seed in encoded.items():
        kind = suffix[1:]
        variants[f"{kind}-empty{suffix}"] = b""
        variants[f"{kind}-text{suffix}"] = b"hello"
        variants[f"{kind}-random{suffix}"] = rng.randbytes(3000)
        for fraction in (0.02, 0.3, 0.7, 0.97):
            variants[f"{kind}-truncated-{fraction}{suffix}"] = seed[: int(len(seed) * fraction)]
        for i in range(4):
            data = bytearray(seed)
            at = rng.randrange(0, min(len(seed) - 32, 2000))
            data[at:at + 32] = rng.randbytes(32)
            variants[f"{kind}-burst-{i}{suffix}"] = bytes(data)
    png, jpeg, bmp = encoded[".png"], encoded[".jpg"], bytearray(encoded[".bmp"])
    for width, height in ((20000, 20000), (65535, 65535), (0, 10), (2**31 - 1, 2**31 - 1)):
        variants[f"png-declares-{width}x{height}.png"] = _png_with_size(png, width, height)
    for width, height in ((65000, 65000), (0, 0), (30000, 3)):
        variants[f"jpg-declares-{width}x{height}.jpg"] = _jpeg_with_size(jpeg, width, height)
    struct.pack_into("<ii", bmp, 18, 100000, -100000)
    variants["bmp-declares-100000x100000.bmp"] = bytes(bmp)
    variants["png-named-jpg.jpg"] = png
    variants["gif.png"] = b"GIF89a" + rng.randbytes(100)
    cases = []
    for name, data in variants.items():
        path = _write(folder, name, data)
        cases.append(Case(f"image-{name}", ("run", "--headless", "--source", str(path)), (str(path),)))
    junk = folder / "all-junk"
    for i in range(3):
        _write(junk, f"junk{i}.jpg", rng.randbytes(500))
    cases.append(Case("folder-all-junk", ("run", "--headless", "--source", str(junk)), (str(junk),)))
    mixed = folder / "mixed"
    _write(mixed, "a-good.jpg", jpeg)
    _write(mixed, "b-huge.png", variants["png-declares-20000x20000.png"])
    _write(mixed, "c-good.png", png)
    cases.append(Case("folder-mixed", ("run", "--headless", "--source", str(mixed)), (str(mixed),)))
    return cases


# --- videos --------------------------------------------------------------------------------------------------------


def _video_cases(folder: Path, rng: random.Random, photos: list[Path]) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    seeds = {}
    for suffix, codec in ((".mp4", "mp4v"), (".avi", "MJPG")):
        path = folder / f"seed{suffix}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 10.0, (160, 120))
        for photo in photos:
            writer.write(cv2.resize(cv2.imread(str(photo)), (160, 120)))
        writer.release()
        seeds[suffix] = path.read_bytes()
    cases = [Case(f"video-seed{suffix}", ("run", "--headless", "--source", str(folder / f"seed{suffix}"),
                                          "--max-frames", "3"), (str(folder / f"seed{suffix}"),)) for suffix in seeds]
    for suffix, seed in seeds.items():
        variants = {"empty": b"", "random": rng.randbytes(4000)}
        for fraction in (0.05, 0.3, 0.6, 0.95):
            variants[f"truncated-{fraction}"] = seed[: int(len(seed) * fraction)]
        for i in range(4):
            data = bytearray(seed)
            at = rng.randrange(0, len(seed) - 256)
            data[at:at + 256] = rng.randbytes(256)
            variants[f"burst-{i}"] = bytes(data)
        for name, data in variants.items():
            path = _write(folder, f"{name}{suffix}", data)
            cases.append(Case(f"video-{name}{suffix}", ("run", "--headless", "--source", str(path), "--max-frames",
                                                          "3"), (str(path),)))
    return cases


# --- contracts (sidecars of a model without an embedded one) -------------------------------------------------------


def _contract_cases(folder: Path, image: str) -> list[Case]:
    from edgecnn.runtime.model_file import read_embedded_contract

    contract = read_embedded_contract(SHIPPED).to_dict()
    # The same model with its embedded contract's key renamed (same length): only the sidecar describes it.
    bare = SHIPPED.read_bytes().replace(b"edgecnn_contract", b"edgecnn_contrac_")
    wrong: dict[str, object] = {
        "labels-string": {"labels": "abc"}, "labels-dict": {"labels": {"a": 1, "b": 2, "c": 3}},
        "labels-numbers": {"labels": [1, 2, 3]}, "labels-empty": {"labels": []}, "labels-dupes": {"labels": ["a"] * 3},
        "labels-two": {"labels": ["a", "b"]}, "labels-null": {"labels": None}, "labels-nested": {"labels": [["a"]] * 3},
        "size-string": {"input_size": "96x96"}, "size-one": {"input_size": [96]}, "size-zero": {"input_size": [0, 0]},
        "size-float": {"input_size": [96.5, 96]}, "size-huge": {"input_size": [10**12, 10**12]},
        "size-bool": {"input_size": [True, True]}, "size-wrong": {"input_size": [32, 32]},
        "range-inf": {"value_range": [0, float("inf")]}, "range-nan": {"value_range": [float("nan"), 1]},
        "range-string": {"value_range": "0-255"}, "range-reversed": {"value_range": [255, 0]},
        "range-three": {"value_range": [0, 1, 2]}, "channels-bgr": {"channel_order": "BGR"},
        "channels-number": {"channel_order": 3}, "resize-bicubic": {"resize": "bicubic"},
        "activation-relu": {"output_activation": "relu"}, "extra-list": {"extra": [1, 2]},
        "extra-string": {"extra": "x"}, "extra-null": {"extra": None}, "schema-newer": {"schema_version": 99},
        "schema-string": {"schema_version": "1"}, "unknown-field": {"colour": "blue"},
        "quant-string": {"input_quantization": "uint8"}, "quant-nan": {"input_quantization": {
            "dtype": "uint8", "scale": float("nan"), "zero_point": 0}},
        "quant-dtype": {"input_quantization": {"dtype": "float64", "scale": 1.0, "zero_point": 0}},
        "quant-zp": {"output_quantization": {"dtype": "int8", "scale": 0.1, "zero_point": 1000}},
        "name-number": {"model_name": 5}, "dataset-list": {"dataset": ["x"]}, "sha-number": {"source_sha256": 1},
    }
    texts: dict[str, bytes] = {f: json.dumps({**contract, **change}).encode() for f, change in wrong.items()}
    texts.update({"not-json": b"{labels: rock", "empty": b"", "array": b"[1, 2]", "string": b'"x"',
                  "deep": b"[" * 100000 + b"]" * 100000, "deep-object": b'{"a":' * 50000 + b"1" + b"}" * 50000,
                  "latin1": json.dumps({**contract, "labels": ["r\xf6ck", "p", "s"]}).encode("latin-1"),
                  "missing-labels": json.dumps({k: v for k, v in contract.items() if k != "labels"}).encode(),
                  "bom": b"\xef\xbb\xbf" + json.dumps(contract).encode(), "huge": b" " * (2 << 20) + b"{}"})
    cases = []
    for name, text in texts.items():
        model = _write(folder / name, "model.tflite", bare)
        sidecar = _write(folder / name, "model.tflite.contract.json", text)
        cases.append(Case(f"contract-{name}", _run_model(model, image), (str(sidecar), str(model))))
    return cases


# --- options -------------------------------------------------------------------------------------------------------


def _option_cases(folder: Path, image: str) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    blocker = _write(folder, "a-file", b"x")
    run = ("run", "--headless", "--source", image)
    options = {
        "fps-nan": ("--fps", "nan"), "fps-inf": ("--fps", "inf"), "fps-negative": ("--fps", "-1"),
        "threads-zero": ("--threads", "0"), "threads-huge": ("--threads", "100000"), "threads-text": ("--threads", "x"),
        "threshold-nan": ("--threshold", "nan"), "threshold-two": ("--threshold", "2"), "smooth-one": ("--smooth", "1"),
        "smooth-nan": ("--smooth", "nan"), "max-frames-zero": ("--max-frames", "0"),
        "serve-bad": ("--serve", "nowhere:port"), "serve-huge-port": ("--serve", "99999"),
        "save-bad-suffix": ("--save", str(folder / "out.txt")),
        "save-under-file": ("--save", str(blocker / "sub" / "out.mp4")),
        "save-is-folder": ("--save", str(folder)),
        "size-zero": ("--labels", "a,b,c", "--input-size", "0x0", "--channels", "RGB"),
        "size-text": ("--labels", "a,b,c", "--input-size", "bigxsmall", "--channels", "RGB"),
        "size-wrong": ("--labels", "a,b,c", "--input-size", "32x32", "--channels", "RGB"),
        "labels-empty": ("--labels", ",,", "--input-size", "96x96", "--channels", "RGB"),
        "labels-too-many": ("--labels", "a,b,c,d", "--input-size", "96x96", "--channels", "RGB"),
        "labels-only": ("--labels", "a,b,c"),
    }
    cases = [Case(f"option-{name}", run + flags, flags) for name, flags in options.items()]
    for name, source in (("empty", ""), ("blank", "  "), ("huge-index", "99999999999999999999"),
                         ("superscript", "\u00b2"), ("missing", str(folder / "missing.jpg")),
                         ("fifo-like-dev", "/dev/null")):
        cases.append(Case(f"source-{name}", ("run", "--headless", "--source", source), (repr(source), source)))
    return cases


def _inspect_cases(images: Path) -> list[Case]:
    cases = []
    tiny = images / "tiny.png"
    tiny.write_bytes(cv2.imencode(".png", np.zeros((2, 2, 3), np.uint8))[1].tobytes())
    for path in (tiny, images / "png-declares-20000x20000.png", images / "jpg-random.jpg",
                 images / "png-truncated-0.3.png", images / "bmp-empty.bmp"):
        cases.append(Case(f"inspect-filters-{path.name}", ("inspect", "filters", str(path), "--out",
                                                            str(images / f"{path.stem}-filters.png")), (str(path),)))
    return cases
