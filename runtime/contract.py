"""The model contract: what a file needs to say so the runtime never guesses preprocessing or labels.

Most "the converted model is wrong" reports are preprocessing mismatches (BGR vs RGB, 0-255 vs 0-1, resize method)
or label-order mistakes. Every artifact edgecnn writes carries one :class:`ModelContract`:

* inside the file where the format allows it: TFLite flatbuffer ``metadata`` entry named :data:`METADATA_KEY`,
  ONNX ``metadata_props`` key :data:`METADATA_KEY`; the value is the UTF-8 JSON of :meth:`ModelContract.to_dict`;
* and in a sidecar file beside it, ``<file name>.contract.json`` (:func:`sidecar_path`), the same JSON.

This module is pure Python (json, dataclasses): it is imported by every stage, a Pi included.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from edgecnn.runtime.errors import ContractError

MAX_CONTRACT_BYTES = 1 << 20
"""Largest contract JSON read (1 MiB; a real one is under 2 kB)."""
MAX_INPUT_SIDE = 8192
"""Largest input height or width a contract may declare."""
SCHEMA_VERSION = 1
METADATA_KEY = "edgecnn_contract"
SIDECAR_SUFFIX = ".contract.json"

CHANNEL_ORDERS = ("RGB", "GRAY")
RESIZE_METHODS = ("bilinear", "nearest", "area")
ACTIVATIONS = ("softmax", "sigmoid")
INPUT_KINDS = ("image", "hand_landmarks", "hand_embedding")
HAND_FEATURE_SHAPES = {"hand_landmarks": (21, 3), "hand_embedding": (1, 672 + 63)}
"""Input kinds read from the hand finder rather than pixels, and the ``input_size`` each declares
(:func:`edgecnn.runtime.hand_features.hand_features`: the 21 points' 63 features; the landmark model's 672-value
embedding then those 63)."""
HAND_DETECTORS = ("mediapipe_hands_lite",)


@dataclass(frozen=True)
class TensorQuantization:
    """Affine quantization of an integer input or output tensor: ``real = scale * (q - zero_point)``."""

    dtype: str
    """Integer dtype of the tensor, ``"uint8"`` or ``"int8"``."""
    scale: float
    """Real value of one integer step."""
    zero_point: int
    """Integer that represents real 0."""


@dataclass(frozen=True)
class HandCrop:
    """Where the model's picture comes from when a frame may show a hand anywhere (``edgecnn run --hand auto``).

    Training, calibration, verify and the runtime all crop through :mod:`edgecnn.runtime.hands` with these values,
    so the model sees the same kind of crop everywhere. A contract without one means the whole frame (``off``).
    """

    detector: str = "mediapipe_hands_lite"
    """Which hand finder: MediaPipe's palm detector + hand landmark model, lite versions (shipped)."""
    margin: float = 0.25
    """Each side of the landmarks' box grows by this fraction of its larger side."""
    square: bool = True
    """Make the box square (on its larger side) before the margin, as the training crops were."""
    min_presence: float = 0.5
    """The landmark model's hand-presence score a region needs to count as a hand; below it: "no hand"."""
    no_hand_label: str | None = None
    """A label of the model that means "not a hand" (learned from hand-free photos, where the landmark model still
    sees hands in paws and textures); predicting it is "no hand", never a class."""
    no_gesture_label: str | None = None
    """A label of the model that means "a hand, but none of the gestures" (learned from hands showing other signs
    or none); predicting it is "no gesture", never a class. None (a contract written before it existed): every
    hand gets one of the other labels, as before."""


@dataclass(frozen=True)
class ModelContract:
    """Everything needed to feed a model and read its output, independent of the file format."""

    model_name: str
    """Registry key of the architecture, e.g. ``"rps_cnn"``."""
    labels: tuple[str, ...]
    """Class names in class-index order (alphabetical by training folder name)."""
    input_size: tuple[int, int]
    """``(height, width)`` in pixels the model takes."""
    channel_order: str = "RGB"
    """``"RGB"`` (3 channels, never BGR) or ``"GRAY"`` (1 channel)."""
    value_range: tuple[float, float] = (0.0, 255.0)
    """Range of the pixel values the model takes; 0-255 because the 1/255 scaling is inside the graph."""
    resize: str = "bilinear"
    """How frames are resized to ``input_size``: ``"bilinear"``, ``"nearest"`` or ``"area"``."""
    output_activation: str = "softmax"
    """``"softmax"``: one probability per label. ``"sigmoid"``: one unit, the probability of ``labels[1]``."""
    format: str = "keras"
    """Which export this contract describes, e.g. ``"keras"``, ``"tflite_int8"``, ``"onnx"``."""
    input_quantization: TensorQuantization | None = None
    """Quantization of an integer input tensor; None when the input is float32."""
    output_quantization: TensorQuantization | None = None
    """Quantization of an integer output tensor; None when the output is float32."""
    source_sha256: str | None = None
    """SHA-256 of the ``.keras`` file this export was made from (None for the ``.keras`` itself)."""
    dataset: str | None = None
    """Name or path of the data the model was trained on."""
    input_kind: str = "image"
    """``"image"``: pixels of ``input_size``. ``"hand_landmarks"``: the 63 features
    :func:`edgecnn.runtime.hand_features.landmark_features` makes of the hand landmark model's 21 points (``input_size``
    is then ``(21, 3)``). ``"hand_embedding"``: the hand landmark model's own 672-value embedding of the hand, then
    those 63 (``input_size`` ``(1, 735)``). See :data:`HAND_FEATURE_SHAPES`."""
    hand_crop: HandCrop | None = None
    """How to find and crop the hand before the model (None: the whole frame); required for the hand-feature kinds."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form details (e.g. the export options); never needed to run the model."""
    schema_version: int = SCHEMA_VERSION
    """Version of this description; readers refuse newer versions."""

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ContractError(f"invalid model contract for {self.model_name!r}: " + "; ".join(problems))

    @property
    def channels(self) -> int:
        return 1 if self.channel_order == "GRAY" else 3

    @property
    def reads_hand_features(self) -> bool:
        """True for a model fed by the hand finder's features (:data:`HAND_FEATURE_SHAPES`), not by pixels."""
        return self.input_kind in HAND_FEATURE_SHAPES

    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(height, width, channels)`` of one input image; the features' shape for a hand-feature model."""
        if self.reads_hand_features:
            return (self.input_size[0], self.input_size[1])
        return (self.input_size[0], self.input_size[1], self.channels)

    def with_format(self, format: str, **changes: Any) -> ModelContract:
        """A copy describing an export of the same model (new format, quantization, source hash...)."""
        return replace(self, format=format, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "contract") -> ModelContract:
        if not isinstance(data, dict):
            raise ContractError(f"{origin}: expected a JSON object, got {type(data).__name__}")
        version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ContractError(f"{origin}: contract schema_version {version!r} is newer than this edgecnn "
                                f"understands ({SCHEMA_VERSION}); upgrade edgecnn")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ContractError(f"{origin}: unknown contract fields {unknown}")
        problems = _json_type_problems(data)
        if problems:
            raise ContractError(f"{origin}: malformed contract: " + "; ".join(problems))
        values = dict(data)
        try:
            values["labels"] = tuple(values["labels"])
            values["input_size"] = tuple(values["input_size"])
            if "value_range" in values:
                values["value_range"] = tuple(float(v) for v in values["value_range"])
            for key in ("input_quantization", "output_quantization"):
                if values.get(key) is not None:
                    values[key] = TensorQuantization(**values[key])
            if values.get("hand_crop") is not None:
                values["hand_crop"] = HandCrop(**values["hand_crop"])
            return cls(**values)
        except ContractError as err:
            raise ContractError(f"{origin}: {err}") from None
        except (KeyError, TypeError, ValueError) as err:
            raise ContractError(f"{origin}: malformed contract ({err})") from None

    @classmethod
    def from_json(cls, text: str | bytes, origin: str = "contract") -> ModelContract:
        if len(text) > MAX_CONTRACT_BYTES:
            raise ContractError(f"{origin}: {len(text)} bytes is more than a contract can be "
                                f"({MAX_CONTRACT_BYTES} bytes at most)")
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ContractError(f"{origin}: contract is not valid JSON ({err})") from None
        except RecursionError:
            raise ContractError(f"{origin}: contract JSON is nested too deeply to be a contract") from None
        return cls.from_dict(data, origin)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type_problems(data: dict[str, Any]) -> list[str]:
    """Every field of the wrong JSON type: ``labels: "abc"`` must not become a, b, c, nor Infinity a value range."""
    problems = []
    for key in ("model_name", "labels", "input_size"):
        if key not in data:
            problems.append(f"{key} is missing")
    labels = data.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        problems.append(f"labels must be a list of strings, got {_short(labels)}")
    size = data.get("input_size", [1, 1])
    if not (isinstance(size, list) and len(size) == 2 and all(_is_count(v) and 0 < v <= MAX_INPUT_SIDE
                                                               for v in size)):
        problems.append(f"input_size must be [height, width], whole numbers 1 to {MAX_INPUT_SIDE}, got {_short(size)}")
    if "value_range" in data:
        value_range = data["value_range"]
        if not (isinstance(value_range, list) and len(value_range) == 2 and all(map(_is_number, value_range))):
            problems.append(f"value_range must be [low, high], finite numbers, got {_short(value_range)}")
    for key in ("model_name", "channel_order", "resize", "output_activation", "format"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key} must be a string, got {_short(data[key])}")
    for key in ("source_sha256", "dataset"):
        if data.get(key) is not None and not isinstance(data[key], str):
            problems.append(f"{key} must be a string or null, got {_short(data[key])}")
    if "extra" in data and not isinstance(data["extra"], dict):
        problems.append(f"extra must be an object, got {_short(data['extra'])}")
    for key in ("input_quantization", "output_quantization"):
        if data.get(key) is not None:
            problems += _quantization_problems(key, data[key])
    return problems


def _quantization_problems(key: str, value: Any) -> list[str]:
    ranges = {"uint8": (0, 255), "int8": (-128, 127)}
    if not isinstance(value, dict) or set(value) != {"dtype", "scale", "zero_point"}:
        return [f"{key} must be an object with dtype, scale and zero_point, got {_short(value)}"]
    if value["dtype"] not in ranges:
        return [f"{key}.dtype must be one of {', '.join(ranges)}, got {_short(value['dtype'])}"]
    low, high = ranges[value["dtype"]]
    problems = []
    if not (_is_number(value["scale"]) and value["scale"] > 0):
        problems.append(f"{key}.scale must be a finite number > 0, got {_short(value['scale'])}")
    if not (_is_count(value["zero_point"]) and low <= value["zero_point"] <= high):
        problems.append(f"{key}.zero_point must be a whole number {low} to {high}, got {_short(value['zero_point'])}")
    return problems


def _short(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict, str, int, float, bool, type(None))) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problems(contract: ModelContract) -> list[str]:
    problems = []
    if not contract.labels or not all(isinstance(label, str) and label for label in contract.labels):
        problems.append(f"labels must be non-empty strings, got {contract.labels!r}")
    elif len(set(contract.labels)) != len(contract.labels):
        problems.append(f"labels must be unique, got {contract.labels!r}")
    if len(contract.input_size) != 2 or not all(isinstance(v, int) and v > 0 for v in contract.input_size):
        problems.append(f"input_size must be (height, width) > 0, got {contract.input_size!r}")
    if contract.channel_order not in CHANNEL_ORDERS:
        problems.append(f"channel_order must be one of {CHANNEL_ORDERS}, got {contract.channel_order!r}")
    if contract.resize not in RESIZE_METHODS:
        problems.append(f"resize must be one of {RESIZE_METHODS}, got {contract.resize!r}")
    if contract.output_activation not in ACTIVATIONS:
        problems.append(f"output_activation must be one of {ACTIVATIONS}, got {contract.output_activation!r}")
    if contract.output_activation == "sigmoid" and len(contract.labels) != 2:
        problems.append(f"a sigmoid output needs exactly 2 labels, got {len(contract.labels)}")
    if contract.input_kind not in INPUT_KINDS:
        problems.append(f"input_kind must be one of {INPUT_KINDS}, got {contract.input_kind!r}")
    elif contract.reads_hand_features and (contract.hand_crop is None
                                           or tuple(contract.input_size) != HAND_FEATURE_SHAPES[contract.input_kind]):
        problems.append(f"a {contract.input_kind} model needs a hand_crop and input_size "
                        f"{HAND_FEATURE_SHAPES[contract.input_kind]}")
    crop = contract.hand_crop
    if crop is not None:
        if crop.detector not in HAND_DETECTORS:
            problems.append(f"hand_crop.detector must be one of {HAND_DETECTORS}, got {crop.detector!r}")
        if not (isinstance(crop.margin, (int, float)) and 0.0 <= crop.margin <= 2.0):
            problems.append(f"hand_crop.margin must be a number in [0, 2], got {crop.margin!r}")
        if not (isinstance(crop.min_presence, (int, float)) and 0.0 <= crop.min_presence <= 1.0):
            problems.append(f"hand_crop.min_presence must be a number in [0, 1], got {crop.min_presence!r}")
        if crop.no_hand_label is not None and crop.no_hand_label not in contract.labels:
            problems.append(f"hand_crop.no_hand_label {crop.no_hand_label!r} is not one of the labels")
        if crop.no_gesture_label is not None and crop.no_gesture_label not in contract.labels:
            problems.append(f"hand_crop.no_gesture_label {crop.no_gesture_label!r} is not one of the labels")
        elif crop.no_gesture_label is not None and crop.no_gesture_label == crop.no_hand_label:
            problems.append(f"hand_crop.no_gesture_label and no_hand_label must differ, both are "
                            f"{crop.no_gesture_label!r}")
        if not isinstance(crop.square, bool):
            problems.append(f"hand_crop.square must be true or false, got {crop.square!r}")
    low, high = contract.value_range
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        problems.append(f"value_range must be (low, high) with low < high, got {contract.value_range!r}")
    return problems


def sidecar_path(model_path: str | Path) -> Path:
    """``model_int8.tflite`` -> ``model_int8.tflite.contract.json``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + SIDECAR_SUFFIX)


def read_sidecar(model_path: str | Path) -> ModelContract | None:
    """The contract in the sidecar beside ``model_path``, or None when there is no sidecar."""
    path = sidecar_path(model_path)
    if not path.is_file():
        return None
    try:
        if path.stat().st_size > MAX_CONTRACT_BYTES:
            raise ContractError(f"{path}: {path.stat().st_size} bytes is more than a contract can be "
                                f"({MAX_CONTRACT_BYTES} bytes at most)")
        data = path.read_bytes()
    except OSError as err:
        raise ContractError(f"{path}: cannot read the contract ({err.strerror or err})") from None
    return ModelContract.from_json(data, origin=str(path))


def write_sidecar(model_path: str | Path, contract: ModelContract) -> Path:
    """Writes the sidecar atomically and returns its path."""
    from edgecnn.runtime.atomic import write_text_atomic

    path = sidecar_path(model_path)
    write_text_atomic(path, contract.to_json() + "\n")
    return path
