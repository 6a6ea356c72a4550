"""Data loading on the real sets: class order, corrupt images, Fashion-MNIST idx files and their checksums."""

import shutil

import numpy as np
import pytest

from edgecnn.data.datasets import DATASETS, get_dataset
from edgecnn.data.download import sha256_of
from edgecnn.data.errors import DataError
from edgecnn.data.idx import load_fashion_split, read_idx
from edgecnn.data.loader import discover_labels, load_image_split
from edgecnn.data.splits import held_out_by_hash, load_training_data


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


def test_images_are_resized_with_the_method_the_contract_will_name(shared_data):
    # training must see exactly what the runtime feeds: load_for_model with the same resize method
    from edgecnn.runtime.images import load_for_model

    root = shared_data / "cats-vs-dogs"
    splits = {method: load_image_split([root], "validation", ("cats", "dogs"), (64, 64), "RGB", limit=2, seed=3,
                                       resize=method) for method in ("bilinear", "area")}
    files = sorted((root / "validation" / "cats").iterdir())
    for method, split in splits.items():
        rebuilt = [load_for_model(path, (64, 64), "RGB", method) for path in files]
        assert any(np.array_equal(split.images[0], image) for image in rebuilt), method
    assert not np.array_equal(splits["bilinear"].images, splits["area"].images)


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


def _copy_images(source, target, per_class):
    for label_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        (target / label_dir.name).mkdir(parents=True)
        for image in sorted(label_dir.glob("*.jpg"))[:per_class]:
            shutil.copy(image, target / label_dir.name)


def test_a_source_without_held_out_split_gives_hash_chosen_images_to_evaluation(shared_data, tmp_path):
    """rps-real-kaust has only train/: a fifth of it (by file-name hash) is evaluated, never trained on."""
    pi, kaust = tmp_path / "pi", tmp_path / "kaust"
    _copy_images(shared_data / "rps-real-pi" / "train", pi / "train", 3)
    _copy_images(shared_data / "rps-real-pi" / "validation", pi / "validation", 2)
    _copy_images(shared_data / "rps-real-kaust" / "train", kaust / "train", 20)
    data = load_training_data(get_dataset("rps"), [pi, kaust], (32, 32, 3))

    kaust_files = sorted(kaust.glob("train/*/*.jpg"))
    held = [p for p in kaust_files if held_out_by_hash(p)]
    assert 0 < len(held) < len(kaust_files)
    assert data.train.sources.count(str(kaust)) == len(kaust_files) - len(held)
    assert data.eval.sources.count(str(kaust)) == len(held)
    assert data.eval.sources.count(str(pi)) == 6 and data.train.sources.count(str(pi)) == 9
    # The held-out images are exactly the hash-chosen ones: none of them is among the training pixels.
    train_hashes = {image.tobytes() for image in data.train.images}
    assert not any(image.tobytes() in train_hashes for image in data.eval.images[data.eval.sources.index(str(kaust)):])
    assert data.description.to_dict()["eval_split"] == "validation"
    assert data.description.to_dict()["hash_held_out"]["roots"] == [str(kaust.resolve())]


def test_a_test_split_counts_as_held_out(shared_data):
    spec = get_dataset("rps")
    data = load_training_data(spec, [shared_data / "rps-cgi-28px"], (28, 28, 3), limit=4)
    assert data.eval_split == "test" and data.description.to_dict()["eval_split"] == "test"
    assert np.bincount(data.eval.labels).tolist() == [4, 4, 4] and "hash_held_out" not in data.description.to_dict()


def test_dot_folders_are_not_classes_in_any_stage(shared_data, tmp_path):
    # A notebook's .ipynb_checkpoints folder in a split (and in a class folder) broke calibration and verify with
    # "class folders do not match"; training, calibration, verify, bench and smoke images all go through one loader.
    from edgecnn.data.loader import load_labelled
    from edgecnn.devices.smoke import default_smoke_images, pick_smoke_images
    from edgecnn.runtime.contract import ModelContract

    for label in ("cats", "dogs"):
        target = tmp_path / "validation" / label
        target.mkdir(parents=True)
        for source in sorted((shared_data / "cats-vs-dogs" / "validation" / label).glob("*.jpg"))[:3]:
            shutil.copy(source, target)
    split = tmp_path / "validation"
    for junk in (split / ".ipynb_checkpoints", split / "cats" / ".ipynb_checkpoints"):
        junk.mkdir()
        shutil.copy(next((tmp_path / "validation" / "dogs").glob("*.jpg")), junk / "copy.jpg")
    assert discover_labels([tmp_path], "validation") == ("cats", "dogs")
    contract = ModelContract(model_name="t", labels=("cats", "dogs"), input_size=(32, 32))
    images = load_labelled(tmp_path, contract, "validation", None)
    assert images.per_class(2) == [3, 3]
    extra = {"data": {"kind": "image_folder", "root": str(tmp_path), "train_split": "train",
                      "eval_split": "validation"}}
    smoke = default_smoke_images(extra, per_class=5)
    assert len(smoke) == 6 and not any(".ipynb_checkpoints" in str(p) for p in smoke)
    assert len(pick_smoke_images([tmp_path / "validation"])) == 6
