"""The walk-through of a ``.tflite`` without TensorFlow: operators, output shapes and the weights stored per operator.

A ``.tflite`` is not the Keras graph: Dropout is gone, BatchNormalization is folded into the convolution before it,
Rescaling becomes MUL/ADD. So the counts are those of the weights in the file, worked out from the weight tensors'
shapes; Keras' per-layer counts and the ``count_params()`` check need TensorFlow and the ``.keras`` file.
"""

from __future__ import annotations

from edgecnn.inspect.feature_maps import list_operators, open_interpreter
from edgecnn.inspect.model_source import ModelSource
from edgecnn.inspect.summary import LayerRow, ModelSummary, conv_formula, dense_formula, expected_params

NEEDS_TENSORFLOW = ("Keras' own per-layer counts and the count_params() check need TensorFlow: "
                    "pip install 'edgecnn[train]' and summarize the .keras of the same artifact")
FOLDED = ("a .tflite stores the weights the interpreter runs: BatchNormalization is folded into convolutions and "
          "Dropout is dropped, so totals of models with BatchNormalization differ from Keras")


def summarize_tflite(source: ModelSource) -> ModelSummary:
    """Rows per operator from the interpreter's own tensor table; no TensorFlow involved."""
    from edgecnn.runtime.contract import read_sidecar
    from edgecnn.runtime.model_file import read_embedded_contract

    interpreter = open_interpreter(source.path)
    tensors = {details["index"]: details for details in interpreter.get_tensor_details()}
    # DELEGATE nodes are the interpreter's acceleration (XNNPACK) re-listing operators above, not model layers.
    rows = tuple(_row(op, tensors) for op in list_operators(interpreter, source.path) if op["op_name"] != "DELEGATE")
    input_shape = tuple(int(d) for d in interpreter.get_input_details()[0]["shape"][1:])
    contract = read_embedded_contract(source.path) or read_sidecar(source.path)
    notes = [NEEDS_TENSORFLOW, FOLDED]
    expected = expected_params(contract.model_name) if contract is not None else None
    if expected is not None:
        # Not a check: the chapter's figure is a Keras count, which folding can change (see FOLDED).
        notes.append(f"the chapter prints {expected:,} parameters for {contract.model_name} (a Keras count)")
    return ModelSummary(source.name, "tflite", rows, input_shape, None, None, tuple(notes))


def _row(op: dict, tensors: dict) -> LayerRow:
    output = tensors[op["outputs"][0]] if op["outputs"] else None
    name = output["name"].split(";")[0] if output is not None else f"op {op['index']}"
    shape = tuple(int(d) for d in output["shape"][1:]) if output is not None else ()
    inputs = [tensors.get(index) for index in op["inputs"]]
    arithmetic, formula = _weights(op["op_name"], inputs)
    return LayerRow(name, op["op_name"], shape, arithmetic, formula)


def _weights(op_name: str, inputs: list) -> tuple[int, str]:
    """The chapter's arithmetic from the weight tensor's shape; operators without trained weights count 0."""
    bias = len(inputs) > 2 and inputs[2] is not None
    if op_name == "CONV_2D":
        filters, kh, kw, channels_in = (int(d) for d in inputs[1]["shape"])
        return conv_formula(kh, kw, channels_in, filters, bias)
    if op_name == "DEPTHWISE_CONV_2D":
        _, kh, kw, channels_out = (int(d) for d in inputs[1]["shape"])
        total = kh * kw * channels_out + (channels_out if bias else 0)
        return total, f"{kh}x{kw} kernel x {channels_out} channels" + (f" + {channels_out} biases" if bias else "") \
            + f" = {total:,}"
    if op_name == "FULLY_CONNECTED":
        units, features = (int(d) for d in inputs[1]["shape"])
        return dense_formula(features, units, bias)
    return 0, "no trained weights"
