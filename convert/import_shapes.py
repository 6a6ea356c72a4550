"""What an imported model says about itself: its input (size, channels), its output (classes, softmax or sigmoid) and,
as far as its layers tell, the value range it takes. Anything that is not one image in, class probabilities out is a
one-line :class:`ModelImportError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.convert.errors import ModelImportError
from edgecnn.convert.value_range import range_text
from edgecnn.runtime.preprocess import to_value_range

SCALING_LAYERS = ("Rescaling",)
"""A model whose first computing layer is one of these scales raw 0-255 pixels itself."""
DEFAULT_RANGE = (0.0, 1.0)
"""The book's ImageDataGenerator(rescale=1/255): the scaling is outside the model, so it takes 0-1."""
EXPECTED = "expected an image classifier: one (batch, height, width, 1 or 3) input, one (batch, classes) output"


@dataclass(frozen=True)
class ModelShape:
    input_size: tuple[int, int]
    """``(height, width)``."""
    channel_order: str
    """``"RGB"`` or ``"GRAY"``."""
    classes: int
    """Output units (1 for a sigmoid)."""
    activation: str
    """``"softmax"`` or ``"sigmoid"``."""


def describe_model(model: Any, source: Path, value_range: tuple[float, float]) -> ModelShape:
    """The input and output of ``model``; ModelImportError when it is not one image in, probabilities out."""
    inputs, outputs = list(model.inputs), list(model.outputs)
    if len(inputs) != 1:
        raise ModelImportError(f"{source}: the model has {len(inputs)} inputs; {EXPECTED}")
    if len(outputs) != 1:
        raise ModelImportError(f"{source}: the model has {len(outputs)} outputs; {EXPECTED}")
    shape = tuple(inputs[0].shape)
    if len(shape) != 4:
        raise ModelImportError(f"{source}: input shape {_text(shape)} is not an image batch; {EXPECTED}")
    height, width, channels = shape[1:]
    if channels not in (1, 3):
        first = "; it looks channels-first (batch, channels, height, width)" if height in (1, 3) else ""
        raise ModelImportError(f"{source}: input shape {_text(shape)} has {channels} channels{first}; {EXPECTED}")
    if height is None or width is None:
        raise ModelImportError(f"{source}: input shape {_text(shape)} has no fixed height and width; expected a "
                               f"model built with keras.Input(shape=(height, width, channels))")
    out_shape = tuple(outputs[0].shape)
    if len(out_shape) != 2 or not out_shape[1]:
        raise ModelImportError(f"{source}: output shape {_text(out_shape)} is not one row of class scores; {EXPECTED}")
    classes = int(out_shape[1])
    activation = _activation(model, source, (int(height), int(width), int(channels)), classes, value_range)
    return ModelShape((int(height), int(width)), "GRAY" if channels == 1 else "RGB", classes, activation)


def _activation(model: Any, source: Path, input_shape: tuple[int, int, int], classes: int,
                value_range: tuple[float, float]) -> str:
    """softmax or sigmoid, from the numbers the model gives (a SavedModel has no layers to read it from)."""
    pixels = np.random.default_rng(0).integers(0, 256, (4, *input_shape), dtype=np.uint8)
    values = np.asarray(model.predict(to_value_range(pixels, value_range), verbose=0), dtype=np.float64)
    values = values.reshape(len(pixels), -1)
    in_unit = bool(np.all(values >= -1e-6) and np.all(values <= 1 + 1e-6))
    if classes == 1:
        if in_unit:
            return "sigmoid"
        raise ModelImportError(f"{source}: its one output unit gives {values.min():.3g}..{values.max():.3g}, not a "
                               f"probability; expected a sigmoid on the last layer (Dense(1, activation='sigmoid'))")
    sums = values.sum(axis=1)
    if in_unit and np.allclose(sums, 1.0, atol=1e-3):
        return "softmax"
    raise ModelImportError(f"{source}: its {classes} outputs are not probabilities (rows sum to "
                           f"{sums.min():.3g}..{sums.max():.3g}); expected a softmax on the last layer "
                           f"(Dense({classes}, activation='softmax')); add it and save the model again")


def value_range_of(model: Any, given: tuple[float, float] | None, notes: list[str]) -> tuple[float, float]:
    """``given``, or the range the model's layers suggest, with a note saying it was assumed and how to change it."""
    if given is not None:
        low, high = (float(v) for v in given)
        if not low < high:
            raise ModelImportError(f"--value-range {range_text(given)}: expected LOW,HIGH with LOW < HIGH, e.g. 0,1")
        return (low, high)
    first = _first_computing_layer(model)
    if first in SCALING_LAYERS:
        assumed, why = (0.0, 255.0), f"its first layer is {first}, so it scales raw 0-255 pixels itself"
    elif first is None:
        assumed, why = DEFAULT_RANGE, ("a SavedModel does not show its layers; 0-1 is the book's "
                                       "ImageDataGenerator(rescale=1/255)")
    else:
        assumed, why = DEFAULT_RANGE, (f"it has no Rescaling layer (its first layer is {first}), so its scaling "
                                       f"was outside it, like the book's ImageDataGenerator(rescale=1/255)")
    notes.append(f"value range: {range_text(assumed)} (assumed: {why}); if it was trained on other pixels pass "
                 f"--value-range 0,255 / 0,1 / -1,1 - 'edgecnn verify' checks it on real images")
    return assumed


def _first_computing_layer(model: Any) -> str | None:
    """Class name of the first layer that is not an input or a random augmentation (None for a SavedModel)."""
    for layer in _flat_layers(model):
        name = type(layer).__name__
        if name in ("InputLayer",) or name.startswith("Random"):
            continue
        return None if "TFSMLayer" in [c.__name__ for c in type(layer).__mro__] else name
    return None


def _flat_layers(model: Any):
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers") and not type(layer).__name__.startswith("TFSM"):
            yield from _flat_layers(layer)
        else:
            yield layer


def _text(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
