"""Fixtures of the devices tests: a tiny real model in an artifact folder, this project's wheel, and a real OpenSSH
server on 127.0.0.1 acting as the device.

The model is a small CNN (32x32 RGB, 3 classes) trained a few epochs on real rps-real-pi images and exported to TFLite
float32 with its contract embedded; its contract names the rps-real-pi validation split, where the bundle takes its
smoke images. The "device" is this machine: Debian's sshd started with throwaway host and user keys in a temporary
folder, a known_hosts made for that host key (checking stays on) and an ssh config file naming it ``device``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edgecnn.runtime.contract import ModelContract
from edgecnn.runtime.images import is_image_file, load_for_model

SIZE = (32, 32)


def _train_tiny_rps(train_root: Path):
    import keras
    from keras import layers

    keras.utils.set_random_seed(7)
    labels = tuple(sorted(p.name for p in train_root.iterdir() if p.is_dir()))
    paths, indices = [], []
    for index, label in enumerate(labels):
        files = sorted(p for p in (train_root / label).iterdir() if is_image_file(p))[:30]
        paths += files
        indices += [index] * len(files)
    pixels = np.stack([load_for_model(p, SIZE) for p in paths])
    inputs = keras.Input(shape=(*SIZE, 3), name="image")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    model = keras.Model(inputs, layers.Dense(len(labels), activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(pixels, np.array(indices), epochs=5, batch_size=16, verbose=0)
    return model, labels


@pytest.fixture(scope="session")
def tiny_artifact(tmp_path_factory, shared_data) -> Path:
    """An artifact folder holding ``model.keras`` and, through the convert stage's registry, its
    ``model_tflite_float32.tflite`` and ``model_tflite_dynamic.tflite`` exports (the laptop profile's two
    candidates), contract embedded + sidecar."""
    import dataclasses

    from edgecnn.convert.embed import embed_contract
    from edgecnn.convert.formats import get_format

    data_root = shared_data / "rps-real-pi"
    model, labels = _train_tiny_rps(data_root / "train")
    out = tmp_path_factory.mktemp("artifact")
    model.save(out / "model.keras")
    contract = ModelContract(model_name="tiny_rps", labels=labels, input_size=SIZE, format="tflite_float32",
                             dataset="rps-real-pi", extra={"data": {"kind": "image_folder", "root": str(data_root),
                                                                    "train_split": "train",
                                                                    "eval_split": "validation"}})
    for name in ("tflite_float32", "tflite_dynamic"):
        fmt = get_format(name)
        fmt.export(model, out / fmt.file_name, fmt.quantization)
        embed_contract(out / fmt.file_name, dataclasses.replace(contract, format=name))
    return out


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory) -> Path:
    """This project's wheel, built once."""
    from edgecnn.devices.project_wheel import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"))


@dataclass(frozen=True)
class Device:
    """A running sshd on loopback and how to reach it."""

    config: Path
    """ssh config file defining Host ``device``."""
    host: str
    """The Host alias."""
    home: Path
    """A folder to install into (absolute prefix)."""
    port: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@dataclass
class Sshd:
    """One running sshd and its files."""

    process: subprocess.Popen
    port: int
    log: Path
    """Its log (LogLevel VERBOSE: one 'Accepted publickey' line per SSH connection)."""
    host_entry: str
    """The ``Host`` block of an ssh config reaching it."""

    def accepted(self) -> int:
        """SSH connections it accepted so far."""
        return sum("Accepted publickey" in line for line in self.log.read_text().splitlines())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_sshd(tmp: Path, alias: str, user_key: Path, authorized: bool = True, extra_config: str = "") -> Sshd:
    """Debian's OpenSSH server on 127.0.0.1, key login only (``authorized=False``: it refuses the key), host key
    checked against a known_hosts made here; ``extra_config``: more sshd_config lines (e.g. ``SetEnv ...``, the
    environment of every session: what makes one device differ from the others)."""
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd):
        pytest.fail("sshd is missing: apt-get install openssh-server (listed in .ci/apt-packages.txt)")
    tmp.mkdir(parents=True, exist_ok=True)
    _keygen(tmp / "host_key")
    (tmp / "authorized_keys").write_text(Path(f"{user_key}.pub").read_text() if authorized else "")
    port = _free_port()
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation folder (the package makes it at boot)
    (tmp / "sshd_config").write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {tmp}/host_key
AuthorizedKeysFile {tmp}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel VERBOSE
MaxSessions 20
PidFile {tmp}/sshd.pid
{extra_config}
""")
    host_key = (tmp / "host_key.pub").read_text().split()
    (tmp / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    entry = f"""Host {alias}
  HostName 127.0.0.1
  Port {port}
  User {os.environ.get('USER', 'root') if os.geteuid() else 'root'}
  IdentityFile {user_key}
  IdentitiesOnly yes
  UserKnownHostsFile {tmp}/known_hosts
  StrictHostKeyChecking yes
"""
    log = tmp / "sshd.log"
    process = subprocess.Popen([sshd, "-D", "-e", "-f", str(tmp / "sshd_config")], stdout=subprocess.DEVNULL,
                               stderr=open(log, "wb"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # listening is enough: no login, so accepted() starts at 0
        if process.poll() is not None:
            pytest.fail(f"sshd exited: {log.read_text()[-500:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"sshd did not listen: {log.read_text()[-500:]}")
    return Sshd(process, port, log, entry)


@pytest.fixture(scope="session")
def device(tmp_path_factory) -> Device:
    """One sshd playing the device; its ssh config names it ``device``."""
    tmp = tmp_path_factory.mktemp("sshd")
    _keygen(tmp / "user_key")
    server = start_sshd(tmp, "device", tmp / "user_key")
    (tmp / "ssh_config").write_text(server.host_entry)
    home = tmp_path_factory.mktemp("device-home")
    yield Device(tmp / "ssh_config", "device", home, server.port)
    server.stop()


def error_lines(stderr: str) -> list[str]:
    """The lines a user sees on stderr, less the progress note and TensorFlow/absl start-up chatter."""
    noise = ("building the edgecnn wheel", "WARNING", "I0000", "W0000", "E0000", "oneDNN", "cpu_feature_guard",
             "absl::", "UserWarning", "warnings.warn")
    return [line for line in stderr.splitlines() if line.strip() and not any(n in line for n in noise)]


def run_cli(*args, timeout: float = 900, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real ``edgecnn`` command line (usable from fixtures of any scope), in ``cwd`` or else in a fresh empty
    working directory: never the checkout, whose ``artifacts/`` an earlier run may have filled."""
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="edgecnn-cli-") as empty:
        return subprocess.run([sys.executable, "-m", "edgecnn", *map(str, args)], capture_output=True, text=True,
                              timeout=timeout, cwd=cwd or empty)
