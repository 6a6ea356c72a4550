"""The chapter's image augmentation as Keras 3 preprocessing layers, applied in the tf.data pipeline.

ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2,
zoom_range=0.2, horizontal_flip=True, fill_mode='nearest') becomes the layers below. They run on training batches
only, inside ``tf.data``, so they are never part of the saved or exported inference graph.

One deliberate reading: ImageDataGenerator took ``shear_range`` in *degrees*, so the chapter's 0.2 was a 0.2-degree
shear, effectively none. We follow the evident intent, a shear intensity of 0.2 (about 11 degrees), which is what
``RandomShear(x_factor=0.2)`` means.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AugmentOptions:
    """The chapter's augmentation parameters."""

    rotation_degrees: float = 40.0
    """Maximum rotation either way, in degrees."""
    shift: float = 0.2
    """Maximum width/height shift as a fraction of the image size."""
    shear: float = 0.2
    """Shear intensity (see the module note on ImageDataGenerator's degrees)."""
    zoom: float = 0.2
    """Maximum zoom in or out as a fraction."""
    horizontal_flip: bool = True
    """Mirror images left-right at random."""
    fill_mode: str = "nearest"
    """How pixels outside the source are filled."""
    brightness: float = 0.0
    """Maximum brightness change either way, as a fraction of the 0-255 range; 0 (the chapter) leaves it."""
    contrast: float = 0.0
    """Maximum contrast change either way, as a fraction; 0 (the chapter) leaves it."""
    saturation: float = 0.0
    """Maximum colour saturation change, as a fraction (0.3: 0.7x to 1.3x); 0 (the chapter) leaves it."""

    @classmethod
    def chapter(cls) -> AugmentOptions:
        """The parameters the chapter uses for horses-or-humans and rock-paper-scissors."""
        return cls()

    @classmethod
    def real_hands(cls) -> AugmentOptions:
        """The chapter's geometry plus colour jitter, for photos that must hold up under a webcam's light and white
        balance (rock-paper-scissors trained on green-screen and indoor shots)."""
        return cls(brightness=0.25, contrast=0.3, saturation=0.3)

    @classmethod
    def light(cls) -> AugmentOptions:
        """The chapter's kinds of change at half strength: for tiny inputs (64x64) and small models, which the full
        strength can leave underfitting."""
        return cls(rotation_degrees=20.0, shift=0.1, shear=0.1, zoom=0.1)

    @classmethod
    def preset(cls, name: str) -> AugmentOptions:
        """One of :data:`PRESETS`."""
        if name not in PRESETS:
            raise ValueError(f"unknown augmentation preset {name!r}; expected one of {sorted(PRESETS)}")
        return getattr(cls, name)()


PRESETS = ("chapter", "light", "real_hands")
"""Names of the :class:`AugmentOptions` presets (``--augmentation`` on the command line)."""


def build_augmenter(options: AugmentOptions, seed: int):
    """A ``keras.Sequential`` of random layers; call it with ``training=True`` on a float batch."""
    import keras
    from keras import layers

    fill = options.fill_mode
    steps = [
        layers.RandomRotation(options.rotation_degrees / 360.0, fill_mode=fill, seed=seed),
        layers.RandomTranslation(options.shift, options.shift, fill_mode=fill, seed=seed + 1),
        layers.RandomShear(x_factor=options.shear, fill_mode=fill, seed=seed + 2),
        layers.RandomZoom(options.zoom, options.zoom, fill_mode=fill, seed=seed + 3),
    ]
    if options.horizontal_flip:
        steps.append(layers.RandomFlip("horizontal", seed=seed + 4))
    # Colour after geometry; every layer works on the model's raw 0-255 pixels, so value_range says so. Saturation
    # goes first: brightness and contrast clip to 0-255, and saturation fed clipped pixels overshoots that range.
    if options.saturation:
        steps.append(layers.RandomSaturation((0.5 - options.saturation / 2, 0.5 + options.saturation / 2),
                                             value_range=(0, 255), seed=seed + 7))
    if options.brightness:
        steps.append(layers.RandomBrightness(options.brightness, value_range=(0, 255), seed=seed + 5))
    if options.contrast:
        steps.append(layers.RandomContrast(options.contrast, value_range=(0, 255), seed=seed + 6))
    return keras.Sequential(steps, name="augmentation")
