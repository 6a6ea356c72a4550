"""The parameter walk-through: every layer's output shape and parameter count, worked out as the chapter does.

Each count is derived from the layer's configuration and its input shape, not read back from the framework:
a convolution has ``kernel h x kernel w x input channels x filters`` weights plus one bias per filter
(``3 x 3 x 64 x 64 + 64 = 36,928``), a dense layer ``inputs x units + units``. The total is then checked against
Keras' own ``count_params()`` and the figure the chapter prints (the registry's ``expected_params``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from edgecnn.inspect.model_source import ModelSource, keras_model

SPATIAL_KINDS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D",
                 "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D")


@dataclass(frozen=True)
class LayerRow:
    """One line of the walk-through."""

    name: str
    """Keras layer name, or the TFLite output tensor name (up to its first ';')."""
    type: str
    """Keras class name (``"Conv2D"``) or TFLite operator (``"CONV_2D"``)."""
    output_shape: tuple[int | None, ...]
    """Output shape without the batch dimension."""
    arithmetic: int | None
    """Parameters worked out from the configuration and input shape; None when this walk-through cannot."""
    formula: str
    """How ``arithmetic`` was worked out, e.g. ``"3x3 kernel x 1 in x 64 filters + 64 biases = 640"``."""
    framework_count: int | None = None
    """Keras' own ``layer.count_params()``; None for a .tflite (no TensorFlow)."""


@dataclass(frozen=True)
class ModelSummary:
    """The whole walk-through and its checks."""

    model: str
    """What was summarized (the MODEL argument)."""
    kind: str
    """``"registry"``, ``"keras"`` or ``"tflite"``."""
    rows: tuple[LayerRow, ...]
    """One per layer (Keras) or operator (TFLite), in graph order."""
    input_shape: tuple[int, ...]
    """The model's input ``(H, W, C)``."""
    framework_total: int | None
    """Keras ``model.count_params()``; None for a .tflite."""
    expected_total: int | None
    """What the chapter prints for this architecture (registry ``expected_params``); None for an unknown model."""
    notes: tuple[str, ...] = ()
    """What this view could not show and why (e.g. which views need TensorFlow)."""

    @property
    def arithmetic_total(self) -> int | None:
        """Sum of the worked-out counts; None when some layer's count could not be worked out."""
        counts = [row.arithmetic for row in self.rows]
        return None if any(count is None for count in counts) else sum(counts)

    @property
    def spatial_sizes(self) -> tuple[str, ...]:
        """The image size through the convolution and pooling layers, e.g. ``("28", "26", "13", "11", "5")``."""
        shapes = [self.input_shape] + [row.output_shape for row in self.rows if row.type in SPATIAL_KINDS]
        square = all(shape[0] == shape[1] for shape in shapes)
        sizes = [str(shape[0]) if square else f"{shape[0]}x{shape[1]}" for shape in shapes]
        # Only the changes: 'same' convolutions and parallel branches (InceptionV3) repeat a size.
        return tuple(size for index, size in enumerate(sizes) if index == 0 or size != sizes[index - 1])

    @property
    def checks(self) -> dict[str, bool]:
        """Each available total compared with the arithmetic: ``{"keras": True, "chapter": True}``."""
        total = self.arithmetic_total
        found = {"keras": self.framework_total, "chapter": self.expected_total}
        return {name: total == value for name, value in found.items() if value is not None}

    @property
    def consistent(self) -> bool:
        return self.arithmetic_total is not None and all(self.checks.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(arithmetic_total=self.arithmetic_total, spatial_sizes=list(self.spatial_sizes),
                    checks=self.checks, consistent=self.consistent)
        return data


def summarize(source: ModelSource) -> ModelSummary:
    """The walk-through of a registry model, a ``.keras`` / artifact, or (without TensorFlow) a ``.tflite``."""
    if source.kind == "tflite":
        from edgecnn.inspect.summary_tflite import summarize_tflite

        return summarize_tflite(source)
    model = keras_model(source)
    rows = tuple(keras_row(layer) for layer in model.layers)
    return ModelSummary(source.name, source.kind, rows, _shape(model.inputs[0].shape), int(model.count_params()),
                        expected_params(_architecture_name(source, model)))


def _architecture_name(source: ModelSource, model) -> str:
    """The registry name: the MODEL argument, the contract beside a .keras, else the name saved in the model."""
    if source.kind == "registry":
        return source.name
    from edgecnn.runtime.contract import read_sidecar

    contract = read_sidecar(source.path)
    return contract.model_name if contract is not None else model.name


def expected_params(model_name: str) -> int | None:
    """The chapter's figure for a registered architecture, else None."""
    from edgecnn.train.registry import get_spec, model_names

    return get_spec(model_name).expected_params if model_name in model_names() else None


def keras_row(layer) -> LayerRow:
    """One Keras layer: its output shape, the worked-out count and Keras' own count."""
    kind = type(layer).__name__
    explain = _KERAS_ARITHMETIC.get(kind)
    if explain is not None:
        arithmetic, formula = explain(layer.get_config(), _input_channels(layer))
    elif not layer.weights:
        arithmetic, formula = 0, "no weights"
    else:
        arithmetic, formula = None, f"not worked out: {kind} has weights this walk-through does not explain"
    output = layer.output.shape if not isinstance(layer.output, (list, tuple)) else layer.output[0].shape
    return LayerRow(layer.name, kind, _shape(output), arithmetic, formula, int(layer.count_params()))


def conv_formula(kh: int, kw: int, channels_in: int, filters: int, bias: bool) -> tuple[int, str]:
    weights = kh * kw * channels_in * filters
    total = weights + (filters if bias else 0)
    text = f"{kh}x{kw} kernel x {channels_in} in x {filters} filters"
    return total, text + (f" + {_biases(filters)}" if bias else " (no bias)") + f" = {total:,}"


def _biases(count: int) -> str:
    return f"{count} bias" if count == 1 else f"{count} biases"


def dense_formula(inputs: int, units: int, bias: bool) -> tuple[int, str]:
    total = inputs * units + (units if bias else 0)
    return total, f"{inputs:,} in x {units} out" + (f" + {_biases(units)}" if bias else " (no bias)") + f" = {total:,}"


def _conv(config: dict, channels_in: int) -> tuple[int, str]:
    kh, kw = config["kernel_size"]
    groups = int(config.get("groups", 1))
    return conv_formula(kh, kw, channels_in // groups, config["filters"], config["use_bias"])


def _depthwise(config: dict, channels_in: int) -> tuple[int, str]:
    kh, kw = config["kernel_size"]
    multiplier = config["depth_multiplier"]
    out = channels_in * multiplier
    total = kh * kw * out + (out if config["use_bias"] else 0)
    bias = f" + {out} biases" if config["use_bias"] else ""
    return total, f"{kh}x{kw} kernel x {channels_in} in x {multiplier} per channel{bias} = {total:,}"


def _separable(config: dict, channels_in: int) -> tuple[int, str]:
    kh, kw = config["kernel_size"]
    depth = channels_in * config["depth_multiplier"]
    filters = config["filters"]
    total = kh * kw * depth + depth * filters + (filters if config["use_bias"] else 0)
    bias = f" + {filters} biases" if config["use_bias"] else ""
    return total, f"{kh}x{kw} x {depth} depthwise + {depth} x {filters} pointwise{bias} = {total:,}"


def _dense(config: dict, inputs: int) -> tuple[int, str]:
    return dense_formula(inputs, config["units"], config["use_bias"])


def _batch_norm(config: dict, channels: int) -> tuple[int, str]:
    # Keras counts the moving mean and variance too (non-trainable, but stored and in count_params()).
    vectors = ["gamma"] * bool(config["scale"]) + ["beta"] * bool(config["center"]) + ["moving mean", "variance"]
    total = channels * len(vectors)
    return total, f"{channels} channels x {len(vectors)} ({', '.join(vectors)}) = {total:,}"


_KERAS_ARITHMETIC = {
    "Conv2D": _conv,
    "DepthwiseConv2D": _depthwise,
    "SeparableConv2D": _separable,
    "Dense": _dense,
    "BatchNormalization": _batch_norm,
}


def _input_channels(layer) -> int:
    """The last dimension of the layer's input: input channels of a convolution, inputs of a dense layer."""
    inputs = layer.input if not isinstance(layer.input, (list, tuple)) else layer.input[0]
    return int(inputs.shape[-1])


def _shape(shape) -> tuple[int | None, ...]:
    return tuple(None if d is None else int(d) for d in tuple(shape)[1:])


def format_summary(summary: ModelSummary) -> str:
    """The walk-through as a text table with the totals and their checks."""
    header = ("layer (type)", "output shape", "params", "worked out")
    lines = [(f"{row.name} ({row.type})", str(row.output_shape),
              "-" if row.framework_count is None else f"{row.framework_count:,}", row.formula) for row in summary.rows]
    widths = [max(len(line[i]) for line in [header] + lines) for i in range(3)]
    table = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}" for a, b, c, d in [header] + lines]
    table.insert(1, "-" * (sum(widths) + 6 + len(header[3])))
    total = summary.arithmetic_total
    out = [f"{summary.model} ({summary.kind})", *table, "",
           f"image size through conv/pool layers: {' -> '.join(summary.spatial_sizes)}",
           "total worked out: " + ("not available (see the rows marked 'not worked out')" if total is None
                                   else f"{total:,}")]
    names = {"keras": "Keras count_params()", "chapter": "the chapter's figure"}
    values = {"keras": summary.framework_total, "chapter": summary.expected_total}
    for name, ok in summary.checks.items():
        out.append(f"{names[name]}: {values[name]:,} -> {'matches' if ok else 'MISMATCH'}")
    out.extend(f"note: {note}" for note in summary.notes)
    return "\n".join(out)
