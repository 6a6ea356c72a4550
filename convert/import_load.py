"""Loading a user's own model for ``edgecnn import``: a ``.keras``, a Keras 2 ``.h5`` or a SavedModel folder.

Every failure is one :class:`ModelImportError` line naming the file and what was expected, with the reason Keras gave
translated where it is a known one: a custom layer or Lambda whose code is not here, a file saved by a newer Keras,
a weights-only ``.h5``.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecnn.convert.errors import ModelImportError
from edgecnn.convert.saved_model import SavedModelError, is_saved_model, wrap_saved_model

KINDS = ("keras", "h5", "saved_model")
EXPECTED = "expected a Keras 3 .keras file, a Keras 2 .h5 file (model.save('model.h5')) or a SavedModel folder"
SAVED_MODEL_TIP = "or export it with model.export(DIR) where its code is, and import that SavedModel folder"


@dataclass(frozen=True)
class LoadedModel:
    """A user's model, loaded."""

    model: Any
    """The Keras model (for a SavedModel: an image input wrapped around its endpoint)."""
    kind: str
    """``"keras"``, ``"h5"`` or ``"saved_model"``."""
    saved_by: str | None
    """The Keras version that saved the file, when the file says (None for a SavedModel)."""


def source_kind(path: Path) -> str:
    """Which of :data:`KINDS` ``path`` is; ModelImportError when none."""
    path = Path(path)
    if not path.exists():
        raise ModelImportError(f"{path}: no such file or folder; {EXPECTED}")
    if path.is_dir():
        if is_saved_model(path):
            return "saved_model"
        raise ModelImportError(f"{path}: a folder without saved_model.pb, so not a SavedModel; {EXPECTED}")
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return "keras"
    if suffix in (".h5", ".hdf5"):
        return "h5"
    raise ModelImportError(f"{path}: cannot import {suffix or 'extension-less'} files; {EXPECTED}")


def load_source(path: Path) -> LoadedModel:
    """Loads the model at ``path`` (no compile)."""
    path = Path(path)
    kind = source_kind(path)
    if kind == "saved_model":
        try:
            return LoadedModel(wrap_saved_model(path, name=model_name_of(path)), kind, None)
        except SavedModelError as err:
            raise ModelImportError(str(err)) from None
    saved_by = _keras_zip_version(path) if kind == "keras" else _h5_version(path)
    import keras

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001 - Keras raises ValueError, TypeError, OSError... for what it cannot read
        raise ModelImportError(_explain(path, err, saved_by, keras.__version__)) from None
    return LoadedModel(model, kind, saved_by)


def model_name_of(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", Path(path).resolve().name.split(".")[0]) or "imported"


def _keras_zip_version(path: Path) -> str | None:
    if not zipfile.is_zipfile(path):
        raise ModelImportError(f"{path}: not a .keras file (a .keras file is a zip archive; this is not one); "
                               f"{EXPECTED}")
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("metadata.json")).get("keras_version")
    except (KeyError, ValueError, zipfile.BadZipFile, OSError):
        return None


def _h5_version(path: Path) -> str | None:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                raise ModelImportError(f"{path}: holds weights only (written by model.save_weights), not a model; "
                                       f"expected the whole model, saved with model.save('model.h5')")
            version = handle.attrs.get("keras_version")
    except OSError as err:
        raise ModelImportError(f"{path}: not an HDF5 file ({err}); {EXPECTED}") from None
    return version.decode() if isinstance(version, bytes) else (str(version) if version is not None else None)


def _explain(path: Path, err: BaseException, saved_by: str | None, installed: str) -> str:
    text = " ".join(str(err).split())
    custom = re.search(r"(?:Could not locate (?:class|function)|Unknown (?:layer|object|activation)[^'\"]*)"
                       r"[: ]*['\"]([^'\"]+)['\"]", text)
    if custom:
        return (f"{path}: uses the custom layer or function {custom.group(1)!r}, whose code is not here; edgecnn "
                f"import takes models built from Keras' own layers - rebuild it without {custom.group(1)!r}, "
                f"{SAVED_MODEL_TIP}")
    if "Lambda" in text and "safe_mode" in text:
        return (f"{path}: contains a Lambda layer, whose Python code Keras will not run from a file; replace it with "
                f"a built-in layer, {SAVED_MODEL_TIP}")
    newer = _needs_newer(saved_by, installed)
    if newer:
        return f"{path}: {newer} ({type(err).__name__}: {text[:160]})"
    saved = f", saved by Keras {saved_by}" if saved_by else ""
    return (f"{path}: Keras {installed} cannot load this model{saved} ({type(err).__name__}: {text[:200]}); "
            f"{EXPECTED}")


def _needs_newer(saved_by: str | None, installed: str) -> str | None:
    """Why the version is the reason, or None when it is not."""
    saved, have = _version_tuple(saved_by), _version_tuple(installed)
    if saved is None or have is None:
        return None
    if saved[0] == 1:
        return (f"was saved by Keras {saved_by}, which Keras {installed} cannot read: load it with Keras 2 and save "
                f"it again with model.save('model.h5')")
    if saved[:2] > have[:2]:
        return (f"was saved by Keras {saved_by} and this is Keras {installed}: it needs Keras >= "
                f"{saved[0]}.{saved[1]} (pip install 'keras>={saved[0]}.{saved[1]}')")
    return None


def _version_tuple(version: str | None) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)\.(\d+)", version or "")
    return (int(match.group(1)), int(match.group(2))) if match else None
