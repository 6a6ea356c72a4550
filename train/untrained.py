"""An artifact folder with an untrained model, for benchmarks whose timings do not depend on the weights."""

from __future__ import annotations

from pathlib import Path

from edgecnn.data.artifact import MODEL_FILE
from edgecnn.data.datasets import find_roots, get_dataset
from edgecnn.data.description import describe
from edgecnn.runtime.contract import write_sidecar
from edgecnn.train.registry import get_spec


def write_untrained_artifact(name: str, out: Path):
    """``(folder, Keras model, contract)``: the registered model ``name`` with random weights, saved as ``edgecnn
    train`` would save it, its contract naming the model's real dataset so int8 calibration finds real images.

    The model is built with its spec's ``untrained_options`` (inception_transfer: ``weights="random"``).
    """
    spec = get_spec(name)
    model = spec.build(**spec.untrained_options)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    dataset = get_dataset(spec.dataset)
    contract = spec.contract(dataset.labels, describe(dataset, find_roots(dataset)[:1]))
    write_sidecar(out / MODEL_FILE, contract)
    return out, model, contract
