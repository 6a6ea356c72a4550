"""The deploy bundle: everything a device needs to run one model, as one deterministic tarball.

Layout inside the tarball (one top folder, ``bundle/``)::

    bundle/bundle.json          manifest: profile, model file, interpreter per Python, wheel, smoke images
    bundle/model/<file>         the exported model, contract embedded, and <file>.contract.json beside it
    bundle/wheels/edgecnn-*.whl this project as a wheel (its own deps: numpy, opencv-python-headless; no TensorFlow)
    bundle/requirements.txt     the profile's interpreter, pinned, one line per OS release's Python
    bundle/smoke/NN-*.jpg       a few real images ...
    bundle/smoke.json           ... and the labels the model gave them at bundle time
    bundle/run.sh               launcher: the live camera loop with the profile's threads and the bundle's camera
    bundle/install.sh           installs the bundle on a device without network to this machine (same steps as deploy)
    bundle/edgecnn.service      systemd unit starting ``run.sh --serve`` at boot (installed only by ``--service``)

Same inputs give the same bytes (sorted entries, fixed times and owners, gzip without a time stamp), so the bundle's
SHA-256 names a version: deploying a bundle whose hash is already active is a no-op.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from edgecnn.devices import steps, wheels
from edgecnn.devices.camera import check_source
from edgecnn.devices.errors import BundleError
from edgecnn.devices.profiles import DeviceProfile
from edgecnn.devices.smoke import SmokeImage, classify_smoke_images, pick_smoke_images
from edgecnn.runtime.contract import ModelContract, sidecar_path

TOP = "bundle"
# Fixed time stamp of every entry (1980-01-01, the oldest a zip file can hold, as the wheel uses).
FIXED_MTIME = 315532800


@dataclass(frozen=True)
class BundleOptions:
    """What goes into a bundle besides the profile."""

    model: Path
    """The exported model file (.tflite / .onnx) with its contract embedded or in a sidecar."""
    wheel: Path
    """This project's wheel (``edgecnn.devices.wheel.build_wheel``)."""
    smoke_images: tuple[Path, ...]
    """Real images the device classifies after installing; their labels are recorded now."""
    candidates: tuple[Path, ...] = ()
    """Every export the device's acceptance may choose from (``model`` first); empty: ``model`` alone."""
    accept_per_class: int | None = None
    """Held-out images per class for the on-device acceptance (parity + bench); None: no acceptance data."""
    source: str = "auto"
    """The camera ``run.sh`` uses (:mod:`edgecnn.devices.camera`): ``auto``, ``picamera`` or a V4L2 camera; only
    ``picamera`` makes missing picamera2 stop the install."""


@dataclass(frozen=True)
class Bundle:
    """A built bundle in memory."""

    data: bytes
    """The .tar.gz bytes."""
    manifest: dict
    """The content of bundle.json."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def version(self) -> str:
        """Short hash naming the installed version folder on the device."""
        return self.sha256[:16]


def choose_model(artifact_or_model: Path, profile: DeviceProfile) -> Path:
    """The model file to deploy: the file itself, or the profile's preferred export found in an artifact folder."""
    path = Path(artifact_or_model)
    if path.is_file():
        return path
    if not path.is_dir():
        raise BundleError(f"{path}: no such model file or artifact folder")
    from edgecnn.data.artifact import Artifact

    for fmt in profile.export_formats:
        candidate = Artifact(path).export_path(fmt)
        if candidate.is_file():
            return candidate
    wanted = ", ".join(profile.export_formats)
    raise BundleError(f"{path}: no export for profile {profile.name!r} (wants one of: {wanted}); run "
                      f"'edgecnn convert {path} --formats {profile.export_formats[0]}' or pass --model FILE")


def requirements_text(profile: DeviceProfile, models: Path | list[Path]) -> str:
    """The interpreters for each OS release of the profile, pinned to the versions the wheel table recorded."""
    models = [models] if isinstance(models, Path) else list(models)
    table = wheels.load_table()
    lines = [f"# edgecnn runtime interpreter for profile {profile.name} ({profile.title}), "
             f"model {', '.join(m.name for m in models)}.",
             "# numpy and opencv-python-headless come with the edgecnn wheel itself."]
    for release in profile.os_releases:
        marker = f'python_version == "{release.python}"'
        packages = []
        for suffix in dict.fromkeys(m.suffix for m in models):
            if release.interpreter is None and suffix != ".onnx":
                lines.append(f"# {release.name}: no interpreter wheel for {profile.arch} Python {release.python}")
                continue
            packages.append(profile.interpreter_for(release, suffix))
        for package in packages:
            wheel = wheels.wheel_for(table, package, profile.arch, release.python, release.glibc)
            lines.append(f"{package}=={wheel['version']}; {marker}  # {release.name}")
        if "tflite-runtime" in packages:  # built against NumPy 1: fails at interpreter creation on NumPy 2
            lines.append(f"numpy<2; {marker}")
    return "\n".join(lines) + "\n"


def build_bundle(profile: DeviceProfile, options: BundleOptions) -> Bundle:
    """Builds the bundle for ``profile``: classifies the smoke images now and records their labels."""
    from edgecnn.runtime.model_file import read_contract

    model = Path(options.model)
    contract = read_contract(model)
    if not options.wheel.is_file():
        raise BundleError(f"{options.wheel}: no such wheel file")
    smoke = classify_smoke_images(model, pick_smoke_images(options.smoke_images), threads=profile.threads)
    candidates = list(options.candidates) or [model]
    extra = {}
    if options.accept_per_class is not None:
        from edgecnn.devices.reference import acceptance_files

        extra = acceptance_files(candidates, profile, options.accept_per_class)
    files = _bundle_files(profile, model, contract, options.wheel, smoke, candidates, extra,
                          check_source(options.source))
    manifest = json.loads(files["bundle.json"])
    return Bundle(_deterministic_tar_gz(files), manifest)


def _bundle_files(profile: DeviceProfile, model: Path, contract: ModelContract, wheel: Path,
                  smoke: list[SmokeImage], candidates: list[Path] | None = None,
                  extra: dict[str, bytes] | None = None, source: str = "auto") -> dict[str, bytes]:
    """Every file of the bundle by its path inside; ``extra`` (the acceptance data) is added as it is."""
    from edgecnn.runtime.model_file import read_contract

    model_rel = f"model/{model.name}"
    candidates = candidates or [model]
    files: dict[str, bytes] = {f"wheels/{wheel.name}": wheel.read_bytes(),
                               "requirements.txt": requirements_text(profile, candidates).encode(), **(extra or {})}
    for candidate in candidates:
        files[f"model/{candidate.name}"] = candidate.read_bytes()
        files[f"model/{sidecar_path(candidate).name}"] = (read_contract(candidate).to_json() + "\n").encode()
    for image in smoke:
        files[image.bundle_name] = image.path.read_bytes()
    files["smoke.json"] = _json([image.record() for image in smoke])
    manifest = {
        "profile": profile.name, "arch": profile.arch, "model": model_rel, "model_name": contract.model_name,
        "format": contract.format, "labels": list(contract.labels), "wheel": f"wheels/{wheel.name}",
        "threads": profile.threads, "resolution": list(profile.resolution), "camera": profile.camera,
        "source": source,
        "pythons": [r.python for r in profile.os_releases], "smoke_images": len(smoke),
        "candidates": [f"model/{c.name}" for c in candidates], "accept": bool(extra),
    }
    files["bundle.json"] = _json(manifest)
    files["run.sh"] = steps.launcher_script(manifest).encode()
    files["install.sh"] = steps.install_script(system_site=profile.camera == "csi", profile=profile.name,
                                               source=source).encode()
    files["edgecnn.service"] = steps.systemd_unit().encode()
    return files


def _json(data) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()


def _deterministic_tar_gz(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(f"{TOP}/{name}")
            info.size, info.mtime = len(files[name]), FIXED_MTIME
            info.uid, info.gid, info.uname, info.gname = 0, 0, "", ""
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def read_manifest(bundle_path: Path) -> dict:
    """The manifest of a bundle tarball; :class:`BundleError` when it is not one."""
    try:
        with tarfile.open(bundle_path, "r:gz") as tar:
            member = tar.extractfile(f"{TOP}/bundle.json")
            return json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, json.JSONDecodeError, AttributeError) as err:
        raise BundleError(f"{bundle_path}: not an edgecnn bundle (expected a .tar.gz with {TOP}/bundle.json: "
                          f"{err})") from None
