"""The dataset registry: where each of the chapter's data sets lives, how it is laid out, how to download it.

Two kinds: ``image_folder`` (``<root>/<split>/<class>/*.jpg|png``, classes alphabetical) and ``fashion_mnist_idx``
(the four original idx ``.gz`` files). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edgecnn.data.errors import DataError

FASHION_MNIST_LABELS = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CACHE_DIR = Path(os.environ.get("EDGECNN_CACHE", Path.home() / ".cache" / "edgecnn"))


@dataclass(frozen=True)
class Download:
    """One file of a dataset on the internet, checked by SHA-256 before it is used."""

    url: str
    """Where the file is."""
    sha256: str
    """SHA-256 of the downloaded file (for ``.gz`` idx files: of the *decompressed* bytes, see ``content_hash``)."""
    split: str
    """The split this file fills (``train``, ``validation``, ``test``)."""
    content_hash: bool = False
    """True: ``sha256`` is of the gunzipped content, so a re-compressed mirror (e.g. Debian's) still verifies."""


@dataclass(frozen=True)
class DatasetSpec:
    """A data set the chapter's models train on."""

    name: str
    """Registry key, e.g. ``"rps"``."""
    kind: str
    """``"image_folder"`` or ``"fashion_mnist_idx"``."""
    labels: tuple[str, ...]
    """Class names in index order (alphabetical folder names for image folders)."""
    eval_split: str
    """The held-out split for validation every epoch and final metrics."""
    local_dirs: tuple[str, ...]
    """Sub-folders of ``$EDGECNN_DATA`` (e.g. ``../shared/data``) that hold this set; all are used together."""
    downloads: tuple[Download, ...] = ()
    """Files to fetch when online (``edgecnn data download NAME``)."""
    system_dir: str | None = None
    """A folder an OS package installs the data to (Debian's ``dataset-fashion-mnist``)."""
    train_split: str = "train"
    """The split to train on."""


_TFDS = "https://storage.googleapis.com/download.tensorflow.org/data/"
_KERAS_FASHION = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# Checksums: the image zips as TensorFlow Datasets records them (url_checksums/*.txt); Fashion-MNIST as the SHA-256 of
# the decompressed idx files, checked here against Debian's dataset-fashion-mnist package.
DATASETS = {spec.name: spec for spec in (
    DatasetSpec(
        name="fashion_mnist", kind="fashion_mnist_idx", labels=FASHION_MNIST_LABELS, eval_split="test",
        local_dirs=("fashion-mnist",), system_dir="/usr/share/datasets/fashion-mnist",
        downloads=(
            Download(_KERAS_FASHION + "train-images-idx3-ubyte.gz",
                     "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", "train", content_hash=True),
            Download(_KERAS_FASHION + "train-labels-idx1-ubyte.gz",
                     "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", "train", content_hash=True),
            Download(_KERAS_FASHION + "t10k-images-idx3-ubyte.gz",
                     "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", "test", content_hash=True),
            Download(_KERAS_FASHION + "t10k-labels-idx1-ubyte.gz",
                     "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", "test", content_hash=True),
        )),
    DatasetSpec(
        name="horses_or_humans", kind="image_folder", labels=("horses", "humans"), eval_split="validation",
        local_dirs=("horses-or-humans",),
        downloads=(
            Download(_TFDS + "horse-or-human.zip",
                     "e2e6f70d3d549c5dd10a57165e55af253ee66ad750403f95c0fb76bb943633a9", "train"),
            Download(_TFDS + "validation-horse-or-human.zip",
                     "ae5fff2f4f5554791f05358108e2e05d9801b191f1896ea101402f0e7f6c32c0", "validation"),
        )),
    DatasetSpec(
        name="rps", kind="image_folder", labels=("paper", "rock", "scissors"), eval_split="validation",
        # Real hands first: the live camera sees real hands, not the book's CGI renders.
        local_dirs=("rps-real-pi", "rps-real-kaust", "rps-cgi-28px"),
        downloads=(
            Download(_TFDS + "rps.zip", "c2403444395842ad04c53612bad54b574443eae17a0723117a2ff87b9d72194f", "train"),
            Download(_TFDS + "rps-test-set.zip",
                     "c27ab9fa43ce40b2e453de711365b477f4424586edf0388116674fd320f07503", "validation"),
        )),
    DatasetSpec(
        name="cats_vs_dogs", kind="image_folder", labels=("cats", "dogs"), eval_split="validation",
        local_dirs=("cats-vs-dogs",)),
)}


def get_dataset(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]


def find_roots(spec: DatasetSpec) -> list[Path]:
    """The local folders that hold ``spec``'s data, searched in order; :class:`DataError` says how to get it.

    Looks in ``$EDGECNN_DATA/<local_dir>`` (the project's CI points it at ``../shared/data``), then the sets
    ``edgecnn data download <local_dir>`` rebuilt in ``~/.cache/edgecnn/data/<local_dir>``, then the download cache
    ``~/.cache/edgecnn/datasets/<name>``, then the OS package folder. Of the folders of sets, the first that holds
    any of ``local_dirs`` is used as a whole.
    """
    data_env = os.environ.get("EDGECNN_DATA")
    set_folders = ([Path(data_env)] if data_env else []) + [CACHE_DIR / "data"]
    candidates = [folder / d for folder in set_folders for d in spec.local_dirs]
    for folder in set_folders:
        found = [folder / d for d in spec.local_dirs if (folder / d).is_dir()]
        if found:
            return found
    others = [CACHE_DIR / "datasets" / spec.name] + ([Path(spec.system_dir)] if spec.system_dir else [])
    candidates += others
    found = [path for path in others if path.is_dir()]
    if found:
        return found[:1]
    raise DataError(f"no local copy of dataset {spec.name!r} (looked in {', '.join(map(str, candidates))}); "
                    f"{download_hint(spec)}, or pass --data PATH (or set EDGECNN_DATA to a folder holding "
                    f"{' or '.join(spec.local_dirs)})")


def download_hint(spec: DatasetSpec) -> str:
    """The commands that fetch ``spec``: its own download, or those of the public sets it is made of."""
    from edgecnn.data.public_sets import PUBLIC_SETS

    commands = [f"edgecnn data download {d}" for d in spec.local_dirs if d in PUBLIC_SETS]
    if spec.downloads:
        commands.insert(0, f"edgecnn data download {spec.name}")
    quoted = " or ".join(repr(command) for command in commands[:2])
    hint = f"run {quoted} (needs internet)" if commands else "no public download is known"
    if spec.system_dir:
        hint += " or 'apt-get install dataset-fashion-mnist'"
    return hint
