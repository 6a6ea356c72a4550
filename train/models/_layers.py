"""Building blocks shared by the model files (imported by ``build`` functions only, so Keras loads lazily)."""

from __future__ import annotations


def image_input(shape, scale: float = 1.0 / 255, offset: float = 0.0):
    """The model input: raw 0-255 pixels, rescaled inside the graph so every export takes camera pixels as-is."""
    import keras

    inputs = keras.Input(shape=shape, name="image")
    scaled = keras.layers.Rescaling(scale, offset=offset, name="rescale")(inputs)
    return inputs, scaled
