"""``edgecnn data download <test set>``: the real fetch/extract/rebuild/verify code on archives made here.

No internet on this machine: the archives are built in tmp_path from real images of the shared sets, shaped like
GitHub's (``<repo>-<sha>/<folder>/...``, source PNGs at the source's size), and served by a local HTTP server.
The expected output is computed here from the manifest's recipe, independently of the code under test.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import pytest
from PIL import Image

from edgecnn.data.errors import DownloadError
from edgecnn.data.public_sets import PUBLIC_SETS, PublicSet
from edgecnn.data.set_download import download_public_set, fingerprint, place

PI = PUBLIC_SETS["rps-real-pi"]
PI_COMMIT = PI.sources[0].commit


@pytest.mark.parametrize("name", sorted(PUBLIC_SETS))
def test_registry_counts_and_fingerprint_are_those_of_the_real_set(name, shared_data):
    root = shared_data / name
    files = sorted(p.relative_to(root).as_posix() for p in root.glob("*/*/*.jpg"))
    counts = {folder: sum(1 for f in files if f.startswith(folder + "/")) for folder in PUBLIC_SETS[name].counts}
    assert counts == PUBLIC_SETS[name].counts and len(files) == sum(counts.values())
    assert fingerprint(root, files) == PUBLIC_SETS[name].fingerprint


# Where each shared image was in its source repository, as the manifests describe it (an independent description).
SOURCE_PATHS = {
    "rps-real-pi": lambda split, label, stem: (0, (label, stem + ".png")),
    "horses-or-humans": lambda split, label, stem: (0, (stem + ".png",)),
    "rps-cgi-28px": lambda split, label, stem: (0, (split, label, stem + ".png")),
    "rps-real-kaust": lambda split, label, stem: (0, (label, stem + ".jpg")),
    "cats-vs-dogs": lambda split, label, stem: (0, (stem + ".jpg",)) if split == "train"
    else (1, (label, stem + ".jpg")),
    "rps-webcam-subhih": lambda split, label, stem: (0, (stem + ".jpg",)),
    # <source gesture>_<name>: the source's class folder, then the file (the longest gesture that prefixes it)
    "gestures-room-emrecandir9": lambda split, label, stem: (0, _emre_source(stem)),
}


def _emre_source(stem: str) -> tuple[str, str]:
    gesture = max((g for g, _ in PUBLIC_SETS["gestures-room-emrecandir9"].sources[0].label_map
                   if stem.startswith(g + "_")), key=len)
    return gesture, stem[len(gesture) + 1:] + ".jpg"


def _source_labels(name: str, root: Path) -> dict[str, str] | None:
    """rps-webcam-subhih's classes per file as its source CSVs give them (the set's hand_boxes.csv keeps them)."""
    if name != "rps-webcam-subhih":
        return None
    with open(root / "hand_boxes.csv", newline="") as handle:
        return {row["file"]: row["source_class"] for row in csv.DictReader(handle)}


@pytest.mark.parametrize("name", sorted(PUBLIC_SETS))
def test_every_real_image_is_placed_back_where_the_set_has_it(name, shared_data):
    """The layout and split rules (md5 % 5 for rps-real-pi and horses-or-humans, recording sessions for
    rps-webcam-subhih, the gesture map of gestures-room-emrecandir9) rebuild the shared split exactly."""
    spec, root = PUBLIC_SETS[name], shared_data / name
    labels = _source_labels(name, root)
    wrong = []
    for image in sorted(root.glob("*/*/*.jpg")):
        split, label = image.parent.parent.name, image.parent.name
        index, parts = SOURCE_PATHS[name](split, label, image.stem)
        placed = place(spec, spec.sources[index], parts[-1], parts, labels)
        if placed != f"{split}/{label}/{image.name}":
            wrong.append((image.name, placed))
    assert wrong == []


def test_the_source_layout_skips_what_is_not_an_image(shared_data):
    assert place(PI, PI.sources[0], "thumbs.db", ("rock", "thumbs.db")) is None
    assert place(PI, PI.sources[0], "x.png", ("rock", "nested", "x.png")) is None
    cats = PUBLIC_SETS["cats-vs-dogs"]
    assert place(cats, cats.sources[0], "cat.1001.jpg", ("cat.1001.jpg",)) is None  # beyond the set's 0..1000


def _pi_sources(shared_data, per_class: int) -> dict[str, tuple[str, str, bytes]]:
    """A few real rps-real-pi images from both splits as 300x200 PNGs (the source's size and format)."""
    sources = {}
    for split in ("train", "validation"):
        for label in ("paper", "rock", "scissors"):
            for image in sorted((shared_data / "rps-real-pi" / split / label).glob("*.jpg"))[:per_class]:
                buffer = io.BytesIO()
                Image.open(image).resize((300, 200), Image.BICUBIC).save(buffer, "PNG")
                sources[f"{image.stem}.png"] = (split, label, buffer.getvalue())
    return sources


def _github_tarball(path: Path, sources: dict, extra: tuple = ()) -> Path:
    top = f"rock-paper-scissors-cnn-{PI_COMMIT}"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        entries = [(f"{top}/README.md", b"real images below")]
        entries += [(f"{top}/dataset/{label}/{name}", data) for name, (_, label, data) in sources.items()]
        entries += [(f"{top}/dataset/paper/thumbs.db", b"\x00windows thumbnail cache")]
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"gotcha") if info.isreg() else None)
    return path


def _expected(sources: dict) -> tuple[dict[str, int], str]:
    """Counts and fingerprint as the manifest's recipe makes them: RGB, 225x150 bilinear, JPEG q90."""
    listing, counts = [], {}
    for name, (split, label, data) in sources.items():
        out = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").resize((225, 150), Image.BILINEAR).save(out, "JPEG", quality=90)
        listing.append(f"{hashlib.sha256(out.getvalue()).hexdigest()}  {split}/{label}/{name[:-4]}.jpg\n")
        counts[f"{split}/{label}"] = counts.get(f"{split}/{label}", 0) + 1
    return counts, hashlib.sha256("".join(sorted(listing, key=lambda line: line.split("  ")[1])).encode()).hexdigest()


def _spec(host: str, sources: dict) -> PublicSet:
    counts, digest = _expected(sources)
    return dataclasses.replace(PI, sources=(dataclasses.replace(PI.sources[0], host=host),), counts=counts,
                               fingerprint=digest)


@pytest.fixture
def server(tmp_path):
    """A local HTTP server of ``tmp_path/www`` (the network step, for real, without internet)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _serve(www: Path, tarball_of) -> Path:
    path = www / PI.sources[0].repo / "archive" / f"{PI_COMMIT}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    return tarball_of(path)


def test_download_rebuilds_the_split_and_pins_the_archive(tmp_path, shared_data, server):
    www, host = server
    sources = _pi_sources(shared_data, per_class=2)
    _serve(www, lambda path: _github_tarball(path, sources))
    spec, cache, root = _spec(host, sources), tmp_path / "cache", tmp_path / "data" / "rps-real-pi"

    done = download_public_set(spec, root, cache)
    assert done.fingerprint_matches and done.images == 12 and not done.archives[0].pinned_before
    for name, (split, label, _) in sources.items():  # each image in the split the shared set has it in
        assert Image.open(root / split / label / f"{name[:-4]}.jpg").size == (225, 150)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == sorted(
        f"{split}/{label}/{name[:-4]}.jpg" for name, (split, label, _) in sources.items())
    pin = cache / f"xParano1d--rock-paper-scissors-cnn-{PI_COMMIT}.tar.gz.sha256"
    assert pin.read_text().strip() == hashlib.sha256(_serve(www, lambda p: p).read_bytes()).hexdigest()

    assert download_public_set(spec, root, cache).archives[0].pinned_before  # the cached archive, checked

    # Upstream now serves other bytes: the pin refuses them, and the set already there is left as it was.
    (cache / pin.name[:-7]).unlink()
    _serve(www, lambda path: _github_tarball(path, {**sources, "extra.png": sources[next(iter(sources))]}))
    with pytest.raises(DownloadError, match="pinned at first download"):
        download_public_set(spec, root, cache)
    assert len(list(root.glob("*/*/*.jpg"))) == 12


def test_changed_pixels_fail_the_fingerprint_and_install_nothing(tmp_path, shared_data, server):
    www, host = server
    sources = _pi_sources(shared_data, per_class=1)
    spec = _spec(host, sources)
    name = next(iter(sources))
    tampered = io.BytesIO()
    Image.open(io.BytesIO(sources[name][2])).rotate(180).save(tampered, "PNG")
    _serve(www, lambda path: _github_tarball(path, {**sources, name: (*sources[name][:2], tampered.getvalue())}))
    with pytest.raises(DownloadError, match="fingerprint .* does not match the reference"):
        download_public_set(spec, tmp_path / "rps-real-pi", tmp_path / "cache")
    assert not (tmp_path / "rps-real-pi").exists()


def test_a_missing_image_names_the_folder(tmp_path, shared_data, server):
    www, host = server
    sources = _pi_sources(shared_data, per_class=1)
    spec = _spec(host, sources)
    dropped = next(name for name, (split, label, _) in sources.items() if (split, label) == ("train", "rock"))
    _serve(www, lambda path: _github_tarball(path, {k: v for k, v in sources.items() if k != dropped}))
    with pytest.raises(DownloadError, match="train/rock: 0 images, expected 1"):
        download_public_set(spec, tmp_path / "rps-real-pi", tmp_path / "cache")


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, 6 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize("evil", [
    _member("../escaped.png"), _member("/tmp/edgecnn-absolute.png"),
    _member(f"rock-paper-scissors-cnn-{PI_COMMIT}/dataset/rock/link.png", tarfile.SYMTYPE, "/etc/passwd"),
    _member(f"rock-paper-scissors-cnn-{PI_COMMIT}/dataset/rock/hard.png", tarfile.LNKTYPE, "../../../x"),
], ids=["dotdot", "absolute", "symlink", "hardlink"])
def test_unsafe_archive_members_are_refused(tmp_path, shared_data, evil):
    """A file:// source this time: the same fetch code, another URL scheme."""
    sources = _pi_sources(shared_data, per_class=1)
    www = tmp_path / "www"
    _serve(www, lambda path: _github_tarball(path, sources, extra=(evil,)))
    spec = _spec(www.as_uri(), sources)
    with pytest.raises(DownloadError, match="refusing"):
        download_public_set(spec, tmp_path / "out" / "rps-real-pi", tmp_path / "cache")
    assert not (tmp_path / "escaped.png").exists() and not Path("/tmp/edgecnn-absolute.png").exists()
    assert not (tmp_path / "out" / "rps-real-pi").exists()


def test_offline_says_where_to_put_the_archive(tmp_path):
    spec = dataclasses.replace(PI, sources=(dataclasses.replace(PI.sources[0], host=(tmp_path / "no").as_uri()),))
    with pytest.raises(DownloadError, match="offline, fetch it elsewhere and put it at .*tar.gz"):
        download_public_set(spec, tmp_path / "rps-real-pi", tmp_path / "cache")
