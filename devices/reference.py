"""Build-machine side of on-device acceptance: what the bundle carries so the device can run verify's parity.

The device has no TensorFlow, so the Keras model's answers are computed here, on the same held-out images verify
uses (the contract's evaluation split, sampled evenly across classes by ``edgecnn.data.loader.load_labelled``), and
shipped with the images and each candidate's tolerance from the convert stage's format registry. The device side is
:mod:`edgecnn.devices.accept`.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from edgecnn.data.artifact import MODEL_FILE as KERAS_FILE
from edgecnn.data.artifact import Artifact
from edgecnn.devices.accept import ACCEPT_JSON
from edgecnn.devices.errors import BundleError
from edgecnn.devices.profiles import DeviceProfile
from edgecnn.errors import EdgecnnError


def candidate_models(artifact_or_model: Path, profile: DeviceProfile) -> list[Path]:
    """Every export of the profile found in an artifact folder, preferred first; or the one model file given."""
    path = Path(artifact_or_model)
    if path.is_file():
        return [path]
    found = [Artifact(path).export_path(fmt) for fmt in profile.export_formats]
    return [p for p in found if p.is_file()]


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def acceptance_files(candidates: list[Path], profile: DeviceProfile, per_class: int) -> dict[str, bytes]:
    """``accept.json`` and ``accept/*.npy`` for the bundle; :class:`BundleError` when the Keras model or the held-out
    images are not there (``--no-accept`` deploys without them)."""
    from edgecnn.convert.formats import format_names, get_format
    from edgecnn.convert.verify import keras_probabilities
    from edgecnn.data.description import held_out_selection
    from edgecnn.data.loader import load_labelled
    from edgecnn.runtime.model_file import read_contract

    contract = read_contract(candidates[0])
    keras = candidates[0].with_name(KERAS_FILE)
    if not keras.is_file():
        raise BundleError(f"{keras}: no Keras model beside {candidates[0].name} to compute the reference outputs "
                          f"the device compares with; deploy from the artifact folder or pass --no-accept")
    try:
        held_out = held_out_selection(contract.extra, None, contract.model_name)
        images = load_labelled(held_out.root, contract, held_out.split, per_class, keep=held_out.keep)
        reference = keras_probabilities(keras, contract, images.images)
    except EdgecnnError as err:
        raise BundleError(f"on-device acceptance needs the held-out images: {err}; or pass --no-accept") from None
    entries = []
    for model in candidates:
        fmt = read_contract(model).format
        if fmt not in format_names():
            raise BundleError(f"{model}: its contract names format {fmt!r}, not one of {', '.join(format_names())}")
        entries.append({"format": fmt, "model": f"model/{model.name}", "tolerance": asdict(get_format(fmt).tolerance)})
    spec = {"images": len(images.labels), "per_class": images.per_class(len(contract.labels)),
            "source": images.origin, "labels_order": list(contract.labels), "threads": profile.threads,
            "pixels": "accept/pixels.npy", "labels": "accept/labels.npy", "reference": "accept/reference.npy",
            "candidates": entries}
    return {ACCEPT_JSON: (json.dumps(spec, indent=1, sort_keys=True) + "\n").encode(),
            spec["pixels"]: _npy(images.images), spec["labels"]: _npy(images.labels.astype(np.int64)),
            spec["reference"]: _npy(reference.astype(np.float32))}
