"""The recipes of the two sets with negatives (hands showing other signs or none): rps-webcam-subhih (classes from
the source's box CSVs, split by recording session) and gestures-room-emrecandir9 (eighteen source gestures mapped to
five classes, every n-th video frame), rebuilt by the real download code from archives made here of real images."""

from __future__ import annotations

import dataclasses
import io
import tarfile
from pathlib import Path

import pytest
from PIL import Image
from test_set_download import server  # noqa: F401  (the local HTTP server fixture)

from edgecnn.data.errors import DownloadError
from edgecnn.data.public_recipes import csv_labels, session_of
from edgecnn.data.public_sets import PUBLIC_SETS
from edgecnn.data.set_download import download_public_set

SUBHIH, EMRE = PUBLIC_SETS["rps-webcam-subhih"], PUBLIC_SETS["gestures-room-emrecandir9"]


def test_a_session_is_the_name_before_pic_and_names_without_one_are_the_session_pic():
    assert session_of("1528664299.56_pic00000.jpg") == "1528664299.56"
    assert session_of("3_1528505750.77_pic00012.jpg") == "3_1528505750.77"
    assert session_of("Hand_0000002.jpg") == "pic"


def test_an_image_whose_hands_carry_different_labels_is_left_out():
    rows = [{"filename": "a.jpg", "class": "2-hand"}, {"filename": "a.jpg", "class": "2-hand"},
            {"filename": "b.jpg", "class": "1-hand"}, {"filename": "b.jpg", "class": "3-hand"}]
    assert csv_labels(rows, "x.csv") == {"a.jpg": "2-hand", "b.jpg": None}
    with pytest.raises(DownloadError, match="expected the columns filename and class"):
        csv_labels([{"file": "a.jpg"}], "x.csv")


def _tarball(path: Path, top: str, files: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _jpeg(image: Image.Image, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    image.resize(size, Image.BICUBIC).save(out, "JPEG", quality=95)
    return out.getvalue()


def test_subhih_takes_classes_from_the_csvs_and_splits_by_session(tmp_path, shared_data, server):  # noqa: F811
    www, host = server
    photos = sorted((shared_data / "rps-webcam-subhih" / "train" / "rock").glob("*.jpg"))[:4]
    images = {name: _jpeg(Image.open(photo), (800, 600)) for name, photo in zip(
        ("15_pic00001.jpg", "15_pic00002.jpg", "996_pic00001.jpg", "Hand_0000002.jpg"), photos)}
    images["15_pic00003.jpg"] = images["15_pic00001.jpg"]  # the same pixels again: dropped
    images["15_pic00004.jpg"] = _jpeg(Image.open(photos[0]).rotate(90), (800, 600))  # two hands, two labels
    csv = ("filename,width,height,class,xmin,ymin,xmax,ymax\n15_pic00001.jpg,800,600,0-hand,1,1,9,9\n"
           "15_pic00002.jpg,800,600,4-hand,1,1,9,9\n996_pic00001.jpg,800,600,2-hand,1,1,9,9\n"
           "Hand_0000002.jpg,800,600,5-hand,1,1,9,9\n15_pic00003.jpg,800,600,0-hand,1,1,9,9\n"
           "15_pic00004.jpg,800,600,0-hand,1,1,9,9\n15_pic00004.jpg,800,600,1-hand,1,1,9,9\n")
    source = SUBHIH.sources[0]
    _tarball(www / source.repo / "archive" / f"{source.commit}.tar.gz", f"HandsDataset-{source.commit}",
             {**{f"images/{name}": data for name, data in images.items()},
              "data/train_labels.csv": csv.encode(), "data/test_labels.csv": b"filename,class\n"})
    expected = {"train/rock/15_pic00001.jpg", "train/other_gesture/15_pic00002.jpg",
                "validation/scissors/996_pic00001.jpg", "validation/paper/Hand_0000002.jpg"}
    spec = dataclasses.replace(SUBHIH, sources=(dataclasses.replace(source, host=host),),
                               counts={name.rsplit("/", 1)[0]: 1 for name in expected}, fingerprint="0" * 64)
    built = tmp_path / "built"
    with pytest.raises(DownloadError) as refused:  # the set's own check names the fingerprint it found
        download_public_set(spec, built, tmp_path / "cache")
    actual = str(refused.value).split("fingerprint ", 1)[1].split(" ", 1)[0]
    done = download_public_set(dataclasses.replace(spec, fingerprint=actual), built, tmp_path / "cache")
    assert done.fingerprint_matches
    assert {p.relative_to(built).as_posix() for p in built.glob("*/*/*.jpg")} == expected
    assert Image.open(built / "train/rock/15_pic00001.jpg").size == (512, 384)


def test_emrecandir9_maps_gestures_and_keeps_every_nth_frame(tmp_path, shared_data, server):  # noqa: F811
    www, host = server
    photo = Image.open(next((shared_data / "gestures-room-emrecandir9" / "train" / "rock").glob("*.jpg")))
    files = {}
    for gesture, count in (("emergency", 4), ("up", 13), ("no_class", 3)):
        for index in range(count):
            files[f"dataset/photos/hand/{gesture}/{index:03d}_org.jpg"] = _jpeg(photo.rotate(index * 7 + len(gesture)),
                                                                             (640, 480))
    source = EMRE.sources[0]
    _tarball(www / source.repo / "archive" / f"{source.commit}.tar.gz", f"custom-gesture-dataset-{source.commit}",
             files)
    expected = {"train/rock/emergency_000_org.jpg", "train/rock/emergency_002_org.jpg",
                "train/other_gesture/up_000_org.jpg", "train/other_gesture/up_012_org.jpg",
                "train/no_gesture/no_class_000_org.jpg", "train/no_gesture/no_class_002_org.jpg"}
    counts = {"train/rock": 2, "train/other_gesture": 2, "train/no_gesture": 2}
    spec = dataclasses.replace(EMRE, sources=(dataclasses.replace(source, host=host),), counts=counts,
                               fingerprint="0" * 64)
    with pytest.raises(DownloadError) as refused:
        download_public_set(spec, tmp_path / "built", tmp_path / "cache")
    actual = str(refused.value).split("fingerprint ", 1)[1].split(" ", 1)[0]
    built = tmp_path / "built"
    assert download_public_set(dataclasses.replace(spec, fingerprint=actual), built, tmp_path / "cache")
    assert {p.relative_to(built).as_posix() for p in built.glob("*/*/*.jpg")} == expected
