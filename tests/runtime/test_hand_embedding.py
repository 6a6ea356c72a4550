"""The hand landmark model's embedding as classifier input: the derived model file, the finder's hands, the contract
kind and the data cache, on real photos from ../shared/data and the real shipped model files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from runtime_fixtures import REPO

from edgecnn.data.hands import find_hand, scan_split
from edgecnn.runtime.backends import open_backend
from edgecnn.runtime.classifier import Classifier
from edgecnn.runtime.contract import HandCrop, ModelContract
from edgecnn.runtime.errors import ContractError, OptionError
from edgecnn.runtime.gesture import HandGestures
from edgecnn.runtime.hand_features import hand_features
from edgecnn.runtime.hands import EMBEDDING_SIZE, LANDMARK_INPUT, LANDMARK_MODEL, PALM_MODEL, HandFinder
from edgecnn.runtime.images import read_image_rgb

MEDIAPIPE_LANDMARK_MODEL = REPO / "runtime" / "models" / "hand_landmark_lite.tflite"
EMBEDDING_CLASSIFIER = REPO / "runtime" / "models" / "rps_hand_embedding.tflite"


@pytest.fixture(scope="module")
def finder():
    return HandFinder.open(threads=1)


@pytest.fixture(scope="module")
def pi_photos(shared_data):
    return [read_image_rgb(p) for p in sorted((shared_data / "rps-real-pi" / "validation").glob("*/*.jpg"))[::61]]


@pytest.mark.filterwarnings("ignore:Warning. Enabling .experimental_preserve_all_tensors.:UserWarning")
def test_the_derived_landmark_model_returns_mediapipes_outputs_unchanged_and_the_pooled_features(finder, pi_photos):
    from ai_edge_litert.interpreter import Interpreter  # reference reading: every tensor of MediaPipe's own file kept

    original = open_backend(MEDIAPIPE_LANDMARK_MODEL, None, 1)
    derived = open_backend(LANDMARK_MODEL, None, 1)
    reference = Interpreter(str(MEDIAPIPE_LANDMARK_MODEL), num_threads=1, experimental_preserve_all_tensors=True)
    reference.allocate_tensors()
    pooled = next(d["index"] for d in reference.get_tensor_details()
                  if d["name"].endswith("global_average_pooling2d/Mean"))
    checked = 0
    for image in pi_photos:
        hand = finder.find(image, track=False)
        if hand is None:
            continue
        tensor = (hand.region.crop(image, LANDMARK_INPUT).astype(np.float32) * np.float32(1.0 / 255.0))[None]
        before, after = original.invoke_all(tensor), derived.invoke_all(tensor)
        assert len(before) == 4 and len(after) == 5
        for old, new in zip(before, after):
            np.testing.assert_array_equal(old, new)
        reference.set_tensor(reference.get_input_details()[0]["index"], tensor)
        reference.invoke()
        np.testing.assert_allclose(after[4].ravel(), reference.get_tensor(pooled).ravel(), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(hand.embedding, after[4].ravel())
        checked += 1
    assert checked >= 0.8 * len(pi_photos)


def test_a_found_hand_carries_the_embedding_and_its_mirror_image_has_its_own(finder, pi_photos):
    assert finder.embeds
    image = pi_photos[0]
    found = find_hand(image, finder)
    assert found is not None and found.embedding.shape == (EMBEDDING_SIZE,)
    assert found.mirrored_embedding.shape == (EMBEDDING_SIZE,)
    assert not np.allclose(found.embedding, found.mirrored_embedding)  # the network knows left from right
    both = found.features("hand_embedding")
    assert both.shape == (735,) and np.array_equal(both[:EMBEDDING_SIZE], found.embedding)
    flipped = found.features("hand_embedding", mirrored=True)
    np.testing.assert_array_equal(flipped[:EMBEDDING_SIZE], found.mirrored_embedding)
    np.testing.assert_allclose(flipped[EMBEDDING_SIZE::3], -both[EMBEDDING_SIZE::3])  # landmark x flipped
    np.testing.assert_array_equal(found.features("hand_landmarks"), both[EMBEDDING_SIZE:])


def test_a_scanned_folder_reads_back_from_its_cache_as_found(finder, shared_data, tmp_path):
    """A second scan answers from the cache file alone: its finder is never called, an entry changed on disk comes
    back changed, and only a file changed since (another mtime) is looked at again."""
    import json

    source = sorted((shared_data / "rps-real-pi" / "validation" / "rock").glob("*.jpg"))[:3]
    folder = tmp_path / "split" / "rock"
    folder.mkdir(parents=True)
    for path in source:
        shutil.copy(path, folder / path.name)
    first = scan_split(tmp_path / "split", finder, cache_dir=tmp_path / "cache")
    (cache_file,) = (tmp_path / "cache").glob("*.json")
    assert len(first.hands) == 3, first.not_found
    looked = []
    counting = HandFinder.open(threads=1)
    find = counting.find
    counting.find = lambda image, track=True: looked.append(image.shape) or find(image, track=track)

    again = scan_split(tmp_path / "split", counting, cache_dir=tmp_path / "cache")
    assert looked == []  # nothing but the cache file answered
    assert again.paths == first.paths and again.not_found == first.not_found
    for a, b in zip(first.hands, again.hands):  # the first run already returns what the cache keeps (float16)
        np.testing.assert_array_equal(a.landmarks, b.landmarks)
        np.testing.assert_array_equal(a.embedding, b.embedding)
        np.testing.assert_array_equal(a.mirrored_embedding, b.mirrored_embedding)
    exact = find_hand(read_image_rgb(first.paths[0]), finder)
    np.testing.assert_allclose(first.hands[0].embedding, exact.embedding, rtol=2e-3, atol=2e-3)

    entries = json.loads(cache_file.read_text())
    keys = {str(path.resolve()): key for key in entries for path in first.paths if key.startswith(f"{path.resolve()}|")}
    moved = entries[keys[str(first.paths[0].resolve())]]
    moved["landmarks"] = (np.asarray(moved["landmarks"]) + 1000.0).tolist()  # a hand no finder would give
    entries[keys[str(first.paths[1].resolve())]] = None  # "no hand" in a picture that has one
    cache_file.write_text(json.dumps(entries))
    edited = scan_split(tmp_path / "split", counting, cache_dir=tmp_path / "cache")
    assert looked == []
    assert edited.paths == [first.paths[0], first.paths[2]] and edited.not_found == [first.paths[1]]
    np.testing.assert_allclose(edited.hands[0].landmarks, first.hands[0].landmarks + 1000.0, atol=1e-3)

    first.paths[2].touch()  # changed since the scan: its entry no longer applies
    scan_split(tmp_path / "split", counting, cache_dir=tmp_path / "cache")
    assert len(looked) == 1


def test_mediapipes_own_landmark_model_still_finds_hands_but_cannot_feed_an_embedding_model(pi_photos):
    plain = HandFinder.open(PALM_MODEL, MEDIAPIPE_LANDMARK_MODEL, threads=1)
    assert not plain.embeds
    hand = plain.find(pi_photos[0], track=False)
    assert hand is not None and hand.embedding is None
    hand_features(hand.landmarks, None, "hand_landmarks")  # a landmark model needs no embedding
    with pytest.raises(OptionError, match="does not return"):
        HandGestures(Classifier.open(EMBEDDING_CLASSIFIER, threads=1), "auto", finder=plain)


def test_an_embedding_contract_declares_its_feature_row():
    contract = ModelContract("m", ("a", "b"), (1, 735), input_kind="hand_embedding", hand_crop=HandCrop())
    assert contract.reads_hand_features and contract.input_shape == (1, 735)
    assert ModelContract.from_json(contract.to_json()) == contract
    with pytest.raises(ContractError, match=r"hand_embedding model needs a hand_crop and input_size \(1, 735\)"):
        ModelContract("m", ("a", "b"), (21, 3), input_kind="hand_embedding", hand_crop=HandCrop())
