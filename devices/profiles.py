"""Device profiles: one entry of data per device in ``profiles.json``, validated when loaded.

A profile says what a deploy needs to know about a device: CPU architecture and cores, the Python of each OS release
it runs and the interpreter package that installs there, threads, camera kind, default resolution and which export
to run. Adding a device is one entry in ``profiles.json``; ``edgecnn devices``, the deploy's ``--profile`` choices
and the tests that parametrize over :func:`profile_names` pick it up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecnn.data.artifact import EXPORT_SUFFIXES
from edgecnn.devices import wheels
from edgecnn.devices.errors import ProfileError
from edgecnn.runtime.backends import backend_entries

PROFILES_PATH = Path(__file__).with_name("profiles.json")

ARCHES = ("aarch64", "armv7l", "x86_64")
CAMERA_KINDS = {"csi": "CSI camera module through picamera2 (libcamera)", "usb": "USB webcam through V4L2"}
# The runtime backend (edgecnn.runtime.backends) each interpreter package provides, from the runtime's own registry.
BACKEND_OF = {entry.package: entry.name for entry in backend_entries()}
# Which interpreter packages can run which kind of export (the export format's name starts with the kind, the kind
# fixes the file suffix, and each backend says which suffixes it runs).
RUNS = {kind: tuple(entry.package for entry in backend_entries() if suffix in entry.suffixes)
        for kind, suffix in EXPORT_SUFFIXES.items()}


@dataclass(frozen=True)
class OsRelease:
    """One operating system release a device runs, and what installs there."""

    name: str
    """Human name, e.g. ``"Raspberry Pi OS 12 (bookworm) 64-bit"``."""
    python: str
    """``"X.Y"`` version of the release's ``python3``."""
    glibc: str
    """``"X.Y"`` version of its C library: which manylinux wheels install."""
    interpreter: str | None
    """Package that runs the profile's ``.tflite`` exports there, or None when no wheel exists (said in notes)."""


@dataclass(frozen=True)
class DeviceProfile:
    """What a deploy needs to know about one kind of device."""

    name: str
    """Registry key, e.g. ``"rpi5"``."""
    title: str
    """One line for listings."""
    arch: str
    """CPU architecture as ``uname -m`` prints it: ``aarch64``, ``armv7l`` or ``x86_64``."""
    cores: int
    """CPU cores."""
    ram_mb: int
    """Memory in MB (the smallest model sold)."""
    os_releases: tuple[OsRelease, ...]
    """The OS releases it runs, oldest first."""
    threads: int
    """Interpreter threads ``edgecnn run`` uses there."""
    camera: str
    """``"csi"`` (picamera2) or ``"usb"`` (V4L2)."""
    resolution: tuple[int, int]
    """Default camera ``(width, height)``."""
    export_formats: tuple[str, ...]
    """Export formats to deploy, preferred first (names from the convert stage's registry)."""
    notes: str
    """Why these choices; what does not work there."""

    def release_for_python(self, python: str) -> OsRelease:
        """The OS release whose Python is ``python``; :class:`ProfileError` lists the known ones."""
        for release in self.os_releases:
            if release.python == python:
                return release
        known = ", ".join(f"{r.python} ({r.name})" for r in self.os_releases)
        raise ProfileError(f"profile {self.name!r} knows no OS release with Python {python}; known: {known}")

    def interpreter_for(self, release: OsRelease, model_suffix: str) -> str:
        """The interpreter package to install on ``release`` for a model file ending in ``model_suffix``."""
        if model_suffix == ".onnx":
            table = wheels.load_table()
            if wheels.wheel_for(table, "onnxruntime", self.arch, release.python, release.glibc) is None:
                raise ProfileError(f"profile {self.name!r}: onnxruntime has no wheel for {self.arch} Python "
                                   f"{release.python}; deploy a .tflite export instead")
            return "onnxruntime"
        if release.interpreter is None:
            raise ProfileError(f"profile {self.name!r}: no interpreter installs on {release.name} "
                               f"({self.arch}, Python {release.python}): {self.notes}")
        return release.interpreter


def profile_names() -> list[str]:
    """Registered profile names, sorted."""
    return sorted(load_profiles(check_wheels=False))


def get_profile(name: str) -> DeviceProfile:
    """The validated profile ``name``; :class:`ProfileError` lists the valid names."""
    profiles = load_profiles()
    if name not in profiles:
        raise ProfileError(f"unknown device profile {name!r}; choose one of: {', '.join(sorted(profiles))}")
    return profiles[name]


def load_profiles(path: Path = PROFILES_PATH, check_wheels: bool = True) -> dict[str, DeviceProfile]:
    """Reads and validates every profile in ``path``; the first bad field raises :class:`ProfileError`."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ProfileError(f"{path}: cannot read device profiles ({err})") from None
    if not isinstance(data, dict) or not data:
        raise ProfileError(f"{path}: expected a JSON object of profiles by name")
    profiles = {name: parse_profile(name, entry, origin=str(path)) for name, entry in data.items()}
    if check_wheels:
        table = wheels.load_table()
        for profile in profiles.values():
            check_interpreter_wheels(profile, table)
    return profiles


def parse_profile(name: str, entry: Any, origin: str = "profile") -> DeviceProfile:
    """One profile from its JSON entry, every field checked; errors name the profile and the field."""
    where = f"{origin}: profile {name!r}"
    if not isinstance(entry, dict):
        raise ProfileError(f"{where}: expected an object, got {type(entry).__name__}")
    fields = set(DeviceProfile.__dataclass_fields__) - {"name"}
    missing, unknown = sorted(fields - set(entry)), sorted(set(entry) - fields)
    if missing or unknown:
        raise ProfileError(f"{where}: missing fields {missing}, unknown fields {unknown}; expected {sorted(fields)}")
    field = _FieldChecker(where, entry)
    arch = field.choice("arch", ARCHES)
    cores = field.positive_int("cores")
    profile = DeviceProfile(
        name=name, title=field.text("title"), arch=arch, cores=cores, ram_mb=field.positive_int("ram_mb"),
        os_releases=tuple(_parse_release(where, i, r) for i, r in enumerate(field.non_empty_list("os_releases"))),
        threads=field.positive_int("threads", maximum=cores), camera=field.choice("camera", tuple(CAMERA_KINDS)),
        resolution=field.size("resolution"), export_formats=tuple(field.non_empty_list("export_formats")),
        notes=field.text("notes"),
    )
    for fmt in profile.export_formats:
        kind = fmt.split("_", 1)[0] if isinstance(fmt, str) else None
        if kind not in RUNS:
            raise ProfileError(f"{where}: field 'export_formats': {fmt!r} is not a tflite_* or onnx_* export")
        for release in profile.os_releases:
            if release.interpreter is not None and release.interpreter not in RUNS[kind]:
                raise ProfileError(f"{where}: field 'export_formats': {fmt!r} cannot run on {release.interpreter} "
                                   f"({release.name}); it needs one of {RUNS[kind]}")
    return profile


def _parse_release(where: str, index: int, entry: Any) -> OsRelease:
    where = f"{where}: os_releases[{index}]"
    if not isinstance(entry, dict) or set(entry) != set(OsRelease.__dataclass_fields__):
        raise ProfileError(f"{where}: expected an object with fields {sorted(OsRelease.__dataclass_fields__)}")
    field = _FieldChecker(where, entry)
    interpreter = entry["interpreter"]
    if interpreter is not None:
        interpreter = field.choice("interpreter", wheels.INTERPRETER_PACKAGES)
    return OsRelease(name=field.text("name"), python=field.version("python"), glibc=field.version("glibc"),
                     interpreter=interpreter)


def check_interpreter_wheels(profile: DeviceProfile, table: dict) -> None:
    """:class:`ProfileError` when a release names an interpreter that has no wheel for its arch and Python."""
    for release in profile.os_releases:
        if release.interpreter is None:
            continue
        if wheels.wheel_for(table, release.interpreter, profile.arch, release.python, release.glibc) is None:
            raise ProfileError(f"profile {profile.name!r}: {release.interpreter} has no wheel for {profile.arch} "
                               f"Python {release.python} glibc {release.glibc} ({release.name}); see "
                               f"{wheels.TABLE_PATH.name}")


class _FieldChecker:
    """Reads typed fields of one JSON object; errors name the object and the field."""

    def __init__(self, where: str, entry: dict):
        self.where, self.entry = where, entry

    def _fail(self, name: str, expected: str) -> ProfileError:
        return ProfileError(f"{self.where}: field {name!r}: expected {expected}, got {self.entry[name]!r}")

    def text(self, name: str) -> str:
        value = self.entry[name]
        if not isinstance(value, str) or not value.strip():
            raise self._fail(name, "a non-empty string")
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        if self.entry[name] not in choices:
            raise self._fail(name, f"one of {', '.join(choices)}")
        return self.entry[name]

    def positive_int(self, name: str, maximum: int | None = None) -> int:
        value = self.entry[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1 or (maximum and value > maximum):
            raise self._fail(name, f"an integer from 1 to {maximum}" if maximum else "a positive integer")
        return value

    def version(self, name: str) -> str:
        value = self.entry[name]
        parts = value.split(".") if isinstance(value, str) else []
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise self._fail(name, 'a "major.minor" version string')
        return value

    def size(self, name: str) -> tuple[int, int]:
        value = self.entry[name]
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value)):
            raise self._fail(name, "[width, height] in pixels")
        return (value[0], value[1])

    def non_empty_list(self, name: str) -> list:
        value = self.entry[name]
        if not isinstance(value, list) or not value:
            raise self._fail(name, "a non-empty list")
        return value
