"""``edgecnn data download rps-real-pi`` and friends: rebuild a set of ``../shared/data`` from its public source.

Fetches each source's archive (GitHub, pinned commit) into the download cache, reads only the folder the recipe
names, refuses any archive member that would land outside the target (``..``, absolute paths, links), re-makes the
images as the manifest did (Pillow: ``convert('RGB')``, bilinear resize, JPEG quality 90), splits them by the same
deterministic rule, then checks every folder's image count and the fingerprint of the result before the set takes
its place (atomically: an interrupted or refused download leaves what was there before).
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tarfile
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from edgecnn.data.datasets import CACHE_DIR
from edgecnn.data.errors import DownloadError
from edgecnn.data.public_recipes import (
    every_nth,
    mapped_class,
    output_stem,
    pixel_digest,
    read_csv_labels,
    session_split,
)
from edgecnn.data.public_sets import PublicSet, Source
from edgecnn.runtime.atomic import atomic_directory, atomic_path, write_text_atomic


@dataclass(frozen=True)
class Archive:
    """A source archive in the download cache."""

    source: Source
    """What it holds."""
    path: Path
    """The cached file."""
    sha256: str
    """Its SHA-256."""
    pinned_before: bool
    """True: the hash was known (registry or an earlier download) and matched; False: this download pins it."""


@dataclass(frozen=True)
class SetDownload:
    """What ``download_public_set`` did."""

    root: Path
    """Where the set now is (``<root>/<split>/<class>/*.jpg``)."""
    images: int
    """How many images it holds."""
    archives: tuple[Archive, ...]
    """The archives it was made from."""
    fingerprint_matches: bool
    """True: byte-identical to the reference set; False only with ``allow_encoder_drift``."""


def default_root(spec: PublicSet) -> Path:
    """``~/.cache/edgecnn/data/<name>``: beside the other sets, laid out like ``../shared/data``."""
    return CACHE_DIR / "data" / spec.name


def download_public_set(spec: PublicSet, root: Path | None = None, cache_dir: Path | None = None,
                        allow_encoder_drift: bool = False,
                        progress: Callable[[str], None] = lambda message: None) -> SetDownload:
    """Downloads ``spec``'s sources, rebuilds the set in ``root`` and verifies it; :class:`DownloadError` if not."""
    root = root or default_root(spec)
    cache_dir = cache_dir or CACHE_DIR / "downloads"
    archives = []
    for source in spec.sources:
        progress(f"fetching {source.url}")
        archives.append(fetch_archive(source, cache_dir))
    with atomic_directory(root) as staging:
        digests: dict[str, str] = {}
        for archive in archives:
            progress(f"building {spec.name} from {archive.path.name}")
            chosen = chosen_members(spec, archive)
            for name, parts, data in archive_members(archive.path, archive.source.folder):
                placed = chosen.get(parts)
                if placed is not None:
                    content = data()
                    digests[placed] = pixel_digest(content) if spec.dedup else placed
                    write_image(content, staging / placed, spec.resize, f"{archive.path.name}:{name}")
        drop_duplicates(staging, digests)
        matches = verify_set(staging, spec, allow_encoder_drift)
    for archive in archives:
        if not archive.pinned_before:
            write_text_atomic(_pin_file(archive.path), archive.sha256 + "\n")
    return SetDownload(root, sum(spec.counts.values()), tuple(archives), matches)


def fetch_archive(source: Source, cache_dir: Path) -> Archive:
    """The cached archive of ``source``, downloaded once; its hash must match the registry's or the pinned one."""
    target = cache_dir / f"{source.repo.replace('/', '--')}-{source.commit}.tar.gz"
    pin = _pin_file(target)
    expected = source.archive_sha256 or (pin.read_text().strip() if pin.is_file() else None)
    if target.is_file() and (expected is None or _sha256(target) == expected):
        return Archive(source, target, _sha256(target), expected is not None)
    try:
        with atomic_path(target) as tmp:
            with urllib.request.urlopen(source.url, timeout=60) as response, open(tmp, "wb") as handle:
                shutil.copyfileobj(response, handle)
            actual = _sha256(tmp)
            if expected is not None and actual != expected:
                raise DownloadError(f"{source.url}: SHA-256 {actual} does not match the {expected} pinned "
                                    f"{'in the registry' if source.archive_sha256 else f'at first download ({pin})'}; "
                                    "the archive changed upstream or in transit. Delete the pin file only if you "
                                    "trust the new archive")
    except OSError as err:
        raise DownloadError(f"cannot download {source.url} ({err}); offline, fetch it elsewhere and put it at "
                            f"{target}, then run again") from None
    return Archive(source, target, actual, expected is not None)


def archive_members(archive: Path, folder: str) -> Iterator[tuple[str, tuple[str, ...], Callable[[], bytes]]]:
    """Yields ``(file name, path parts below folder, read)`` for each regular file under ``<top>/folder/``.

    Every member name of the whole archive is checked first: one that is absolute or climbs out with ``..`` makes
    the archive unsafe, and so does a link or device inside ``folder`` (never followed, never written).
    """
    prefix = PurePosixPath(folder).parts
    opened = _open_archive(archive)
    with opened as handle:
        members = list(_list_members(handle, archive))
        for name, kind, read in members:
            parts = PurePosixPath(name).parts[1:]  # GitHub archives hold everything under one <repo>-<sha>/ folder
            if parts[:len(prefix)] != prefix or len(parts) == len(prefix):
                continue
            if kind == "link":
                raise DownloadError(f"{archive}: refusing link member {name!r} (a link inside the image folder "
                                    "could point outside the target)")
            if kind == "file":
                yield parts[-1], parts[len(prefix):], read


def chosen_members(spec: PublicSet, archive: Archive) -> dict[tuple[str, ...], str]:
    """Path parts below the source folder -> ``<split>/<class>/<stem>.jpg`` of every archive file the recipe takes
    (labels from its CSVs, every n-th frame where it says so)."""
    source = archive.source
    labels = None
    if source.labels_csv:
        wanted = {PurePosixPath(path).parts: path for path in source.labels_csv}
        texts = {wanted[parts]: read() for _, parts, read in archive_members(archive.path, ".") if parts in wanted}
        labels = read_csv_labels(source, texts)
    members = sorted((parts, name) for name, parts, _ in archive_members(archive.path, source.folder))
    keep = None
    if source.every:
        by_class: dict[str, list[str]] = {}
        for parts, name in members:
            by_class.setdefault(parts[0] if len(parts) > 1 else "", []).append(name)
        keep = every_nth(source, by_class)
    chosen = {}
    for parts, name in members:
        if keep is not None and (parts[0] if len(parts) > 1 else "", name) not in keep:
            continue
        placed = place(spec, source, name, parts, labels)
        if placed is not None:
            chosen[parts] = placed
    return chosen


def place(spec: PublicSet, source: Source, name: str, parts: tuple[str, ...],
          labels: dict[str, str | None] | None = None) -> str | None:
    """``<split>/<class>/<stem>.jpg`` for an archive file, or None for a file the recipe does not take;
    ``labels``: the per-file classes of ``source.labels_csv``."""
    if not re.fullmatch(source.name_pattern, name):
        return None
    split = source.split
    if source.layout == "split_class_dirs":
        if len(parts) != 3:
            return None
        split, label = parts[0], parts[1]
    elif source.layout == "class_dirs":
        if len(parts) != 2:
            return None
        label = parts[0]
    else:
        if len(parts) != 1:
            return None
        if source.labels_csv:
            label = (labels or {}).get(name)
        else:
            label = next((folder for prefix, folder in source.name_classes if name.startswith(prefix)), None)
    source_label, label = label, mapped_class(source, label)
    if label is None:
        return None
    if split is None and spec.split_rule == "md5_mod5":
        split = held_out_split(name)
    elif split is None and spec.split_rule == "session":
        split = session_split(spec, name)
    if split is None:
        raise DownloadError(f"{spec.name}: the recipe gives {name!r} no split (layout {source.layout}, "
                            f"split rule {spec.split_rule})")
    return f"{split}/{label}/{output_stem(source, source_label, name)}.jpg"


def drop_duplicates(root: Path, digests: dict[str, str]) -> None:
    """Removes every written image whose source pixels equal an earlier one's (output path order; first kept)."""
    seen: set[str] = set()
    for placed in sorted(digests):
        if digests[placed] in seen:
            (root / placed).unlink()
        seen.add(digests[placed])


def held_out_split(file_name: str) -> str:
    """The manifests' rule: ``md5(original file name incl. extension) % 5 == 0`` -> validation, else train."""
    return "validation" if int(hashlib.md5(file_name.encode("utf-8")).hexdigest(), 16) % 5 == 0 else "train"


def write_image(data: bytes, target: Path, resize: str, source_name: str) -> None:
    """Writes one re-encoded image; two source files that would share an output name are refused."""
    if target.exists():
        raise DownloadError(f"{source_name}: a second source file maps to {target.name} in {target.parent.name}/; "
                            "the archive does not have the layout the recipe expects")
    try:
        encoded = _image_bytes(data, resize)
    except OSError as err:  # PIL.UnidentifiedImageError is an OSError
        raise DownloadError(f"{source_name}: not a readable image ({err})") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(encoded)


def verify_set(root: Path, spec: PublicSet, allow_encoder_drift: bool = False) -> bool:
    """Checks the built set against the registry; returns whether its fingerprint matched, raises if it must."""
    files = sorted(p.relative_to(root).as_posix() for p in root.glob("*/*/*.jpg"))
    found = Counter(path.rsplit("/", 1)[0] for path in files)
    problems = [f"{folder}: {found.get(folder, 0)} images, expected {count}"
                for folder, count in sorted(spec.counts.items()) if found.get(folder, 0) != count]
    problems += [f"{folder}: {count} images, expected none" for folder, count in sorted(found.items())
                 if folder not in spec.counts]
    if problems:
        raise DownloadError(f"{spec.name}: the download does not hold the reference set: {'; '.join(problems)}")
    actual = fingerprint(root, files)
    if actual == spec.fingerprint:
        return True
    import PIL

    drift = (f"this Pillow ({PIL.__version__}) is not the {spec.reference_pillow} that encoded the reference, "
             "so its JPEG bytes may differ; --allow-encoder-drift accepts the set when every file name and count "
             "matches (they do)" if PIL.__version__ != spec.reference_pillow
             else f"the reference was encoded by this same Pillow {PIL.__version__}, so the source files differ")
    if allow_encoder_drift and PIL.__version__ != spec.reference_pillow:
        return False
    raise DownloadError(f"{spec.name}: fingerprint {actual} of the images built here does not match the "
                        f"reference {spec.fingerprint}; {drift}")


def fingerprint(root: Path, files: list[str]) -> str:
    """SHA-256 of the sorted ``sha256sum`` listing ``<sha256>  <split>/<class>/<file>`` of ``files``."""
    listing = "".join(f"{_sha256(root / path)}  {path}\n" for path in sorted(files))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _open_archive(archive: Path):
    try:
        if zipfile.is_zipfile(archive):
            return zipfile.ZipFile(archive)
        return tarfile.open(archive, "r:*")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as err:
        raise DownloadError(f"{archive}: not a readable tar or zip archive ({err}); delete it and retry") from None


def _list_members(handle, archive: Path) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    if isinstance(handle, zipfile.ZipFile):
        entries = [(info.filename, _zip_kind(info), lambda info=info: handle.read(info)) for info in handle.infolist()]
    else:
        entries = [(m.name, "file" if m.isreg() else "dir" if m.isdir() else "link" if m.issym() or m.islnk()
                    else "other", lambda m=m: handle.extractfile(m).read()) for m in handle.getmembers()]
    for name, _, _ in entries:
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or "\\" in name:
            raise DownloadError(f"{archive}: refusing unsafe archive member {name!r} (it would land outside "
                                "the target folder)")
    for name, kind, read in entries:
        yield name, "link" if kind == "other" else kind, read


def _zip_kind(info: zipfile.ZipInfo) -> str:
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        return "link"
    return "dir" if info.is_dir() else "file"


def _pin_file(archive: Path) -> Path:
    return archive.with_name(archive.name + ".sha256")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _image_bytes(data: bytes, resize: str) -> bytes:
    """The manifest's encoding: ``convert('RGB')``, the set's bilinear resize, JPEG quality 90 (Pillow defaults)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    if resize == "square_150":
        image = image.resize((150, 150), Image.BILINEAR)
    elif resize in ("short_side_150", "short_side_384"):
        side, method = (150, Image.BILINEAR) if resize == "short_side_150" else (384, Image.LANCZOS)
        short, long = min(width, height), max(width, height)
        long_new = round(long * side / short)
        image = image.resize((long_new, side) if width >= height else (side, long_new), method)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()
