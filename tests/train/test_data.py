"""Data loading on the real sets: class order, corrupt images, Fashion-MNIST idx files and their checksums."""

import shutil

import numpy as np
import pytest

from edgecnn.train.data import discover_labels, load_image_split
from edgecnn.train.datasets import DATASETS, get_dataset
from edgecnn.train.download import sha256_of
from edgecnn.train.errors import DataError
from edgecnn.train.idx import load_fashion_split, read_idx


def test_class_order_is_alphabetical_folder_names(shared_data):
    assert discover_labels([shared_data / "rps-real-pi"], "train") == ("paper", "rock", "scissors")
    assert discover_labels([shared_data / "horses-or-humans"], "train") == ("horses", "humans")
    for name, spec in DATASETS.items():
        if spec.kind == "image_folder":
            roots = [shared_data / d for d in spec.local_dirs]
            assert discover_labels(roots, spec.train_split) == spec.labels, name


@pytest.fixture
def folder_with_corrupt_images(shared_data, tmp_path):
    """A small real image folder plus a truncated JPEG, a text file named .jpg and an empty .png."""
    for label in ("paper", "rock", "scissors"):
        target = tmp_path / "train" / label
        target.mkdir(parents=True)
        for source in sorted((shared_data / "rps-real-pi" / "train" / label).glob("*.jpg"))[:4]:
            shutil.copy(source, target)
    real = sorted((tmp_path / "train" / "rock").glob("*.jpg"))[0].read_bytes()
    (tmp_path / "train" / "rock" / "truncated.jpg").write_bytes(real[:200])
    (tmp_path / "train" / "paper" / "notes.jpg").write_text("not an image")
    (tmp_path / "train" / "scissors" / "empty.png").write_bytes(b"")
    return tmp_path


def test_corrupt_images_are_skipped_and_reported(folder_with_corrupt_images):
    split = load_image_split([folder_with_corrupt_images], "train", ("paper", "rock", "scissors"), (150, 150), "RGB")
    assert split.images.shape == (12, 150, 150, 3) and split.images.dtype == np.uint8
    assert sorted(np.bincount(split.labels).tolist()) == [4, 4, 4]
    reported = sorted(path.rsplit("/", 1)[-1] for path, _ in split.skipped)
    assert reported == ["empty.png", "notes.jpg", "truncated.jpg"]
    assert all("not a readable image" in reason for _, reason in split.skipped)


def test_limit_samples_per_class(shared_data):
    split = load_image_split([shared_data / "cats-vs-dogs"], "validation", ("cats", "dogs"), (64, 64), "RGB",
                             limit=5, seed=1)
    assert np.bincount(split.labels).tolist() == [5, 5]


def test_fashion_mnist_idx_files(fashion_mnist_dir):
    images, labels = load_fashion_split(fashion_mnist_dir, "test")
    assert images.shape == (10000, 28, 28, 1) and labels.shape == (10000,)
    assert np.bincount(labels).tolist() == [1000] * 10


def test_fashion_mnist_checksums_match_the_real_files(fashion_mnist_dir):
    """The registry's SHA-256s (of the decompressed idx bytes) verify Debian's copy of the original files."""
    for download in get_dataset("fashion_mnist").downloads:
        local = fashion_mnist_dir / download.url.rsplit("/", 1)[-1]
        assert sha256_of(local, gunzip=download.content_hash) == download.sha256, local.name


def test_truncated_idx_file_is_a_clear_error(fashion_mnist_dir, tmp_path):
    import gzip

    data = gzip.open(fashion_mnist_dir / "t10k-images-idx3-ubyte.gz").read()
    broken = tmp_path / "t10k-images-idx3-ubyte"
    broken.write_bytes(data[:5000])
    with pytest.raises(DataError, match="truncated"):
        read_idx(broken)
    broken.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(DataError, match="bad magic"):
        read_idx(broken)
