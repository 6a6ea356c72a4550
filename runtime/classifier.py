"""A model file plus its contract: ``Classifier.open(path).classify(frame_rgb) -> Prediction``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.runtime.backends import Backend, open_backend
from edgecnn.runtime.contract import ModelContract
from edgecnn.runtime.errors import ContractError, InputShapeError
from edgecnn.runtime.model_file import read_contract
from edgecnn.runtime.preprocess import frame_to_pixels, output_to_probabilities, pixels_to_tensor


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one frame."""

    index: int
    """Index of the most probable label."""
    label: str
    """The most probable label."""
    confidence: float
    """Its probability."""
    probabilities: np.ndarray
    """float32 probability of every label, in the contract's label order."""
    latency_ms: float
    """Preprocessing + inference + postprocessing time of this frame."""

    def top(self, k: int, labels: tuple[str, ...]) -> list[tuple[str, float]]:
        """The ``k`` most probable ``(label, probability)`` pairs, best first."""
        order = np.argsort(-self.probabilities)[:k]
        return [(labels[i], float(self.probabilities[i])) for i in order]


class Classifier:
    """Runs one model on RGB frames or ready-made pixel batches, as its contract says."""

    def __init__(self, backend: Backend, contract: ModelContract, invert: bool = False):
        self.backend = backend
        self.contract = contract
        self.invert = invert
        _check_model_matches(backend, contract)

    @classmethod
    def open(cls, path: str | Path, backend: str | None = None, threads: int | None = None,
             contract: ModelContract | None = None, invert: bool = False) -> Classifier:
        """Loads ``path``; the contract comes from the file (or its sidecar) unless one is given."""
        contract = contract if contract is not None else read_contract(path)
        return cls(open_backend(path, backend, threads), contract, invert)

    @property
    def path(self) -> Path:
        return self.backend.path

    @property
    def labels(self) -> tuple[str, ...]:
        return self.contract.labels

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """``(N, F)`` float32 hand features (:func:`edgecnn.runtime.hand_features.hand_features`) -> float32
        probabilities (models whose contract :attr:`~edgecnn.runtime.contract.ModelContract.reads_hand_features`)."""
        expected = self.contract.input_shape
        if not self.contract.reads_hand_features:
            raise InputShapeError(f"{self.path}: this model reads pixels, not hand features")
        if features.ndim == 2 and features.shape[1] == expected[0] * expected[1]:
            features = features.reshape(len(features), *expected)
        if tuple(features.shape[1:]) != expected:
            raise InputShapeError(f"{self.path}: expected features of shape (N, {expected[0] * expected[1]}), "
                                  f"got {tuple(features.shape)}")
        tensor = features.astype(np.float32)
        spec = self.backend.input
        if spec.quantized:
            info = np.iinfo(spec.dtype)
            tensor = np.clip(np.round(tensor / np.float32(spec.scale)) + spec.zero_point, info.min, info.max)
        tensor = tensor.astype(spec.dtype)
        return output_to_probabilities(self.backend.invoke(tensor), self.contract, self.backend.output)

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        """``(N, H, W, C)`` uint8 pixels at the model's size -> float32 probabilities ``(N, len(labels))``; a
        hand-feature model takes its float features instead (what the data loader gives for it)."""
        expected = self.contract.input_shape
        if self.contract.reads_hand_features:
            if pixels.dtype.kind != "f":
                raise InputShapeError(f"{self.path}: this model reads hand features, not pixels "
                                      f"(run it with --hand auto)")
            return self.predict_features(pixels)
        if pixels.ndim != 4 or tuple(pixels.shape[1:]) != expected:
            raise InputShapeError(f"{self.path}: expected a batch of shape (N, {', '.join(map(str, expected))}) "
                                  f"uint8 pixels, got {tuple(pixels.shape)}")
        if pixels.dtype != np.uint8:
            raise InputShapeError(f"{self.path}: expected uint8 pixels (0-255), got {pixels.dtype}")
        tensor = pixels_to_tensor(pixels, self.contract, self.backend.input)
        try:
            return output_to_probabilities(self.backend.invoke(tensor), self.contract, self.backend.output)
        except ContractError as err:
            raise ContractError(f"{self.path}: {err}") from None

    def classify(self, frame_rgb: np.ndarray) -> Prediction:
        """One full-size ``(H, W, 3)`` RGB frame -> :class:`Prediction`."""
        start = time.perf_counter()
        if self.contract.reads_hand_features:
            raise InputShapeError(f"{self.path}: this model reads a hand's features, not a frame; "
                                  f"classify through edgecnn.runtime.gesture.HandGestures (--hand auto)")
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
            raise InputShapeError(f"{self.path}: expected an (H, W, 3) RGB frame, got {tuple(frame_rgb.shape)}")
        pixels = frame_to_pixels(frame_rgb, self.contract, self.invert)
        probabilities = self.predict(pixels[None])[0]
        index = int(np.argmax(probabilities))
        latency_ms = (time.perf_counter() - start) * 1000.0
        return Prediction(index, self.labels[index], float(probabilities[index]), probabilities, latency_ms)


def _check_model_matches(backend: Backend, contract: ModelContract) -> None:
    """The contract (or the flags) must describe the tensor the model really takes and gives."""
    shape = backend.input.shape
    expected = contract.input_shape
    if len(shape) != len(expected) + 1 or any(d is not None and d != e for d, e in zip(shape[1:], expected)):
        raise InputShapeError(f"{backend.path}: the model takes input {_shape_text(shape)} but its contract/flags "
                              f"say (N, {', '.join(map(str, expected))}); fix --input-size/--channels")
    wanted = 1 if contract.output_activation == "sigmoid" else len(contract.labels)
    dims = backend.output.shape[1:]
    if any(d is None for d in dims):
        return  # checked on the first frame by output_to_probabilities
    units = int(np.prod(dims)) if dims else 1
    if units != wanted and len(dims) > 1:
        raise ContractError(f"{backend.path}: the model gives output {_shape_text(backend.output.shape)}, not (N, "
                            f"{wanted}) scores for {len(contract.labels)} labels ({contract.output_activation}); "
                            f"edgecnn runs classifiers with one score per label")
    if units != wanted:
        raise ContractError(f"{backend.path}: the model gives {units} output values but its contract/flags "
                            f"describe {wanted} ({len(contract.labels)} labels, {contract.output_activation}); "
                            f"fix --labels")


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")"
