"""Hand finding (MediaPipe's palm + landmark models in numpy), --hand auto/roi/off, and the landmark classifier, on
real images from ../shared/data and the real shipped model files."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from runtime_fixtures import REPO, edgecnn_run, one_line_error

from edgecnn.data.splits import clip_key, held_out_clip
from edgecnn.runtime.classifier import Classifier
from edgecnn.runtime.contract import HandCrop, ModelContract
from edgecnn.runtime.errors import ContractError, ModelLoadError, OptionError
from edgecnn.runtime.gesture import HandGestures
from edgecnn.runtime.hand_features import landmark_features
from edgecnn.runtime.hands import LANDMARK_MODEL, PALM_MODEL, HandFinder
from edgecnn.runtime.images import read_image_rgb

LANDMARK_CLASSIFIER = REPO / "runtime" / "models" / "rps_landmarks.tflite"
HAND_CLASSIFIERS = [REPO / "runtime" / "models" / f"{name}.tflite" for name in ("rps_landmarks", "rps_hand_embedding")]
SHIPPED_CNN = REPO / "runtime" / "models" / "rps_int8.tflite"


@pytest.fixture(scope="module")
def finder():
    return HandFinder.open(threads=1)


@pytest.fixture(scope="module")
def pi_hands(shared_data):
    files = sorted((shared_data / "rps-real-pi" / "validation").glob("*/*.jpg"))[::23]
    return [(read_image_rgb(p), p.parent.name) for p in files]


@pytest.fixture(scope="module")
def hand_free(shared_data):
    """Real photos of animals in rooms, enlarged to a webcam frame: no hand in them."""
    files = sorted((shared_data / "cats-vs-dogs" / "validation").glob("*/*.jpg"))[::100]
    return [cv2.resize(read_image_rgb(p), (640, 480)) for p in files]


def test_shipped_hand_models_are_the_pinned_mediapipe_files():
    spec = importlib.util.spec_from_file_location("fetch", REPO / "scripts" / "fetch-hand-models.py")
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    for member, digest in fetch.MEMBERS.items():
        assert hashlib.sha256((REPO / "runtime" / "models" / Path(member).name).read_bytes()).hexdigest() == digest
    assert "Apache License" in (REPO / "runtime" / "models" / "HAND_MODELS_LICENSE").read_text()


def test_finds_the_hand_in_real_pi_photos_with_landmarks_inside_the_frame(finder, pi_hands):
    found = [finder.find(image, track=False) for image, _ in pi_hands]
    assert sum(hand is not None for hand in found) >= 0.9 * len(pi_hands)
    for (image, _), hand in zip(pi_hands, found):
        if hand is None:
            continue
        height, width = image.shape[:2]
        inside = ((hand.landmarks[:, 0] > -0.1 * width) & (hand.landmarks[:, 0] < 1.1 * width)
                  & (hand.landmarks[:, 1] > -0.1 * height) & (hand.landmarks[:, 1] < 1.1 * height))
        assert inside.mean() > 0.9
        x0, y0, x1, y1 = hand.crop_box(image.shape)
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert 0.5 <= hand.presence <= 1.0


def test_no_class_claimed_on_most_real_hand_free_photos(finder, hand_free):
    """The finder alone sees hands in some paws and fur (its presence score is not enough); the shipped model's
    'none' class, learned from other hand-free photos, turns most of those into 'no hand'."""
    gestures = HandGestures(Classifier.open(LANDMARK_CLASSIFIER, threads=1), "auto")
    claimed = 0
    for image in hand_free:
        gestures.reset()
        claimed += gestures.classify(image).prediction is not None
    assert claimed <= 0.12 * len(hand_free), f"a class claimed on {claimed} of {len(hand_free)} hand-free photos"
    assert finder.find(np.zeros((480, 640, 3), np.uint8), track=False) is None


def test_a_hand_placed_in_a_larger_real_photo_is_found_where_it_was_put(finder, pi_hands, hand_free):
    image = pi_hands[0][0]
    frame = hand_free[0].copy()
    frame[200:200 + image.shape[0], 300:300 + image.shape[1]] = image
    hand = finder.find(frame, track=False)
    assert hand is not None
    cx, cy = hand.landmarks[:, :2].mean(0)
    assert 300 <= cx <= 300 + image.shape[1] and 200 <= cy <= 200 + image.shape[0]


@pytest.mark.parametrize("name", ["rock.egohands-public-1628705406752", "scissors.0178_png.rf.be3c24c3a7a37e12ef8"])
def test_a_hand_at_arms_length_the_palm_detector_misses_is_found_by_the_landmark_windows(finder, hand_free,
                                                                                           shared_data, name):
    # two held-out rps-real-kaust hands (a fist from above, scissors from the side) placed small in a room photo: no
    # palm detector view finds them (checked when the windows came in), the landmark model on a window does
    path = next((shared_data / "rps-real-kaust" / "train").glob(f"*/{name}*"))
    frame = hand_free[0].copy()
    frame[200:370, 300:470] = cv2.resize(read_image_rgb(path), (170, 170), interpolation=cv2.INTER_AREA)
    hand = finder.find(frame, track=False)
    assert hand is not None and hand.found_by == "frame" and hand.presence >= 0.8
    cx, cy = hand.landmarks[:, :2].mean(0)
    assert 300 <= cx <= 470 and 200 <= cy <= 370


def test_the_next_frame_of_a_stream_is_tracked_without_the_detector(finder, pi_hands):
    finder.reset()
    image = pi_hands[1][0]
    first = finder.find(image)
    second = finder.find(image)
    assert first is not None and first.found_by in ("palm", "frame")
    assert second is not None and second.found_by == "tracking"
    finder.reset()


def test_a_still_is_seen_as_the_stream_will_track_it(finder, pi_hands):
    # training reads stills, the live loop mostly tracked frames: the hand a search finds must look like the hand the
    # next frame of the same picture gives (a single look in a palm box, a coarser region, measured a median of 0.13)
    differences = []
    for image, _ in pi_hands:
        finder.reset()
        still, tracked = finder.find(image), finder.find(image)
        assert still is not None and tracked is not None
        differences.append(np.linalg.norm(still.embedding - tracked.embedding) / np.linalg.norm(tracked.embedding))
    finder.reset()
    assert np.median(differences) < 0.08


def test_landmark_features_ignore_position_size_and_roll(finder, pi_hands):
    hand = next(h for h in (finder.find(image, track=False) for image, _ in pi_hands) if h is not None)
    angle = math.radians(35)
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = hand.landmarks.copy()
    moved[:, :2] = (hand.landmarks[:, :2] @ turn.T) * 2.5 + np.array([40.0, -13.0])
    moved[:, 2] *= 2.5
    np.testing.assert_allclose(landmark_features(moved), landmark_features(hand.landmarks), atol=1e-4)


@pytest.mark.parametrize("model", HAND_CLASSIFIERS, ids=lambda p: p.stem)
def test_the_shipped_hand_classifiers_read_real_pi_hands(pi_hands, model):
    gestures = HandGestures(Classifier.open(model, threads=1), "auto")
    results = []
    for image, _label in pi_hands:
        gestures.reset()
        results.append(gestures.classify(image))
    right = sum(r.prediction is not None and r.prediction.label == label for r, (_, label) in zip(results, pi_hands))
    assert right >= 0.9 * len(pi_hands)


@pytest.mark.parametrize("model", HAND_CLASSIFIERS, ids=lambda p: p.stem)
def test_run_says_no_hand_and_never_a_class_on_a_hand_free_photo(tmp_path, pi_hands, hand_free, model):
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_hand.png"), cv2.cvtColor(pi_hands[0][0], cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "b_empty.png"), np.zeros((480, 640, 3), np.uint8))
    for mode in ("auto", "roi"):
        result = edgecnn_run("--model", model, "--source", folder, "--headless", "--hand", mode)
        assert result.returncode == 0, result.stderr
        hand, empty = (json.loads(line) for line in result.stdout.splitlines())
        assert empty["label"] is None and empty["reason"] == "no hand" and empty["probabilities"] is None
        if mode == "auto":
            assert hand["label"] == pi_hands[0][1] and len(hand["box"]) == 4 and hand["hand"]["presence"] >= 0.5


def test_an_image_model_without_a_crop_policy_is_cropped_with_the_defaults_and_says_so(tmp_path, pi_hands):
    image = tmp_path / "hand.png"
    cv2.imwrite(str(image), cv2.cvtColor(pi_hands[0][0], cv2.COLOR_RGB2BGR))
    result = edgecnn_run("--model", SHIPPED_CNN, "--source", image, "--headless", "--hand", "auto")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("has no hand crop") == 1
    record = json.loads(result.stdout)
    assert record["label"] in ("paper", "rock", "scissors") and record["box"] is not None


def test_the_no_hand_label_of_a_contract_is_no_hand_never_a_class(pi_hands):
    classifier = Classifier.open(LANDMARK_CLASSIFIER, threads=1)
    crop = classifier.contract.hand_crop
    assert crop.no_hand_label == "none" and "none" in classifier.labels
    gestures = HandGestures(classifier, "auto")
    probe = gestures.classify(pi_hands[0][0])
    assert probe.prediction is not None
    # the same hand, read by a contract that names its predicted label "not a hand"
    from dataclasses import replace

    relabelled = replace(classifier.contract, hand_crop=replace(crop, no_hand_label=probe.prediction.label))
    result = HandGestures(Classifier(classifier.backend, relabelled), "auto").classify(pi_hands[0][0])
    assert result.prediction is None and result.reason == "no hand" and result.hand is not None


def test_landmark_model_with_hand_off_is_a_one_line_error(pi_hands):
    result = edgecnn_run("--model", LANDMARK_CLASSIFIER, "--source", REPO / "docs", "--hand", "off", "--headless")
    assert "reads a hand's features; --hand off cannot feed it" in one_line_error(result)
    with pytest.raises(OptionError):
        HandGestures(Classifier.open(LANDMARK_CLASSIFIER), "off")


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_missing_or_corrupt_hand_model_is_an_error_naming_the_file(tmp_path, damage):
    broken = tmp_path / "palm_detection_lite.tflite"
    if damage == "truncated":
        broken.write_bytes(PALM_MODEL.read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match=str(broken)):
        HandFinder.open(palm_model=broken, landmark_model=LANDMARK_MODEL)
    wrong = tmp_path / "swapped.tflite"
    shutil.copy(LANDMARK_MODEL, wrong)
    with pytest.raises(ModelLoadError, match="expected a hand model"):
        HandFinder.open(palm_model=wrong, landmark_model=LANDMARK_MODEL)


def test_the_crop_policy_travels_in_the_contract_and_old_contracts_mean_off():
    contract = ModelContract("m", ("a", "b"), (21, 3), input_kind="hand_landmarks", hand_crop=HandCrop(margin=0.3))
    again = ModelContract.from_json(contract.to_json())
    assert again.hand_crop == HandCrop(margin=0.3) and again.input_shape == (21, 3)
    old = json.loads(contract.to_json())
    for key in ("hand_crop", "input_kind"):
        old.pop(key)
    old["input_size"] = [150, 150]
    assert ModelContract.from_dict(old).hand_crop is None
    with pytest.raises(ContractError, match="hand_crop.margin"):
        ModelContract.from_dict(dict(json.loads(contract.to_json()), hand_crop={"margin": "wide"}))
    with pytest.raises(ContractError, match="needs a hand_crop"):
        ModelContract("m", ("a", "b"), (21, 3), input_kind="hand_landmarks")


def test_kaust_frames_of_one_clip_share_a_key_and_are_held_out_together(shared_data):
    names = [p.name for p in sorted((shared_data / "rps-real-kaust" / "train").glob("*/*.jpg"))]
    video = [n for n in names if "IMG_7079_MOV" in n]
    assert len(video) > 10 and {clip_key(n) for n in video} == {"IMG_7079_MOV"}
    assert len({held_out_clip(n) for n in video}) == 1
    clips = {clip_key(n) for n in names}
    held = {clip_key(n) for n in names if held_out_clip(n)}
    assert 20 <= len(clips) < len(names) / 3 and 0.1 < len(held) / len(clips) < 0.35


class _CountingBackend:
    """A real hand-model backend, counting its calls (instrumentation around the real interpreter, not a stand-in)."""

    def __init__(self, backend):
        self.backend, self.calls = backend, 0

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def invoke_all(self, tensor):
        self.calls += 1
        return self.backend.invoke_all(tensor)


def _counting_finder() -> tuple[HandFinder, _CountingBackend, _CountingBackend]:
    from edgecnn.runtime.backends import open_backend

    palm = _CountingBackend(open_backend(PALM_MODEL, None, 1))
    landmark = _CountingBackend(open_backend(LANDMARK_MODEL, None, 1))
    return HandFinder(palm, landmark), palm, landmark


def test_a_still_gets_the_full_search_and_an_empty_stream_one_look_per_frame():
    from edgecnn.runtime.hand_search import FALLBACK_VIEWS, FINE_TILES, WINDOW_TURNS, WINDOWS, tiles

    finder, palm, landmark = _counting_finder()
    empty = np.full((480, 640, 3), 128, np.uint8)  # nothing for any view to find
    coarse, fine, windows = (len(tiles(empty.shape, *grid)) for grid in ((), FINE_TILES, WINDOWS))
    assert (coarse, fine, windows, len(FALLBACK_VIEWS), len(WINDOW_TURNS)) == (4, 6, 12, 4, 3)

    def calls(search) -> tuple[int, int]:
        palm.calls = landmark.calls = 0
        assert search() is None
        return palm.calls, landmark.calls

    # (detector calls, landmark calls): the whole frame, zoomed out, 4 tiles, 6 fine tiles; 4 views, 36 windows
    full = (2 + coarse + fine, len(FALLBACK_VIEWS) + len(WINDOW_TURNS) * windows)
    assert calls(lambda: finder.find(empty)) == full  # a stream's first frame searches everything
    rest = len(finder.looks(empty.shape)) - 1  # every look but the whole frame
    assert rest == 1 + coarse + fine + len(FALLBACK_VIEWS) + len(WINDOW_TURNS) * windows
    turn = 2 + 4 * (rest // 3)  # the first two frames, then the whole frame on one frame of four
    stream = [calls(lambda: finder.find(empty)) for _ in range(turn)]
    # then one look a frame, never costlier than one detector call or one landmark call
    assert set(stream) == {(1, 0), (0, 1)}
    whole = [0, 1] + list(range(5, turn, 4))  # the whole frame at once (a hand coming into view) and every 4th frame
    assert all(stream[index] == (1, 0) for index in whole)
    # ... and every other look once in that time: the whole search, spread over 2 + 4 x 17 frames
    assert tuple(map(sum, zip(*stream))) == (full[0] - 1 + len(whole), full[1])
    # most frames of an empty room cost one landmark call, what a tracked frame costs
    assert sum(calls == (0, 1) for calls in stream) > 0.55 * len(stream)
    assert calls(lambda: (finder.reset(), finder.find(empty))[1]) == full  # an unrelated picture: the full search
    assert calls(lambda: finder.find(empty, track=False)) == full


def test_a_hand_coming_into_an_empty_stream_is_found_within_four_frames(pi_hands, hand_free):
    finder, palm, landmark = _counting_finder()
    for count, (image, _) in enumerate(pi_hands[:6]):
        finder.reset()
        for room in hand_free[:4 + count]:  # an empty stretch of 4 to 9 frames
            finder.find(room)
        frame = hand_free[0].copy()
        frame[150:150 + image.shape[0], 200:200 + image.shape[1]] = image
        found = [finder.find(frame) for _ in range(4)]
        assert any(hand is not None for hand in found)
        assert found[-1] is not None and found[-1].found_by in ("tracking", "palm")


def test_a_stream_looks_first_where_a_still_room_changed(hand_free):
    from edgecnn.runtime.hand_search import StreamSearch, look_box, search_looks

    room = hand_free[0]
    looks = search_looks(room.shape)
    stream = StreamSearch(looks, room.shape)
    plain = [stream.next_look(room).name for _ in range(9)]  # nothing changes: the whole frame and the turn
    assert [plain[index] for index in (0, 1, 5)] == ["whole frame"] * 3
    assert [plain[index] for index in (2, 3, 4, 6, 7, 8)] == [look.name for look in looks[1:7]]
    changed = room.copy()
    changed[40:120, 500:600] = 255 - changed[40:120, 500:600]  # something comes in at the top right
    upcoming = [stream.next_look(changed if index == 0 else room) for index in range(8)]
    queued = [look for look in upcoming if look.name != "whole frame"]
    for look in queued[:3]:  # the looks over the change, tightest first, before the turn goes on
        x0, y0, x1, y1 = look_box(look, room.shape)
        assert x0 <= 500 and x1 >= 600 and y0 <= 40 and y1 >= 120, look.name
    assert queued[0].name.startswith("windows") and queued[:3] != list(looks[7:10])
    stream.lost()  # then cuts: the whole picture changes, which says nothing about where to look; the turn goes on
    after = [stream.next_look(hand_free[index]).name for index in range(3)]
    assert after == ["whole frame", "whole frame", looks[7].name]


def test_the_frame_letterboxed_for_the_detector_is_the_padded_square_shrunk(hand_free, pi_hands):
    from edgecnn.runtime.palm import INPUT_SIZE, letterbox, unit_tensor

    # letterbox() shrinks the frame, then pads, where the border is whole detector pixels: the same tensor as the
    # definition (pad to a square, then shrink), which training's stills were found with
    for frame in [hand_free[0], cv2.resize(hand_free[1], (1280, 720)), cv2.resize(hand_free[2], (512, 384)),
                  pi_hands[0][0]]:
        for zoom_out in (1.0, 1.6):
            height, width = frame.shape[:2]
            side = int(round(max(height, width) * zoom_out))
            pad_x, pad_y = (side - width) // 2, (side - height) // 2
            square = cv2.copyMakeBorder(frame, pad_y, side - height - pad_y, pad_x, side - width - pad_x,
                                        cv2.BORDER_CONSTANT, value=(0, 0, 0))
            expected = unit_tensor(cv2.resize(square, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA))
            tensor, *placement = letterbox(frame, zoom_out)
            assert placement == [float(side), float(pad_x), float(pad_y)]
            np.testing.assert_array_equal(tensor, expected)


def test_smoothing_starts_afresh_after_no_hand_and_in_another_file(tmp_path, pi_hands):
    paper = next(image for image, label in pi_hands if label == "paper")
    rock = next(image for image, label in pi_hands if label == "rock")
    height, width = paper.shape[:2]
    video = tmp_path / "gap.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (width, height))
    for image in (paper, paper, np.zeros_like(paper), rock, rock):
        writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    writer.release()
    folder = tmp_path / "stills"
    folder.mkdir()
    for name, image in (("a.png", paper), ("b.png", rock)):
        cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    for source, fresh, averaged in ((video, (0, 3), (1, 4)), (folder, (0, 1), ())):
        raw, smoothed = ([json.loads(line) for line in edgecnn_run("--source", source, "--headless", *extra).stdout
                          .splitlines()] for extra in ((), ("--smooth", 0.9)))
        assert [r["label"] is None for r in raw] == [r["label"] is None for r in smoothed]
        assert [r["label"] is None for r in raw] == [index == 2 for index in range(len(raw))]  # only the empty frame
        for index in fresh:  # the first hand, and the first after an empty frame or in another file
            assert smoothed[index]["probabilities"] == raw[index]["probabilities"]
        for index in averaged:  # the next frame of the same hand is averaged
            assert smoothed[index]["probabilities"] != raw[index]["probabilities"]
