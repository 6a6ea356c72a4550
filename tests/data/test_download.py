"""The real download code, exercised with file:// URLs (no internet here): checksums and safe extraction."""

import gzip
import hashlib
import shutil
import zipfile

import pytest

from edgecnn.data.datasets import DatasetSpec, Download, get_dataset
from edgecnn.data.download import download_dataset, fetch, safe_extract_zip
from edgecnn.data.errors import DownloadError


def test_archive_member_outside_the_target_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("rps/rock/ok.png", b"x")
        zipped.writestr("../escaped.txt", b"gotcha")
    target = tmp_path / "out"
    with pytest.raises(DownloadError, match=r"unsafe archive member '\.\./escaped\.txt'"):
        safe_extract_zip(archive, target)
    assert not (tmp_path / "escaped.txt").exists()


def test_absolute_member_is_refused(tmp_path):
    archive = tmp_path / "abs.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("/tmp/edgecnn-abs-member.txt", b"gotcha")
    with pytest.raises(DownloadError, match="unsafe"):
        safe_extract_zip(archive, tmp_path / "out")


def test_checksum_mismatch_is_refused_and_nothing_is_cached(tmp_path, fashion_mnist_dir):
    source = fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz"
    bad = Download(source.as_uri(), "0" * 64, "test", content_hash=True)
    with pytest.raises(DownloadError, match="does not match"):
        fetch(bad, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_fashion_mnist_download_from_a_local_mirror(tmp_path, fashion_mnist_dir, monkeypatch):
    """The registry's own checksums, the real fetch/verify/layout code, a file:// mirror of Debian's files."""
    monkeypatch.setattr("edgecnn.data.download.CACHE_DIR", tmp_path / "cache")
    real = get_dataset("fashion_mnist")
    mirrored = DatasetSpec(**{**real.__dict__, "downloads": tuple(
        Download((fashion_mnist_dir / d.url.rsplit("/", 1)[-1]).as_uri(), d.sha256, d.split, d.content_hash)
        for d in real.downloads)})
    root = download_dataset(mirrored, tmp_path / "fashion")
    assert sorted(p.name for p in root.iterdir()) == sorted(d.url.rsplit("/", 1)[-1] for d in real.downloads)


def test_image_zip_is_laid_out_by_split(tmp_path, shared_data, monkeypatch):
    """A zip shaped like the book's rps.zip (rps/<class>/*.png) lands as <root>/<split>/<class>/."""
    archive = tmp_path / "rps.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for label in ("paper", "rock", "scissors"):
            image = sorted((shared_data / "rps-real-pi" / "validation" / label).glob("*.jpg"))[0]
            zipped.write(image, f"rps/{label}/{image.name}")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    spec = DatasetSpec(name="rps_test", kind="image_folder", labels=("paper", "rock", "scissors"),
                       eval_split="validation", local_dirs=(), downloads=(Download(archive.as_uri(), digest, "train"),))
    monkeypatch.setattr("edgecnn.data.download.CACHE_DIR", tmp_path / "cache")
    root = download_dataset(spec, tmp_path / "rps")
    assert sorted(p.name for p in (root / "train").iterdir()) == ["paper", "rock", "scissors"]


def test_offline_download_says_what_to_do(tmp_path):
    missing = Download((tmp_path / "nowhere.zip").as_uri(), "0" * 64, "train")
    with pytest.raises(DownloadError, match="offline, fetch it elsewhere"):
        fetch(missing, cache_dir=tmp_path / "cache")


def test_gzip_content_hash_accepts_a_recompressed_copy(tmp_path, fashion_mnist_dir):
    """Debian re-compressed the idx files; the content hash still verifies them."""
    source = fashion_mnist_dir / "t10k-labels-idx1-ubyte.gz"
    recompressed = tmp_path / "mirror" / source.name
    recompressed.parent.mkdir()
    with gzip.open(source) as raw, gzip.open(recompressed, "wb", compresslevel=1) as out:
        shutil.copyfileobj(raw, out)
    download = next(d for d in get_dataset("fashion_mnist").downloads if d.url.endswith(source.name))
    fetched = fetch(Download(recompressed.as_uri(), download.sha256, "test", True), cache_dir=tmp_path / "cache")
    assert fetched.read_bytes() == recompressed.read_bytes()
