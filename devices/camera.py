"""Which camera a deployed bundle uses, and so which camera stack its install must find.

A bundle's ``--source`` says it: ``picamera`` (the CSI Camera Module through picamera2), a V4L2 camera (an index
like ``0`` or ``/dev/video2``), or ``auto`` (the default): at start ``run.sh`` asks this module, and it takes the CSI
camera when picamera2 imports and sees one, else the first V4L2 capture device that is not one of the Pi's own
media nodes (on a Pi 5 those are ``rp1-cfe`` and ``pispbe``). So only a bundle made with ``--source picamera``
needs picamera2 to install; with ``auto`` a Pi with a USB webcam and no picamera2 installs, and the doctor warns
with the fix for the CSI camera.

``python -m edgecnn.devices.camera SOURCE`` prints the ``--source`` that ``edgecnn run`` gets (what ``run.sh`` uses).
Standard library only: it runs on the device before anything else is loaded.
"""

from __future__ import annotations

import glob
import re
import subprocess
import sys
from pathlib import Path

from edgecnn.devices.errors import ProfileError

AUTO = "auto"
PICAMERA = "picamera"
SOURCE_HELP = ("the camera the bundle's run.sh uses: auto (the CSI camera when picamera2 sees one, else the first "
               "V4L2 webcam), picamera (the CSI camera only: its install needs picamera2), or a V4L2 camera: an "
               "index (0) or /dev/videoN")
# Names (sysfs .../video4linux/videoN/name) of the Pi's own media nodes: the CSI receiver, ISP and codecs.
PI_MEDIA_NODES = ("rp1-cfe", "pispbe", "bcm2835-codec", "bcm2835-isp", "unicam", "rpivid", "rpi-hevc-dec")
_V4L2 = re.compile(r"^(\d+|/dev/video\d+)$")
_PICAMERA_FINDS_ONE = ("from picamera2 import Picamera2; import sys; "
                       "sys.exit(0 if Picamera2.global_camera_info() else 3)")


def check_source(source: str) -> str:
    """``source`` when it is one a bundle can use; :class:`ProfileError` names the valid ones."""
    if source in (AUTO, PICAMERA) or _V4L2.match(source):
        return source
    raise ProfileError(f"--source {source!r}: a bundle's camera is one of auto, picamera, a V4L2 index (0) or "
                       "/dev/videoN")


def camera_need(profile_camera: str | None, source: str = AUTO) -> str | None:
    """The camera stack an install with ``source`` must find: ``"csi"`` (picamera2 required), ``"usb"`` (a V4L2
    device), ``"any"`` (either; a CSI profile with ``auto``) or None (no profile, nothing asked for)."""
    if source == PICAMERA:
        return "csi"
    if source != AUTO:
        return "usb"
    return {"csi": "any", "usb": "usb"}.get(profile_camera or "")


def v4l2_cameras() -> list[str]:
    """The V4L2 capture devices a webcam gives, in number order: the first node of each device (``index`` 0),
    without the Pi's own media nodes (:data:`PI_MEDIA_NODES`)."""
    found = []
    for node in sorted(glob.glob("/sys/class/video4linux/video*"), key=lambda p: int(re.sub(r"\D", "", p) or 0)):
        name, index = _read(Path(node) / "name"), _read(Path(node) / "index") or "0"
        if index == "0" and not any(name.startswith(internal) for internal in PI_MEDIA_NODES):
            found.append(f"/dev/{Path(node).name}")
    return found


def picamera_sees_a_camera(python: str = sys.executable) -> bool:
    """Whether picamera2 imports with ``python`` and libcamera lists a camera (a child process: a broken
    picamera2 must not take this one down)."""
    try:
        done = subprocess.run([python, "-c", _PICAMERA_FINDS_ONE], capture_output=True, timeout=60, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def resolve_source(source: str) -> str:
    """The ``--source`` for ``edgecnn run``: ``source`` itself, or for ``auto`` the CSI camera when picamera2 sees
    one, else the first V4L2 webcam (``0`` when none is plugged in yet: OpenCV's default camera)."""
    if check_source(source) != AUTO:
        return source
    if picamera_sees_a_camera():
        return PICAMERA
    cameras = v4l2_cameras()
    return cameras[0] if cameras else "0"


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        print(resolve_source(args[0] if args else AUTO))
    except ProfileError as err:
        print(f"edgecnn camera: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
