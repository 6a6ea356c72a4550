"""What happens on the device, as POSIX shell: the one definition behind ``edgecnn deploy`` and ``install.sh``.

``edgecnn deploy`` sends each :class:`Step` over SSH on its own (``ssh HOST sh -s`` with the script on stdin), so it
can say which step failed; ``install.sh`` inside the bundle is the same steps in one file, for a device that gets the
tarball another way. Layout on the device, under the install prefix (default ``edgecnn`` in the user's home)::

    incoming/<version>.tar.gz       the uploaded bundle (<version>: first 16 hex digits of its SHA-256)
    versions/<version>/             the unpacked bundle, its venv/ and .smoke-passed once the smoke test passed;
                                    doctor.json, accept-report.json and selected-model from the device's checks
    current -> versions/<version>   switched atomically (rename of a new link) only after the smoke test passed

A failing step stops there: ``current`` still points to the previous version.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

SMOKE_MARK = ".smoke-passed"


@dataclass(frozen=True)
class Step:
    """One thing done on the device."""

    name: str
    """Short name shown in progress and errors."""
    says: str
    """What it does, in words (``--dry-run`` prints it)."""
    script: str
    """POSIX shell run with PREFIX, VERSION, PY and SHA set (see :func:`header`)."""
    sudo: bool = False
    """Whether it runs ``sudo`` (only the ``--service`` step)."""


def header(prefix: str, version: str, python: str, sha256: str, system_site: bool, profile: str = "",
           source: str = "auto") -> str:
    """Variables every step script starts with (``source``: the bundle's camera, :mod:`edgecnn.devices.camera`)."""
    return (f"set -eu\nPREFIX={shlex.quote(prefix)}\nVERSION={shlex.quote(version)}\nPY={shlex.quote(python)}\n"
            f"SHA={shlex.quote(sha256)}\nVENV_FLAGS={'--system-site-packages' if system_site else ''!r}\n"
            f"PROFILE={shlex.quote(profile)}\nSOURCE={shlex.quote(source)}\n"
            'mkdir -p "$PREFIX" && cd "$PREFIX"\nV="versions/$VERSION"\n')


PROBE = Step("probe", "read the device's CPU architecture, Python version and active version", """
printf 'arch=%s\\n' "$(uname -m)"
printf 'python=%s\\n' "$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)"
printf 'venv=%s\\n' "$("$PY" -c 'import venv, ensurepip' 2>/dev/null && echo yes || echo no)"
printf 'current=%s\\n' "$(readlink current 2>/dev/null || true)"
if [ -f "$V/.smoke-passed" ]; then echo installed=yes; else echo installed=no; fi
""")

UNPACK = Step("unpack", "check the bundle's SHA-256 and unpack it into versions/<version>", """
echo "$SHA  incoming/$VERSION.tar.gz" | sha256sum -c --status \\
  || { echo "incoming/$VERSION.tar.gz: SHA-256 differs from the bundle sent (upload damaged)" >&2; exit 1; }
rm -rf "versions/.$VERSION.tmp" "$V"
mkdir -p "versions/.$VERSION.tmp"
tar -xzf "incoming/$VERSION.tar.gz" -C "versions/.$VERSION.tmp" --strip-components=1
mv "versions/.$VERSION.tmp" "$V"
""")

VENV = Step("venv", "create a Python venv in versions/<version>/venv", """
"$PY" -m venv $VENV_FLAGS "$V/venv" \\
  || { echo "$PY -m venv failed: on Debian / Raspberry Pi OS install python3-venv" >&2; exit 1; }
""")

# With --system-site-packages (CSI profiles) the venv must keep the system's numpy: apt's picamera2 stack
# (simplejpeg, libcamera's bindings) is compiled against it, and opencv-python-headless 4.12+ would otherwise pull
# numpy 2 into the venv ("numpy.dtype size changed, may indicate binary incompatibility" on import).
PIP = Step("pip", "pip install the edgecnn wheel and the profile's interpreter (requirements.txt) into the venv; "
           "a venv over the system's site-packages keeps the system's numpy (constraint)", """
: > "$V/constraints.txt"
if [ -n "$VENV_FLAGS" ]; then
  sys_numpy=$("$PY" -c 'import numpy; print(numpy.__version__)' 2>/dev/null || true)
  if [ -n "$sys_numpy" ]; then echo "numpy==$sys_numpy" > "$V/constraints.txt"; fi
fi
"$V/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$V"/wheels/*.whl -r "$V/requirements.txt" \
  -c "$V/constraints.txt"
""")

SMOKE = Step("smoke", "classify the bundle's smoke images with 'edgecnn run --headless' and compare labels", """
"$V/venv/bin/python" -m edgecnn.devices.smoke "$V"
touch "$V/.smoke-passed"
""")

DOCTOR = Step("doctor", "run 'edgecnn doctor' in the new venv (camera stack, numpy, interpreter, CPU, power) for "
              "the bundle's camera; a 'fail' finding stops here (missing picamera2 only with --source picamera)", """
"$V/venv/bin/edgecnn" doctor --json ${PROFILE:+--profile "$PROFILE"} --source "$SOURCE" > "$V/doctor.json" \\
  && rc=0 || rc=$?
cat "$V/doctor.json"
if [ "$rc" -ne 0 ]; then exit "$rc"; fi
""")

ACCEPT = Step("accept", "on-device acceptance: parity with Keras on held-out images and a benchmark of every "
              "candidate export; select the fastest that passes", """
if [ -f "$V/accept.json" ]; then "$V/venv/bin/python" -m edgecnn.devices.accept "$V"; fi
""")

SWITCH = Step("switch", "point 'current' at the new version (atomic rename of a new symlink)", """
ln -sfn "$V" .current.tmp
mv -T .current.tmp current
echo "active: $PREFIX/current -> $V"
""")

SERVICE = Step("service", "sudo: install edgecnn.service into /etc/systemd/system and (re)start it", """
unit=$(mktemp)
sed -e "s|@DIR@|$(pwd -P)/current|g" -e "s|@USER@|$(id -un)|g" current/edgecnn.service > "$unit"
sudo install -m 644 "$unit" /etc/systemd/system/edgecnn.service
rm -f "$unit"
sudo systemctl daemon-reload
sudo systemctl enable edgecnn.service
sudo systemctl restart edgecnn.service
""", sudo=True)

INSTALL_STEPS = (UNPACK, VENV, PIP, DOCTOR, SMOKE, ACCEPT, SWITCH)


def upload_command(prefix: str, version: str) -> str:
    """Remote command that stores the tarball read from stdin as incoming/<version>.tar.gz (atomic rename)."""
    target = f"incoming/{version}.tar.gz"
    return (f"set -eu; mkdir -p {shlex.quote(prefix)}/incoming && cd {shlex.quote(prefix)} && "
            f"cat > {shlex.quote(target + '.part')} && mv {shlex.quote(target + '.part')} {shlex.quote(target)}")


def install_script(system_site: bool, profile: str = "", source: str = "auto") -> str:
    """``install.sh``: the deploy's steps for a device that got the tarball by other means, one after the other in
    one file (so a step's script may ``exit`` only to fail: an ``exit 0`` would end the whole install there)."""
    body = "\n".join(f"echo {shlex.quote(f'== {step.name}: {step.says}')}\n{step.script.strip()}"
                     for step in INSTALL_STEPS)
    return f"""#!/bin/sh
# Installs an edgecnn bundle on this device: the same steps 'edgecnn deploy' runs over SSH.
# Usage: tar -xzf BUNDLE.tar.gz bundle/install.sh && sh bundle/install.sh BUNDLE.tar.gz [PREFIX] [PYTHON]
set -eu
if [ $# -lt 1 ]; then
  echo "usage: sh install.sh BUNDLE.tar.gz [PREFIX (default ~/edgecnn)] [PYTHON (python3)]" >&2; exit 2
fi
BUNDLE=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
PREFIX=${{2:-$HOME/edgecnn}}
PY=${{3:-python3}}
SHA=$(sha256sum "$BUNDLE" | cut -c1-64)
VERSION=$(echo "$SHA" | cut -c1-16)
VENV_FLAGS="{'--system-site-packages' if system_site else ''}"
PROFILE={shlex.quote(profile)}
SOURCE={shlex.quote(source)}
mkdir -p "$PREFIX/incoming" && cd "$PREFIX"
V="versions/$VERSION"
if [ "$(readlink current 2>/dev/null || true)" = "$V" ] && [ -f "$V/{SMOKE_MARK}" ]; then
  echo "edgecnn bundle $VERSION is already active in $PREFIX: nothing to do"; exit 0
fi
cp "$BUNDLE" "incoming/$VERSION.tar.gz"
{body}
"""


def launcher_script(manifest: dict) -> str:
    """``run.sh``: the live loop with the bundle's camera and the profile's threads; extra arguments go to
    ``edgecnn run`` (a ``--source`` there wins). ``auto`` is decided at each start (:mod:`edgecnn.devices.camera`):
    the CSI camera when picamera2 sees one, else the first V4L2 webcam."""
    source = manifest.get("source", "auto")
    width, height = manifest["resolution"]
    pick = (f'source=$("$here/venv/bin/python" -m edgecnn.devices.camera {shlex.quote(source)})'
            if source == "auto" else f"source={shlex.quote(source)}")
    return f"""#!/bin/sh
# Runs the deployed model on the {manifest['profile']} profile ({manifest['camera']} camera, {width}x{height}) with
# the bundle's camera ({source}). Extra arguments go to 'edgecnn run', e.g.: run.sh --serve 0.0.0.0:8000
here=$(cd "$(dirname "$0")" && pwd -P)
# selected-model: the export the on-device acceptance measured fastest among those that passed
model=$(cat "$here/selected-model" 2>/dev/null || echo {manifest['model']})
{pick}
exec "$here/venv/bin/edgecnn" run --model "$here/$model" --source "$source" \\
  --threads {manifest['threads']} "$@"
"""


def systemd_unit() -> str:
    """``edgecnn.service``: a template; the service step fills in @DIR@ and @USER@."""
    return """[Unit]
Description=edgecnn live classifier (web view on port 8000)
After=network-online.target
Wants=network-online.target

[Service]
User=@USER@
ExecStart=@DIR@/run.sh --serve 0.0.0.0:8000
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
"""
