"""Augmentation on real images: the chapter's geometry, the real-hands colour jitter, and nothing in the model."""

import numpy as np
import pytest

from edgecnn.runtime.images import load_for_model
from edgecnn.train.augment import PRESETS, AugmentOptions, build_augmenter
from edgecnn.train.registry import build_model, get_spec, model_names


@pytest.fixture(scope="module")
def hands(shared_data):
    files = sorted((shared_data / "rps-real-kaust" / "train" / "rock").glob("*.jpg"))[:8]
    return np.stack([load_for_model(f, (150, 150)) for f in files]).astype("float32")


@pytest.mark.parametrize("preset", PRESETS)
def test_augmented_batches_stay_in_the_pixel_range_and_differ_from_the_input(hands, preset):
    import keras

    augmenter = build_augmenter(AugmentOptions.preset(preset), seed=3)
    out = keras.ops.convert_to_numpy(augmenter(hands, training=True))
    assert out.shape == hands.shape and out.min() >= 0.0 and out.max() <= 255.0
    assert np.abs(out - hands).mean() > 5.0
    # Inference mode is the identity: augmentation never reaches predictions.
    assert np.array_equal(keras.ops.convert_to_numpy(augmenter(hands, training=False)), hands)


def test_real_hands_jitters_colour_that_the_chapter_leaves(hands):
    import keras

    def brightness_spread(options):
        augmenter = build_augmenter(options, seed=5)
        means = [keras.ops.convert_to_numpy(augmenter(hands, training=True)).mean(axis=(1, 2, 3)) for _ in range(4)]
        return float(np.std(np.concatenate(means)))

    geometry_only = AugmentOptions(rotation_degrees=0, shift=0, shear=0, zoom=0, horizontal_flip=False)
    colour_only = AugmentOptions(rotation_degrees=0, shift=0, shear=0, zoom=0, horizontal_flip=False,
                                 brightness=0.25, contrast=0.3, saturation=0.3)
    assert brightness_spread(colour_only) > brightness_spread(geometry_only) + 5.0


def test_light_is_the_chapter_at_half_strength():
    chapter, light = AugmentOptions.chapter(), AugmentOptions.light()
    for field in ("rotation_degrees", "shift", "shear", "zoom"):
        assert getattr(light, field) == getattr(chapter, field) / 2, field
    assert light.horizontal_flip and light.fill_mode == chapter.fill_mode


def test_unknown_preset_names_the_valid_ones():
    with pytest.raises(ValueError, match="chapter"):
        AugmentOptions.preset("strong")


@pytest.mark.parametrize("name", model_names())
def test_models_carry_no_augmentation_layers(name):
    assert get_spec(name).augmentation in PRESETS
    model = build_model(name, **({"weights": "random"} if name == "inception_transfer" else {}))
    assert not [layer.name for layer in model.layers if type(layer).__name__.startswith("Random")]
