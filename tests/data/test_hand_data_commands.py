"""The hand data commands (`edgecnn data composite-hands`, `motion-blur`, `crop-hands`) on real hand photos and real
background photos."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from edgecnn.data.composite import CompositeOptions, composite_hands, green_screen_alpha, place_hand
from edgecnn.data.errors import DataError
from edgecnn.data.splits import held_out_clip
from edgecnn.runtime.images import read_image_rgb


def _copy_split(source, target, per_class: int) -> None:
    for class_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        (target / class_dir.name).mkdir(parents=True)
        for path in sorted(class_dir.glob("*.jpg"))[:per_class]:
            shutil.copy(path, target / class_dir.name / path.name)


@pytest.fixture
def small_sets(shared_data, tmp_path):
    """Three photos per class of rps-real-pi (train, validation) and rps-real-kaust (train), real backgrounds."""
    for name, splits in (("rps-real-pi", ("train", "validation")), ("rps-real-kaust", ("train",))):
        for split in splits:
            _copy_split(shared_data / name / split, tmp_path / name / split, 3)
    backgrounds = tmp_path / "rooms"
    _copy_split(shared_data / "cats-vs-dogs" / "train", backgrounds / "train", 2)
    _copy_split(shared_data / "cats-vs-dogs" / "validation", backgrounds / "validation", 2)
    return tmp_path, backgrounds


def test_frames_keep_names_and_splits_so_the_clip_hold_out_still_applies(small_sets):
    root, rooms = small_sets
    counts = composite_hands(root / "rps-real-kaust", rooms, root / "out")
    sources = sorted(p.relative_to(root / "rps-real-kaust") for p in (root / "rps-real-kaust").rglob("*.jpg"))
    made = sorted(p.relative_to(root / "out") for p in (root / "out").rglob("*.jpg"))
    assert made == sources and counts["train"].written == len(sources)
    assert {held_out_clip(p.name) for p in made} == {held_out_clip(p.name) for p in sources}
    frame = read_image_rgb(root / "out" / made[0])
    assert frame.shape == (480, 640, 3)


def test_the_same_seed_gives_the_same_frames_and_another_seed_other_frames(small_sets):
    root, rooms = small_sets
    for out, seed in (("a", 0), ("b", 0), ("c", 1)):
        composite_hands(root / "rps-real-pi", rooms, root / out, CompositeOptions(seed=seed))
    files = sorted(p.relative_to(root / "a") for p in (root / "a").rglob("*.jpg"))
    assert all((root / "a" / f).read_bytes() == (root / "b" / f).read_bytes() for f in files)
    assert any((root / "a" / f).read_bytes() != (root / "c" / f).read_bytes() for f in files)


def test_validation_hands_are_placed_on_validation_photos_only(small_sets):
    root, rooms = small_sets
    composite_hands(root / "rps-real-pi", rooms, root / "out")
    train_rooms = [cv2.resize(read_image_rgb(p), (640, 480)) for p in (rooms / "train").rglob("*.jpg")]
    for frame_path in (root / "out" / "validation").rglob("*.jpg"):
        frame = read_image_rgb(frame_path).astype(np.int16)
        # a frame is mostly its background: far from every training photo
        assert min(np.abs(frame - room).mean() for room in train_rooms) > 20


def test_a_green_screen_hand_is_keyed_out_and_an_ordinary_photo_is_not(shared_data):
    pi = read_image_rgb(sorted((shared_data / "rps-real-pi" / "train" / "paper").glob("*.jpg"))[0])
    alpha = green_screen_alpha(pi)
    assert alpha is not None and 0.1 < alpha.mean() < 0.7  # the hand and arm, not the screen
    kaust = [read_image_rgb(p) for p in sorted((shared_data / "rps-real-kaust" / "train" / "rock").glob("*.jpg"))[:20]]
    assert sum(green_screen_alpha(image) is not None for image in kaust) <= 1
    room = np.full((480, 640, 3), 90, np.uint8)
    frame = place_hand(room, pi, np.random.default_rng(0), CompositeOptions(), alpha)
    screen_green = (frame[..., 1].astype(int) - frame[..., 0] > 60) & (frame[..., 1].astype(int) - frame[..., 2] > 60)
    assert screen_green.mean() < 0.002 and (frame != 90).any()


def test_a_missing_or_empty_source_is_a_data_error(tmp_path, shared_data):
    with pytest.raises(DataError, match="expected <split>/<class>/<image files>"):
        composite_hands(tmp_path / "nothing", shared_data / "cats-vs-dogs", tmp_path / "out")
    (tmp_path / "hands" / "train" / "rock").mkdir(parents=True)
    with pytest.raises(DataError, match="must not be the source folder"):
        composite_hands(tmp_path / "hands", shared_data / "cats-vs-dogs", tmp_path / "hands" / "out")


def test_the_data_commands_write_frames_and_crops_and_list_what_had_no_hand(small_sets, edgecnn_cli):
    root, rooms = small_sets
    result = edgecnn_cli("data", "composite-hands", root / "rps-real-pi", rooms, root / "frames")
    assert result.returncode == 0, result.stderr
    assert "validation: 9 frames" in result.stdout and "train: 9 frames" in result.stdout
    cv2.imwrite(str(root / "rps-real-pi" / "validation" / "rock" / "blank.png"), np.zeros((150, 225, 3), np.uint8))
    result = edgecnn_cli("data", "crop-hands", root / "rps-real-pi", root / "crops")
    assert result.returncode == 0, result.stderr
    listed = (root / "crops" / "validation" / "no-hand.txt").read_text().split()
    assert "rock/blank.png" in listed
    crops = list((root / "crops" / "validation").rglob("*.jpg"))
    sizes = [read_image_rgb(p).shape[:2] for p in crops]
    assert len(crops) + len(listed) == 10
    assert all(h <= 150 and w <= 225 for h, w in sizes) and any(h * w < 150 * 225 for h, w in sizes)
    missing = edgecnn_cli("data", "composite-hands", root / "nowhere", rooms, root / "x")
    lines = missing.stderr.strip().splitlines()
    assert missing.returncode != 0 and len(lines) == 1 and "nowhere" in lines[0], missing.stderr


def test_blurred_copies_keep_names_smear_the_picture_and_repeat_with_the_seed(small_sets):
    from edgecnn.data.motion_blur import MotionBlurOptions, blur_folder

    root, _ = small_sets
    for out, seed in (("a", 0), ("b", 0), ("c", 1)):
        assert blur_folder(root / "rps-real-kaust", root / out, MotionBlurOptions(seed=seed)).written == 9
    names = sorted(p.relative_to(root / "a") for p in (root / "a").rglob("*.jpg"))
    assert names == sorted(p.relative_to(root / "rps-real-kaust") for p in (root / "rps-real-kaust").rglob("*.jpg"))
    assert all((root / "a" / n).read_bytes() == (root / "b" / n).read_bytes() for n in names)
    assert any((root / "a" / n).read_bytes() != (root / "c" / n).read_bytes() for n in names)
    # a rerun leaves identical copies untouched (their modification time keys the hand finder's cache)
    stamps = {n: (root / "a" / n).stat().st_mtime_ns for n in names}
    blur_folder(root / "rps-real-kaust", root / "a", MotionBlurOptions(seed=0))
    assert stamps == {n: (root / "a" / n).stat().st_mtime_ns for n in names}
    for name in names:
        sharp, smeared = read_image_rgb(root / "rps-real-kaust" / name), read_image_rgb(root / "a" / name)
        assert smeared.shape == sharp.shape
        # fine detail goes: the Laplacian's energy drops
        energy = [cv2.Laplacian(cv2.cvtColor(i, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var() for i in (sharp, smeared)]
        assert energy[1] < 0.7 * energy[0]


def test_the_blur_command_refuses_an_output_inside_its_source(small_sets, edgecnn_cli):
    root, _ = small_sets
    result = edgecnn_cli("data", "motion-blur", root / "rps-real-kaust", root / "rps-real-kaust" / "blurred")
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1 and "must not be the source folder" in lines[0], result.stderr
    assert not (root / "rps-real-kaust" / "blurred").exists()
