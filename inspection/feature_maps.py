"""Feature maps: what each convolution and pooling layer outputs for one image, from Keras or from a ``.tflite``.

The image is preprocessed exactly as the runtime does (:func:`edgecnn.runtime.images.load_for_model` with the
model's contract), so what you see is what the deployed model sees. A ``.tflite`` is read with the interpreter's
``experimental_preserve_all_tensors=True``, which keeps every intermediate tensor readable after ``invoke``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.errors import MissingDependencyError
from edgecnn.inspect.errors import InspectError
from edgecnn.inspect.model_source import ModelSource, contract_of, keras_model
from edgecnn.runtime.contract import ModelContract
from edgecnn.runtime.images import load_for_model

# Layer types whose outputs are spatial feature maps, by Keras class name and by TFLite builtin operator name.
KERAS_KINDS = {"Conv2D": "conv", "DepthwiseConv2D": "conv", "SeparableConv2D": "conv", "Conv2DTranspose": "conv",
               "MaxPooling2D": "pool", "AveragePooling2D": "pool"}
TFLITE_KINDS = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "conv", "TRANSPOSE_CONV": "conv",
                "MAX_POOL_2D": "pool", "AVERAGE_POOL_2D": "pool"}


@dataclass(frozen=True)
class FeatureMap:
    """The output of one convolution or pooling layer for one image."""

    layer: str
    """Keras layer name, or the TFLite tensor name (up to its first ';')."""
    kind: str
    """``"conv"`` or ``"pool"``."""
    op: str
    """Keras class name (``"Conv2D"``) or TFLite operator (``"CONV_2D"``)."""
    values: np.ndarray
    """``(H, W, C)`` float32 activations (dequantized for an integer model)."""

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.values.shape)


@dataclass(frozen=True)
class FeatureMapReport:
    """Everything the feature-map picture shows."""

    model: str
    """What was inspected (the MODEL argument)."""
    image: str
    """The image file."""
    contract: ModelContract
    """How the image was preprocessed and how the labels read."""
    pixels: np.ndarray
    """``(H, W, C)`` uint8: the model's input, as the runtime prepares it."""
    maps: tuple[FeatureMap, ...]
    """One entry per convolution / pooling layer, in graph order."""
    probabilities: dict[str, float]
    """The final class probabilities, in label order (a sigmoid ``p`` is shown as ``[1-p, p]``)."""


def inspect_image(source: ModelSource, image: str | Path, invert: bool = False) -> FeatureMapReport:
    """Runs ``image`` through the model and collects every convolution and pooling output."""
    contract = contract_of(source)
    pixels = load_for_model(image, contract.input_size, contract.channel_order, contract.resize, invert)
    if source.kind == "tflite":
        maps, probabilities = tflite_feature_maps(source.path, contract, pixels)
    else:
        maps, probabilities = keras_feature_maps(keras_model(source), contract, pixels)
    if not maps:
        raise InspectError(f"{source.name}: the model has no convolution or pooling layer to show "
                           f"(looked for {', '.join(sorted(set(KERAS_KINDS) | set(TFLITE_KINDS)))})")
    named = dict(zip(contract.labels, (float(p) for p in probabilities)))
    return FeatureMapReport(source.name, str(image), contract, pixels, tuple(maps), named)


def keras_feature_maps(model, contract: ModelContract, pixels: np.ndarray) -> tuple[list[FeatureMap], np.ndarray]:
    """Feature maps of every conv/pool layer of a Keras model and its output probabilities, for one image."""
    import keras

    from edgecnn.runtime.preprocess import to_value_range

    layers = [layer for layer in model.layers if type(layer).__name__ in KERAS_KINDS]
    probe = keras.Model(model.inputs, [layer.output for layer in layers] + list(model.outputs))
    outputs = probe([to_value_range(pixels[None], contract.value_range)], training=False)
    outputs = [keras.ops.convert_to_numpy(output)[0] for output in outputs]
    maps = [FeatureMap(layer.name, KERAS_KINDS[type(layer).__name__], type(layer).__name__, values)
            for layer, values in zip(layers, outputs)]
    return maps, _probabilities(outputs[-1], contract)


def tflite_feature_maps(path: Path, contract: ModelContract, pixels: np.ndarray) -> tuple[list[FeatureMap], np.ndarray]:
    """The same from a ``.tflite``: one invoke with every intermediate tensor kept, then read per operator."""
    from edgecnn.runtime.backends import TensorSpec
    from edgecnn.runtime.preprocess import output_to_probabilities, pixels_to_tensor

    interpreter = open_interpreter(path)
    input_details = interpreter.get_input_details()[0]
    output_details = interpreter.get_output_details()[0]
    input_spec, output_spec = _spec(input_details, TensorSpec), _spec(output_details, TensorSpec)
    interpreter.set_tensor(input_details["index"], pixels_to_tensor(pixels[None], contract, input_spec))
    interpreter.invoke()
    tensors = {details["index"]: details for details in interpreter.get_tensor_details()}
    maps = []
    for op in list_operators(interpreter, path):
        kind = TFLITE_KINDS.get(op["op_name"])
        if kind is None or len(op["outputs"]) != 1:
            continue
        details = tensors[op["outputs"][0]]
        values = _dequantize(interpreter.get_tensor(details["index"]), details)
        if values.ndim == 4:
            maps.append(FeatureMap(details["name"].split(";")[0], kind, op["op_name"], values[0]))
    raw = interpreter.get_tensor(output_details["index"])
    return maps, output_to_probabilities(raw, contract, output_spec)[0]


def open_interpreter(path: Path):
    """A TFLite interpreter that keeps every intermediate tensor; the file is checked before the C++ code sees it."""
    from edgecnn.runtime.errors import ModelLoadError
    from edgecnn.runtime.tflite_metadata import probe_tflite

    probe_tflite(path)
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise MissingDependencyError("ai-edge-litert", "runtime", f"inspecting {path}") from None
    try:
        with warnings.catch_warnings():
            # Keeping every tensor is the point here, not the accident the interpreter's warning is about.
            warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
            interpreter = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        raise ModelLoadError(f"{path}: the TFLite interpreter cannot load this model ({err})") from None
    return interpreter


def list_operators(interpreter, path: Path) -> list[dict]:
    # The interpreter lists its operators only through this underscored method (TF's own model analyzer uses it);
    # without it there is no way to tell which tensor a convolution wrote.
    ops_details = getattr(interpreter, "_get_ops_details", None)
    if ops_details is None:
        raise InspectError(f"{path}: this TFLite interpreter does not list its operators; install ai-edge-litert "
                           f"to see feature maps of a .tflite, or inspect the .keras")
    return ops_details()


def _spec(details: dict, tensor_spec_class):
    scale, zero_point = details.get("quantization", (0.0, 0))
    shape = tuple(int(d) for d in details["shape"])
    return tensor_spec_class(details["name"], shape, np.dtype(details["dtype"]), float(scale), int(zero_point))


def _dequantize(values: np.ndarray, details: dict) -> np.ndarray:
    scale, zero_point = details.get("quantization", (0.0, 0))
    if values.dtype.kind in "iu" and scale > 0:
        return (values.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
    return values.astype(np.float32)


def _probabilities(output: np.ndarray, contract: ModelContract) -> np.ndarray:
    """A Keras output row -> one probability per label (a sigmoid ``p`` becomes ``[1-p, p]``, as the runtime shows)."""
    values = np.asarray(output, dtype=np.float32).reshape(-1)
    if contract.output_activation == "sigmoid":
        p = float(np.clip(values[0], 0.0, 1.0))
        return np.array([1.0 - p, p], dtype=np.float32)
    return values
