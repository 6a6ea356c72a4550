"""The artifact's file names and the typed data description: old artifacts still read, held-out images found once."""

import pytest

from edgecnn.data.artifact import Artifact, export_file_name, export_format_of
from edgecnn.data.datasets import get_dataset
from edgecnn.data.description import VERSION, DataDescription, describe, held_out_selection
from edgecnn.data.errors import DataError
from edgecnn.data.splits import held_out_by_hash


def test_export_file_name_rule_round_trips_for_every_registered_format():
    from edgecnn.convert.formats import format_names, get_format

    for name in format_names():
        fmt = get_format(name)
        assert fmt.file_name == export_file_name(name) == Artifact(".").export_path(name).name
        assert export_file_name(name).endswith(fmt.suffix) and export_format_of(fmt.file_name) == name
    assert export_format_of("someone_elses.tflite") is None and export_format_of("model_tflite_x.onnx") is None
    with pytest.raises(DataError, match="must start with one of tflite_, onnx_"):
        export_file_name("coreml_float32")


def test_old_unversioned_descriptions_still_read():
    # What `edgecnn train` wrote before (no version), and what the benchmark helper wrote (no roots).
    old = {"kind": "image_folder", "root": "/d/rps-real-pi", "roots": ["/d/rps-real-pi", "/d/rps-real-kaust"],
           "train_split": "train", "eval_split": "validation",
           "hash_held_out": {"roots": ["/d/rps-real-kaust"], "split": "train", "every": 5,
                             "rule": "sha1(file name) % every == 0"}}
    description = DataDescription.from_dict(old)
    assert description.roots == ("/d/rps-real-pi", "/d/rps-real-kaust") and description.version == VERSION
    assert description.to_dict() == {**old, "version": VERSION}
    bare = DataDescription.from_dict({"kind": "fashion_mnist_idx", "root": "/f", "train_split": "train",
                                      "eval_split": "test"})
    assert bare.roots == ("/f",) and bare.held_out().split == "test" and bare.training().split == "train"


@pytest.mark.parametrize("bad, message", [
    ({"version": 99, "root": "/d"}, "version 99"),
    ({"kind": "parquet", "root": "/d"}, "unknown data kind 'parquet'"),
    ({"kind": "image_folder"}, "names no root folder"),
    ({"root": "/d", "hash_held_out": {"roots": ["/d"], "rule": "md5"}}, "unknown hold-out rule 'md5'"),
])
def test_bad_descriptions_are_one_clear_error(bad, message):
    with pytest.raises(DataError, match=message):
        DataDescription.from_dict(bad)
    with pytest.raises(DataError, match="does not name its data"):
        held_out_selection({}, None, "m")


def test_a_source_without_held_out_split_is_verified_on_its_hash_held_out_files(shared_data):
    kaust = shared_data / "rps-real-kaust"
    description = describe(get_dataset("rps"), [kaust])
    assert description.eval_split is None and description.hash_held_out.roots == (str(kaust.resolve()),)
    held, training = description.held_out(), description.training()
    assert held.split == training.split == "train"
    files = sorted((kaust / "train").rglob("*.jpg"))
    assert [f for f in files if held.keep(f)] == [f for f in files if held_out_by_hash(f)]
    assert not any(held.keep(f) and training.keep(f) for f in files)
