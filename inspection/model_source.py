"""What ``MODEL`` names on the inspect command line: a registry name, an artifact folder, a ``.keras`` or a ``.tflite``.

Keras models need TensorFlow (imported only here, inside functions); ``.tflite`` files need only an interpreter
(ai-edge-litert or tflite-runtime), so a runtime-only install can inspect them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from edgecnn.errors import MissingDependencyError
from edgecnn.inspect.errors import InspectError
from edgecnn.runtime.contract import ModelContract, read_sidecar, sidecar_path
from edgecnn.runtime.errors import ContractError, ModelLoadError

KINDS = ("registry", "keras", "tflite")


@dataclass(frozen=True)
class ModelSource:
    """A resolved ``MODEL`` argument."""

    kind: str
    """``"registry"`` (an untrained model built from its spec), ``"keras"`` or ``"tflite"``."""
    name: str
    """What the user typed, for messages and captions."""
    path: Path | None = None
    """The model file (None for a registry model)."""

    @property
    def needs_tensorflow(self) -> bool:
        return self.kind in ("registry", "keras")


def resolve_model(model: str | Path) -> ModelSource:
    """Decides what ``model`` is; :class:`InspectError` lists what it may be otherwise."""
    from edgecnn.train.registry import model_names

    text = str(model)
    path = Path(model)
    if path.is_dir():
        from edgecnn.data.artifact import Artifact

        return ModelSource("keras", text, _probed(Artifact.open(path).model_path))
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".keras", ".tflite"):
            return ModelSource(suffix[1:], text, _probed(path) if suffix == ".keras" else path)
        raise InspectError(f"{path}: cannot inspect {suffix or 'this'} files; expected an artifact folder, a .keras "
                           f"or a .tflite file (ONNX exports: inspect the .keras or .tflite of the same artifact)")
    if text in model_names():
        return ModelSource("registry", text)
    raise InspectError(f"{text}: no such file or folder, and not a registered model; expected an artifact folder, "
                       f"a .keras or .tflite file, or one of: {', '.join(model_names())}")


def _probed(path: Path) -> Path:
    """A ``.keras`` checked before TensorFlow starts (a broken one is one line, without its start-up logging)."""
    from edgecnn.runtime.model_file import probe_keras

    probe_keras(path)
    return path


def import_keras(purpose: str):
    """Keras, or :class:`MissingDependencyError` naming the extra to install."""
    try:
        import keras
    except ImportError:
        raise MissingDependencyError("tensorflow", "train", purpose) from None
    return keras


def build_registry_model(name: str):
    """The untrained model ``name``; built with random weights where the spec could download pretrained ones."""
    from edgecnn.train.registry import get_spec

    import_keras(f"building the registry model {name!r}")
    spec = get_spec(name)
    # Shapes and parameter counts do not depend on the weights' values: never download them for a look.
    return spec.build(**spec.untrained_options)


def load_keras_model(path: Path):
    """Loads a ``.keras`` file; a broken file is a one-line :class:`ModelLoadError`."""
    keras = import_keras(f"inspecting the Keras model {path}")
    from edgecnn.convert.saved_model import custom_objects_for

    try:
        return keras.saving.load_model(path, compile=False, custom_objects=custom_objects_for(path))
    except Exception as err:  # noqa: BLE001 - Keras raises many types (ValueError, OSError, zipfile errors...)
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ModelLoadError(f"{path}: not a loadable .keras model ({first_line})") from None


def keras_model(source: ModelSource) -> Any:
    """The Keras model behind a registry or ``.keras`` source."""
    if source.kind == "registry":
        return build_registry_model(source.name)
    if source.kind == "keras":
        return load_keras_model(source.path)
    raise InspectError(f"{source.name}: a .tflite file has no Keras model; this view needs a .keras file")


def contract_of(source: ModelSource) -> ModelContract:
    """How to feed the model: the sidecar of a ``.keras``, the embedded contract of a ``.tflite``, or the spec."""
    if source.kind == "registry":
        return registry_contract(source.name)
    if source.kind == "tflite":
        from edgecnn.runtime.model_file import read_contract

        return read_contract(source.path)
    contract = read_sidecar(source.path)
    if contract is None:
        raise ContractError(f"{source.path}: no contract beside it ({sidecar_path(source.path).name}); inspect the "
                            f"artifact folder 'edgecnn train' wrote, which has one")
    return contract


def registry_contract(name: str) -> ModelContract:
    """The contract an untrained registry model would be trained with: its spec's input and its data set's labels."""
    from edgecnn.data.datasets import get_dataset
    from edgecnn.train.registry import get_spec

    spec = get_spec(name)
    contract = spec.contract(get_dataset(spec.dataset).labels, None)
    return replace(contract, extra={**contract.extra, "untrained": True})
