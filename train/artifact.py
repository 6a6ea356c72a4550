"""The artifact folder that ``edgecnn train`` writes and every later stage reads.

Layout (all written at once: the folder appears complete or not at all)::

    <out>/model.keras                      the trained Keras model (raw 0-255 input, scaling in the graph)
    <out>/model.keras.contract.json        its ModelContract (labels, input size, RGB/GRAY, resize, data splits)
    <out>/history.json                     per-epoch metrics, as Keras reports them
    <out>/metrics.json                     final train / validation / test accuracy and loss, timing, command
    <out>/curves.png                       accuracy and loss, train vs validation
    <out>/confusion.png                    confusion matrix on the evaluation split

Later stages add their exports beside ``model.keras`` with a sidecar contract each.
The contract's ``extra["data"]`` names the data: ``{"kind", "root", "train_split", "eval_split"}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgecnn.runtime.contract import ModelContract, read_sidecar
from edgecnn.train.errors import DataError

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
CURVES_FILE = "curves.png"
CONFUSION_FILE = "confusion.png"


@dataclass(frozen=True)
class Artifact:
    """A trained artifact folder on disk."""

    root: Path
    """The folder."""

    @property
    def model_path(self) -> Path:
        return self.root / MODEL_FILE

    @property
    def contract(self) -> ModelContract:
        contract = read_sidecar(self.model_path)
        if contract is None:
            raise DataError(f"{self.root} is not an edgecnn artifact folder: {self.model_path.name} and its "
                            f"contract are missing (train one with 'edgecnn train MODEL --out {self.root}')")
        return contract

    @property
    def metrics(self) -> dict:
        return json.loads((self.root / METRICS_FILE).read_text())

    @property
    def history(self) -> dict:
        return json.loads((self.root / HISTORY_FILE).read_text())

    @classmethod
    def open(cls, root: str | Path) -> Artifact:
        """Opens an existing artifact folder; a typed error says what is missing."""
        artifact = cls(Path(root))
        if not artifact.model_path.is_file():
            raise DataError(f"{root} is not an edgecnn artifact folder: {MODEL_FILE} is missing "
                            f"(train one with 'edgecnn train MODEL --out {root}')")
        artifact.contract  # noqa: B018 - validates the sidecar now, with a clear error
        return artifact


def write_untrained_artifact(name: str, out: Path):
    """``(folder, Keras model, contract)``: the registered model ``name`` with random weights, saved as ``edgecnn
    train`` would save it, its contract naming the model's real dataset so int8 calibration finds real images.

    For benchmarks, whose timings do not depend on the weights; inception_transfer gets ``weights="random"``.
    """
    from edgecnn.runtime.contract import write_sidecar
    from edgecnn.train.datasets import find_roots, get_dataset
    from edgecnn.train.registry import build_model, get_spec

    spec = get_spec(name)
    model = build_model(name, weights="random") if name == "inception_transfer" else build_model(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    dataset = get_dataset(spec.dataset)
    contract = ModelContract(
        model_name=name, labels=dataset.labels, input_size=spec.input_shape[:2], channel_order=spec.channel_order,
        resize=spec.resize, output_activation=spec.output_activation, dataset=spec.dataset,
        extra={"data": {"kind": dataset.kind, "root": str(find_roots(dataset)[0]), "train_split": dataset.train_split,
                        "eval_split": dataset.eval_split}})
    write_sidecar(out / MODEL_FILE, contract)
    return out, model, contract
