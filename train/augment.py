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

    @classmethod
    def chapter(cls) -> AugmentOptions:
        """The parameters the chapter uses for horses-or-humans and rock-paper-scissors."""
        return cls()


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
    return keras.Sequential(steps, name="augmentation")
