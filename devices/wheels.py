"""Which runtime packages have a binary wheel for a device's CPU and Python: a table kept as data.

A Raspberry Pi cannot compile ai-edge-litert or onnxruntime; if no wheel matches its architecture, Python version and
C library, ``pip install`` fails on the device. The table in ``wheel_table.json`` records, for every
``(arch, python, glibc)`` that a profile names, the newest wheel of each runtime package that pip would pick.

It is made by asking pip itself, the ordinary client, against the package index this machine is configured with::

    python -m edgecnn.devices.wheels            # print the table
    python -m edgecnn.devices.wheels --refresh  # ask pip again and rewrite wheel_table.json

Each probe is ``pip install --dry-run --report - --no-deps --only-binary=:all: --platform <tags>
--python-version X.Y --target <tmp> PACKAGE``: it resolves but downloads nothing but metadata.
The profile test reads the table (not the network) and fails when a profile names an interpreter with no wheel.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from edgecnn.devices.errors import ProfileError

TABLE_PATH = Path(__file__).with_name("wheel_table.json")

# What the runtime needs on a device: the two base dependencies of the edgecnn wheel and the three interpreters.
RUNTIME_PACKAGES = ("numpy", "opencv-python-headless", "ai-edge-litert", "tflite-runtime", "onnxruntime")
INTERPRETER_PACKAGES = ("ai-edge-litert", "tflite-runtime", "onnxruntime")

# The oldest manylinux glibc policy pip should consider; 2.17 is manylinux2014.
_OLDEST_GLIBC_MINOR = 17


def platform_tags(arch: str, glibc: str) -> list[str]:
    """Every wheel platform tag a Linux ``arch`` machine with C library ``glibc`` accepts, best first.

    pip does not widen ``--platform manylinux_2_36_aarch64`` to older policies by itself, so the list is spelled out.
    """
    major, minor = (int(part) for part in glibc.split("."))
    tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, _OLDEST_GLIBC_MINOR - 1, -1)]
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    tags += [f"{name}_{arch}" for name, m in legacy.items() if m <= minor and arch in ("x86_64", "aarch64", "armv7l")]
    return tags + [f"linux_{arch}"]


def key(arch: str, python: str, glibc: str) -> str:
    """Table key of one device platform, e.g. ``"aarch64-py3.11-glibc2.36"``."""
    return f"{arch}-py{python}-glibc{glibc}"


def probe(package: str, arch: str, python: str, glibc: str) -> dict | None:
    """Asks pip which wheel of ``package`` it would install there; None when there is none."""
    with tempfile.TemporaryDirectory() as target:
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", "--no-deps",
                   "--ignore-installed", "--only-binary=:all:", "--python-version", python, "--target", target]
        for tag in platform_tags(arch, glibc):
            command += ["--platform", tag]
        result = subprocess.run(command + [package], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    installs = json.loads(result.stdout)["install"]
    url = installs[0]["download_info"]["url"]
    return {"version": installs[0]["metadata"]["version"], "wheel": url.rsplit("/", 1)[-1].split("#")[0]}


def refresh(platforms: list[tuple[str, str, str]]) -> dict:
    """Probes every runtime package on every ``(arch, python, glibc)``; returns the table (not written)."""
    pip_version = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True,
                                 text=True).stdout.split()[1]
    table = {
        "how": "python -m edgecnn.devices.wheels --refresh: pip install --dry-run --report - --no-deps "
               "--only-binary=:all: --platform <manylinux tags for arch and glibc> --python-version X.Y, against the "
               "package index pip is configured with (pypi.org plus the local mirror)",
        "date": datetime.date.today().isoformat(),
        "pip": pip_version,
        "platforms": {},
    }
    for arch, python, glibc in sorted(set(platforms)):
        print(f"probing {key(arch, python, glibc)}", file=sys.stderr)
        table["platforms"][key(arch, python, glibc)] = {pkg: probe(pkg, arch, python, glibc)
                                                        for pkg in RUNTIME_PACKAGES}
    return table


def load_table(path: Path = TABLE_PATH) -> dict:
    """The recorded wheel table; :class:`ProfileError` when it is missing or not JSON."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ProfileError(f"{path}: cannot read the wheel table ({err}); "
                           f"regenerate it with 'python -m edgecnn.devices.wheels --refresh'") from None


def wheel_for(table: dict, package: str, arch: str, python: str, glibc: str) -> dict | None:
    """The recorded wheel of ``package`` for that platform; :class:`ProfileError` if the platform was never probed."""
    platform = table["platforms"].get(key(arch, python, glibc))
    if platform is None or package not in platform:
        raise ProfileError(f"the wheel table has no entry for {package} on {key(arch, python, glibc)}; "
                           f"regenerate it with 'python -m edgecnn.devices.wheels --refresh'")
    return platform[package]


def _profile_platforms() -> list[tuple[str, str, str]]:
    from edgecnn.devices.profiles import load_profiles

    return [(p.arch, r.python, r.glibc) for p in load_profiles(check_wheels=False).values() for r in p.os_releases]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgecnn.devices.wheels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refresh", action="store_true", help="ask pip again and rewrite wheel_table.json")
    args = parser.parse_args(argv)
    if args.refresh:
        from edgecnn.runtime.atomic import write_text_atomic

        write_text_atomic(TABLE_PATH, json.dumps(refresh(_profile_platforms()), indent=1, sort_keys=True) + "\n")
    table = load_table()
    print(f"{'platform':30} " + " ".join(f"{p:24}" for p in RUNTIME_PACKAGES))
    for name, wheels in sorted(table["platforms"].items()):
        cells = [(w or {}).get("version", "-") for w in (wheels[p] for p in RUNTIME_PACKAGES)]
        print(f"{name:30} " + " ".join(f"{c:24}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
