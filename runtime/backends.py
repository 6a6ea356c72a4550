"""Interpreter backends: one registry entry per library that can run a model file.

``litert`` (ai-edge-litert) and ``tflite_runtime`` run ``.tflite``; ``onnxruntime`` runs ``.onnx``. Each backend
exposes the same small surface (:class:`Backend`): the input and output tensor specs and ``invoke(batch)``.
Files are probed before the C++ libraries see them, so a broken file is a one-line :class:`ModelLoadError`,
never a segfault.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from edgecnn.runtime.errors import ModelLoadError, OptionError
from edgecnn.runtime.native import is_litert_info, native_stderr_filtered
from edgecnn.runtime.tflite_metadata import probe_tflite

log = logging.getLogger("edgecnn.runtime")

# Said when the fallback is taken. The NumPy part is measured here (tflite-runtime 2.14 raises at interpreter
# creation under NumPy 2: tests/runtime/test_runtime_envs.py); the speed part is as reported in issue 4.
TFLITE_RUNTIME_COST = ("tflite-runtime 2.14 is the unmaintained predecessor of ai-edge-litert: it needs numpy<2, "
                       "lacks newer op versions, and is reported ~5x slower on the same model; "
                       "pip install ai-edge-litert for the fast path")


@dataclass(frozen=True)
class TensorSpec:
    """One input or output tensor as the interpreter declares it."""

    name: str
    """Tensor name inside the model."""
    shape: tuple[int | None, ...]
    """Shape with None for dimensions the model leaves open (usually the batch)."""
    dtype: np.dtype
    """Element type: float32, uint8 or int8."""
    scale: float = 0.0
    """Quantization step of an integer tensor (0 when the tensor is float)."""
    zero_point: int = 0
    """Integer that represents real 0 (integer tensors only)."""

    @property
    def quantized(self) -> bool:
        return self.dtype.kind in "iu" and self.scale > 0


@dataclass(frozen=True)
class BackendInfo:
    """What is printed at start: which library runs the model, which version, how many threads."""

    name: str
    """Registry key, e.g. ``"litert"``."""
    version: str
    """Version of the interpreter library."""
    threads: int
    """Number of CPU threads the interpreter may use."""


class Backend:
    """A loaded model: ``input``/``output`` specs and ``invoke(batch) -> output batch``."""

    info: BackendInfo
    input: TensorSpec
    output: TensorSpec
    path: Path

    def invoke(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class BackendEntry:
    """A registered backend."""

    name: str
    """Registry key used by ``--backend``."""
    suffixes: tuple[str, ...]
    """Model file suffixes this backend runs."""
    package: str
    """pip package that provides it (named in errors)."""
    module: str
    """Import name of the library, checked by :func:`installed_backends`."""
    open: Callable[[Path, int], Backend]
    """``open(path, threads) -> Backend``; raises ModuleNotFoundError when the library is missing."""


_REGISTRY: dict[str, BackendEntry] = {}


def register_backend(entry: BackendEntry) -> BackendEntry:
    _REGISTRY[entry.name] = entry
    return entry


def backend_names() -> list[str]:
    """Registered backend names, in auto-selection order."""
    return list(_REGISTRY)


def backend_entry(name: str) -> BackendEntry:
    """The registered backend ``name`` (its suffixes, pip package, module); :class:`ModelLoadError` lists the names."""
    if name not in _REGISTRY:
        raise ModelLoadError(f"unknown backend {name!r}; choose one of: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def backend_entries() -> list[BackendEntry]:
    """Every registered backend, in auto-selection order."""
    return list(_REGISTRY.values())


MAX_THREADS = 4 * (os.cpu_count() or 1)
"""Most interpreter threads edgecnn asks for: four per core (beyond that only contention; XNNPACK crashed at
100000)."""


def default_threads() -> int:
    """One thread per core, at most 4 (a Pi 4/5 has 4; more rarely helps these small models)."""
    return max(1, min(4, os.cpu_count() or 1))


def open_backend(path: str | Path, name: str | None = None, threads: int | None = None) -> Backend:
    """Loads ``path`` with backend ``name``, or with the first installed backend for its suffix."""
    path = Path(path)
    threads = default_threads() if threads is None else threads
    if not 1 <= threads <= MAX_THREADS:
        raise OptionError(f"--threads {threads}: expected 1 to {MAX_THREADS} (four per core of this machine)")
    candidates = _candidates(path, name)
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such model file (expected a .tflite or .onnx file)")
    missing = []
    for entry in candidates:
        try:
            backend = entry.open(path, threads)
        except ModuleNotFoundError:
            missing.append(entry.package)
            continue
        except ImportError as err:  # installed but unusable, e.g. a NumPy 1 wheel under NumPy 2
            missing.append(f"{entry.package} (fails to import: {_first_line(err)})")
            continue
        if entry.name == "tflite_runtime" and name is None:
            log.warning("%s: ai-edge-litert is not installed, falling back to tflite-runtime (%s)",
                        path, TFLITE_RUNTIME_COST)
        return backend
    raise ModelLoadError(f"{path}: no interpreter installed for {path.suffix} files (tried {', '.join(missing)}): "
                         f"pip install 'edgecnn[runtime]'")


def _candidates(path: Path, name: str | None) -> list[BackendEntry]:
    suffix = path.suffix.lower()
    if name is not None:
        if name not in _REGISTRY:
            raise ModelLoadError(f"unknown backend {name!r}; choose one of: {', '.join(_REGISTRY)}")
        entry = _REGISTRY[name]
        if suffix not in entry.suffixes:
            raise ModelLoadError(f"{path}: backend {name!r} runs {'/'.join(entry.suffixes)} files, not {suffix!r}")
        return [entry]
    candidates = [entry for entry in _REGISTRY.values() if suffix in entry.suffixes]
    if not candidates:
        known = sorted({s for entry in _REGISTRY.values() for s in entry.suffixes})
        raise ModelLoadError(f"{path}: unknown model file type {suffix!r}; expected one of {', '.join(known)}"
                             f"{_exports_beside(path, known)}")
    return candidates


def _exports_beside(path: Path, suffixes: list[str]) -> str:
    """A hint for a Keras model given to the runtime: the exports in its folder, or how to make them."""
    folder = path.parent
    exports = sorted(p.name for p in folder.glob("model_*") if p.suffix in suffixes) if folder.is_dir() else []
    if exports:
        return f"; exports beside it: {', '.join(str(path.parent / name) for name in exports[:4])}"
    if path.suffix.lower() in (".keras", ".h5"):
        return f"; 'edgecnn convert {path.parent}' exports it to .tflite and .onnx"
    return ""


# --- TFLite (ai-edge-litert and tflite-runtime share the Interpreter API) -------------------------------------------


class TFLiteBackend(Backend):
    """A ``.tflite`` model in a TFLite/LiteRT ``Interpreter``; batches run one image per invoke."""

    def __init__(self, path: Path, interpreter, info: BackendInfo):
        self.path = path
        self.info = info
        self._interpreter = interpreter
        interpreter.allocate_tensors()
        self._in = interpreter.get_input_details()[0]
        self._out = interpreter.get_output_details()[0]
        self.input = _tflite_spec(self._in)
        self.output = _tflite_spec(self._out)

    def invoke(self, batch: np.ndarray) -> np.ndarray:
        results = []
        try:
            for item in batch:
                self._interpreter.set_tensor(self._in["index"], item[None])
                self._interpreter.invoke()
                results.append(self._interpreter.get_tensor(self._out["index"])[0])
        except (ValueError, RuntimeError) as err:  # e.g. corrupt quantization: XNNPACK fails at the first invoke
            raise ModelLoadError(f"{self.path}: {self.info.name} cannot run this model ({_first_line(err)}); the "
                                 f"file loads but is broken: export it again") from None
        return np.stack(results)


def _tflite_spec(details: dict) -> TensorSpec:
    signature = details.get("shape_signature", details["shape"])
    shape = tuple(None if int(d) < 0 else int(d) for d in signature)
    scale, zero_point = details.get("quantization", (0.0, 0))
    return TensorSpec(details["name"], shape, np.dtype(details["dtype"]), float(scale), int(zero_point))


def _open_tflite(module_name: str, backend_name: str, version_of: Callable[[], str]):
    def open_(path: Path, threads: int) -> Backend:
        module = importlib.import_module(module_name)
        probe_tflite(path)
        try:
            with native_stderr_filtered(is_litert_info):
                interpreter = module.Interpreter(model_path=str(path), num_threads=threads)
                return TFLiteBackend(path, interpreter, BackendInfo(backend_name, version_of(), threads))
        except (ValueError, RuntimeError) as err:
            raise ModelLoadError(f"{path}: {backend_name} cannot load this model ({_first_line(err)})") from None
        except (ImportError, SystemError) as err:  # measured: tflite-runtime 2.14 under NumPy 2 fails right here
            cause = _first_line(err.__cause__ or err)
            raise ModelLoadError(f"{path}: {backend_name} {version_of()} cannot create an interpreter with NumPy "
                                 f"{np.__version__} ({cause}); if it was built for NumPy 1: "
                                 f"pip install 'numpy<2', or use ai-edge-litert") from None
    return open_


def _litert_version() -> str:
    return importlib.import_module("ai_edge_litert").__version__


def _tflite_runtime_version() -> str:
    return importlib.import_module("tflite_runtime").__version__


register_backend(BackendEntry("litert", (".tflite",), "ai-edge-litert", "ai_edge_litert",
                              _open_tflite("ai_edge_litert.interpreter", "litert", _litert_version)))
register_backend(BackendEntry("tflite_runtime", (".tflite",), "tflite-runtime", "tflite_runtime",
                              _open_tflite("tflite_runtime.interpreter", "tflite_runtime", _tflite_runtime_version)))


# --- ONNX Runtime ---------------------------------------------------------------------------------------------------

_ONNX_DTYPES = {"tensor(float)": np.float32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8}


class OnnxBackend(Backend):
    """An ``.onnx`` model in an ONNX Runtime CPU session; batches run in one call when the batch is open."""

    def __init__(self, path: Path, session, info: BackendInfo):
        self.path = path
        self.info = info
        self._session = session
        self.input = _onnx_spec(session.get_inputs()[0], path)
        self.output = _onnx_spec(session.get_outputs()[0], path)

    def invoke(self, batch: np.ndarray) -> np.ndarray:
        if self.input.shape and self.input.shape[0] == 1 and len(batch) != 1:
            return np.concatenate([self.invoke(item[None]) for item in batch])
        try:
            return self._session.run([self.output.name], {self.input.name: batch})[0]
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own RuntimeException/Fail types
            raise ModelLoadError(f"{self.path}: onnxruntime cannot run this model ({_first_line(err)}); the file "
                                 f"loads but is broken: export it again") from None


def _onnx_spec(node, path: Path) -> TensorSpec:
    if node.type not in _ONNX_DTYPES:
        raise ModelLoadError(f"{path}: tensor {node.name!r} has type {node.type}; expected one of "
                             f"{', '.join(_ONNX_DTYPES)}")
    shape = tuple(d if isinstance(d, int) and d > 0 else None for d in node.shape)
    return TensorSpec(node.name, shape, np.dtype(_ONNX_DTYPES[node.type]))


def _open_onnx(path: Path, threads: int) -> Backend:
    import onnxruntime

    from edgecnn.runtime.model_file import read_onnx_metadata

    read_onnx_metadata(path)  # size, first byte and protobuf framing checked before the C++ parser sees the file

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings would break the one-line messages
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own Fail/InvalidProtobuf/... for bad files
        raise ModelLoadError(f"{path}: not a loadable ONNX model ({_first_line(err)})") from None
    return OnnxBackend(path, session, BackendInfo("onnxruntime", onnxruntime.__version__, threads))


register_backend(BackendEntry("onnxruntime", (".onnx",), "onnxruntime", "onnxruntime", _open_onnx))


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:300]


def installed_backends() -> list[str]:
    """The registered backends whose library is installed here (without importing it)."""
    return [entry.name for entry in _REGISTRY.values() if importlib.util.find_spec(entry.module) is not None]
