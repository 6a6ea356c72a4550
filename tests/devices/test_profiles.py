"""Device profiles: every one validates, names interpreters that really have wheels, and bad entries say which field."""

from __future__ import annotations

import copy
import json

import pytest

from edgecnn.devices import wheels
from edgecnn.devices.errors import ProfileError
from edgecnn.devices.profiles import PROFILES_PATH, check_interpreter_wheels, get_profile, parse_profile, profile_names

RAW = json.loads(PROFILES_PATH.read_text())


def test_the_five_devices_are_there():
    assert set(profile_names()) >= {"rpi5", "rpi4", "rpi_zero2w", "rpi3", "laptop_x86_64"}


@pytest.mark.parametrize("name", profile_names())
def test_profile_validates_and_its_interpreters_have_wheels(name):
    profile = get_profile(name)
    table = wheels.load_table()
    for release in profile.os_releases:
        if release.interpreter is None:
            assert "no" in profile.notes.lower(), f"{name}: a release without interpreter must be explained in notes"
            continue
        wheel = wheels.wheel_for(table, release.interpreter, profile.arch, release.python, release.glibc)
        assert wheel is not None, f"{name}: {release.interpreter} has no wheel for {profile.arch} py{release.python}"
        assert profile.arch in wheel["wheel"] or "any" in wheel["wheel"]


@pytest.mark.parametrize("name", profile_names())
def test_profile_export_formats_are_registered(name):
    from edgecnn.convert.formats import format_names

    assert set(get_profile(name).export_formats) <= set(format_names())


@pytest.mark.parametrize("name", profile_names())
def test_profile_fails_when_the_table_says_its_interpreter_has_no_wheel(name):
    profile = get_profile(name)
    release = next((r for r in profile.os_releases if r.interpreter), None)
    if release is None:
        pytest.fail(f"{name} has no release with an interpreter")
    table = copy.deepcopy(wheels.load_table())
    table["platforms"][wheels.key(profile.arch, release.python, release.glibc)][release.interpreter] = None
    with pytest.raises(ProfileError, match=f"{release.interpreter} has no wheel for {profile.arch}"):
        check_interpreter_wheels(profile, table)


def test_armv7_has_no_litert_nor_onnxruntime_wheel():
    """The honest part of the Pi 3 profile, as the recorded table says it."""
    table = wheels.load_table()
    for release in get_profile("rpi3").os_releases:
        for package in ("ai-edge-litert", "onnxruntime"):
            assert wheels.wheel_for(table, package, "armv7l", release.python, release.glibc) is None
        assert release.interpreter in (None, "tflite-runtime")


def test_aarch64_pis_get_litert():
    table = wheels.load_table()
    for name in ("rpi5", "rpi4", "rpi_zero2w"):
        for release in get_profile(name).os_releases:
            assert release.interpreter == "ai-edge-litert"
            assert wheels.wheel_for(table, "ai-edge-litert", "aarch64", release.python, release.glibc)


def test_zero2w_runs_int8_with_uint8_input():
    assert get_profile("rpi_zero2w").export_formats[0] == "tflite_int8_uint8io"


BROKEN = [
    ("arch", "arm64", "field 'arch': expected one of aarch64, armv7l, x86_64"),
    ("cores", 0, "field 'cores': expected a positive integer"),
    ("threads", 9, "field 'threads': expected an integer from 1 to 4"),
    ("camera", "usb3", "field 'camera': expected one of csi, usb"),
    ("resolution", [640], "field 'resolution': expected \\[width, height\\]"),
    ("export_formats", ["onnx_float32"], "'onnx_float32' cannot run on ai-edge-litert"),
    ("export_formats", ["keras"], "'keras' is not a tflite_\\* or onnx_\\* export"),
    ("os_releases", [], "field 'os_releases': expected a non-empty list"),
]


@pytest.mark.parametrize("field,value,message", BROKEN, ids=[f"{f}={v}" for f, v, _ in BROKEN])
def test_broken_profile_names_the_field(field, value, message):
    entry = copy.deepcopy(RAW["rpi5"])
    entry[field] = value
    with pytest.raises(ProfileError, match=f"profile 'rpi5': {message}" if "field" in message else message):
        parse_profile("rpi5", entry)


def test_broken_release_and_missing_field():
    entry = copy.deepcopy(RAW["rpi5"])
    entry["os_releases"][0]["python"] = "3"
    with pytest.raises(ProfileError, match=r"os_releases\[0\]: field 'python'"):
        parse_profile("rpi5", entry)
    del entry["threads"]
    with pytest.raises(ProfileError, match=r"missing fields \['threads'\]"):
        parse_profile("rpi5", entry)


def test_unknown_profile_lists_the_choices():
    with pytest.raises(ProfileError, match="unknown device profile 'rpi9'; choose one of: .*rpi5"):
        get_profile("rpi9")


def test_platform_tags_widen_to_older_manylinux():
    tags = wheels.platform_tags("aarch64", "2.36")
    assert tags[0] == "manylinux_2_36_aarch64" and "manylinux_2_27_aarch64" in tags
    assert "manylinux2014_aarch64" in tags and tags[-1] == "linux_aarch64"


def test_devices_cli_lists_and_explains(edgecnn_cli):
    listing = edgecnn_cli("devices")
    assert listing.returncode == 0, listing.stderr
    assert all(name in listing.stdout for name in profile_names())
    shown = edgecnn_cli("devices", "show", "rpi3")
    assert shown.returncode == 0, shown.stderr
    assert "armv7l" in shown.stdout and "tflite_runtime-2.13.0-cp39" in shown.stdout
    assert "ai-edge-litert           no wheel" in shown.stdout
    as_json = json.loads(edgecnn_cli("devices", "show", "rpi_zero2w", "--json").stdout)
    assert as_json["ram_mb"] == 512 and as_json["threads"] == 2


def test_device_checks_name_the_mismatch():
    from edgecnn.devices.deploy import check_device

    facts = {"arch": "armv7l", "python": "3.13", "venv": "yes", "current": "", "installed": "no"}
    with pytest.raises(ProfileError, match="no interpreter installs on Raspberry Pi OS 13 .*armv7l, Python 3.13"):
        check_device(facts, get_profile("rpi3"), "pi3", "python3")
    with pytest.raises(ProfileError, match="knows no OS release with Python 3.8; known: 3.11"):
        check_device({**facts, "arch": "aarch64", "python": "3.8"}, get_profile("rpi5"), "pi5", "python3")
    check_device({**facts, "arch": "aarch64", "python": "3.11"}, get_profile("rpi5"), "pi5", "python3")
