"""From camera pixels to the model's input tensor, and from its output tensor to probabilities.

Everything here follows the model contract (size, channels, resize method, value range) and the interpreter's own
tensor types (float32, or uint8/int8 with a scale and zero point); nothing is guessed.
"""

from __future__ import annotations

import numpy as np

from edgecnn.runtime.backends import TensorSpec
from edgecnn.runtime.contract import ModelContract
from edgecnn.runtime.errors import ContractError
from edgecnn.runtime.images import resize, to_channels


def frame_to_pixels(frame_rgb: np.ndarray, contract: ModelContract, invert: bool = False) -> np.ndarray:
    """A full-size RGB frame -> the ``(H, W, C)`` uint8 pixels the model takes (same path as training)."""
    return resize(to_channels(frame_rgb, contract.channel_order, invert), contract.input_size, contract.resize)


def passes_pixels_through(contract: ModelContract, spec: TensorSpec) -> bool:
    """True when uint8 0-255 pixels are already the tensor's values (uint8 input, scale 1, zero point 0)."""
    return (spec.dtype == np.uint8 and tuple(contract.value_range) == (0.0, 255.0)
            and abs(spec.scale - 1.0) < 1e-6 and spec.zero_point == 0)


def to_value_range(pixels: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """uint8 0-255 pixels -> float32 in ``value_range`` (0 -> low, 255 -> high): what the model was trained on.

    Every place that feeds a model float pixels uses this (the runtime, int8 calibration, verify's Keras reference,
    inspect), so a model trained on 0-1 or -1-1 inputs gets them in every format.
    """
    low, high = (float(v) for v in value_range)
    real = pixels.astype(np.float32)
    if (low, high) != (0.0, 255.0):
        real = real * np.float32((high - low) / 255.0) + np.float32(low)
    return real


def pixels_to_tensor(pixels: np.ndarray, contract: ModelContract, spec: TensorSpec) -> np.ndarray:
    """``(N, H, W, C)`` uint8 pixels -> the input tensor: scaled to the contract's value range, then quantized."""
    if passes_pixels_through(contract, spec):
        return np.ascontiguousarray(pixels)
    real = to_value_range(pixels, contract.value_range)
    if not spec.quantized:
        return real.astype(spec.dtype, copy=False)
    info = np.iinfo(spec.dtype)
    quantized = np.round(real / np.float32(spec.scale)) + spec.zero_point
    return np.clip(quantized, info.min, info.max).astype(spec.dtype)


def output_to_probabilities(raw: np.ndarray, contract: ModelContract, spec: TensorSpec,
                            check: bool = True) -> np.ndarray:
    """The output tensor ``(N, K)`` -> float32 probabilities ``(N, len(labels))``; a sigmoid ``p`` -> ``[1-p, p]``.

    :class:`ContractError` when the output is not ``(N, K)`` scores, or (``check``) not probabilities at all; a
    parity check that reports drift itself passes ``check=False``.
    """
    values = raw.astype(np.float32).reshape(len(raw), -1)
    sigmoid = contract.output_activation == "sigmoid"
    wanted = 1 if sigmoid else len(contract.labels)
    if values.shape[1] != wanted:
        raise ContractError(f"{contract.model_name}: the model gives {_shape(raw)} output values per image, not "
                            f"(N, {wanted}) scores for {len(contract.labels)} labels ({contract.output_activation}); "
                            f"edgecnn runs classifiers with one score per label")
    if spec.quantized:
        values = (values - np.float32(spec.zero_point)) * np.float32(spec.scale)
    if check:
        _check_probabilities(values, contract)
    if sigmoid:
        p = np.clip(values, 0.0, 1.0)  # only rounding (<= PROBABILITY_SLACK) is clipped; see the check above
        values = np.concatenate([1.0 - p, p], axis=1)
    return values


PROBABILITY_SLACK = 0.02
"""How far outside [0, 1] (and a softmax row's sum from 1) an output may be: the rounding of an 8-bit output."""


def _check_probabilities(values: np.ndarray, contract: ModelContract) -> None:
    """A model described by flags may end in logits or anything else: its raw scores are never shown as
    probabilities."""
    finite = bool(np.isfinite(values).all())
    low, high = (float(values.min()), float(values.max())) if finite and values.size else (0.0, 0.0)
    sums = values.sum(axis=1) if contract.output_activation == "softmax" else np.ones(1)
    if finite and low >= -PROBABILITY_SLACK and high <= 1 + PROBABILITY_SLACK and \
            bool((np.abs(sums - 1.0) <= max(PROBABILITY_SLACK, 0.01 * values.shape[1])).all()):
        return
    seen = "not finite" if not finite else f"from {low:.3g} to {high:.3g}, rows summing to {float(sums.max()):.3g}"
    raise ContractError(f"{contract.model_name}: the model's outputs are not probabilities ({seen}); expected a "
                        f"{contract.output_activation} output (a model that ends in logits needs its softmax layer)")


def _shape(raw: np.ndarray) -> str:
    return "x".join(map(str, raw.shape[1:])) or "1"
