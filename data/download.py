"""Downloading datasets for users with internet: cached, verified by SHA-256, extracted safely.

An archive member that would land outside the target folder (``../x``, an absolute path, a link) is refused.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from edgecnn.data.datasets import CACHE_DIR, DatasetSpec, Download
from edgecnn.data.errors import DownloadError
from edgecnn.runtime.atomic import atomic_directory, atomic_path
from edgecnn.runtime.images import is_image_file


def sha256_of(path: Path, gunzip: bool = False) -> str:
    digest = hashlib.sha256()
    opener = gzip.open if gunzip else open
    with opener(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(download: Download, cache_dir: Path = CACHE_DIR / "downloads") -> Path:
    """Returns the verified local copy of ``download``, fetching it once into the cache."""
    target = cache_dir / PurePosixPath(download.url).name
    if target.is_file() and sha256_of(target, download.content_hash) == download.sha256:
        return target
    try:
        with atomic_path(target) as tmp, urllib.request.urlopen(download.url, timeout=60) as response:
            with open(tmp, "wb") as handle:
                shutil.copyfileobj(response, handle)
            verify(tmp, download)
    except OSError as err:
        raise DownloadError(f"cannot download {download.url} ({err}); offline, fetch it elsewhere, "
                            f"put it at {target} and run again, or pass --data PATH") from None
    return target


def verify(path: Path, download: Download) -> None:
    try:
        actual = sha256_of(path, download.content_hash)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DownloadError(f"{path}: unreadable download of {download.url} ({err})") from None
    if actual != download.sha256:
        raise DownloadError(f"{path}: SHA-256 {actual} does not match the expected {download.sha256} "
                            f"for {download.url}; the file is corrupt or was changed, delete it and retry")


def safe_extract_zip(archive: Path, target: Path) -> None:
    """Extracts ``archive`` into ``target``, refusing any member that would land outside it."""
    target = target.resolve()
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                destination = (target / member.filename).resolve()
                is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
                if is_link or not destination.is_relative_to(target):
                    raise DownloadError(f"{archive}: refusing unsafe archive member {member.filename!r} "
                                        f"(it would land outside {target})")
            zipped.extractall(target)
    except zipfile.BadZipFile as err:
        raise DownloadError(f"{archive}: not a valid zip archive ({err})") from None


def download_dataset(spec: DatasetSpec, root: Path | None = None) -> Path:
    """Downloads, verifies and lays out ``spec`` as ``<root>/<split>/...``; returns ``root``."""
    if not spec.downloads:
        raise DownloadError(f"dataset {spec.name!r} has no public download; pass --data PATH to a local copy")
    root = root or CACHE_DIR / "datasets" / spec.name
    with atomic_directory(root) as staging:
        for download in spec.downloads:
            path = fetch(download)
            if spec.kind == "fashion_mnist_idx":
                shutil.copy(path, staging / path.name)
            else:
                _extract_split(path, staging / download.split)
    return root


def _extract_split(archive: Path, split_dir: Path) -> None:
    """The book's zips hold ``<class>/*.png`` either at the top or under one folder; keep just the classes."""
    with tempfile.TemporaryDirectory(dir=split_dir.parent) as tmp:
        safe_extract_zip(archive, Path(tmp))
        top = Path(tmp)
        children = [p for p in top.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]
        if len(children) == 1 and not any(is_image_file(p) for p in children[0].iterdir()):
            top = children[0]
        shutil.move(str(top), split_dir)
