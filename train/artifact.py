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

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path

from edgecnn.runtime.contract import SIDECAR_SUFFIX, ModelContract, read_sidecar
from edgecnn.train.errors import DataError

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
CURVES_FILE = "curves.png"
CONFUSION_FILE = "confusion.png"
ARTIFACT_MARKERS = (MODEL_FILE, MODEL_FILE + SIDECAR_SUFFIX, METRICS_FILE)
"""Files whose presence together makes a folder an edgecnn artifact folder (one that ``train --out`` may replace)."""
WRITTEN_BY_EDGECNN = (MODEL_FILE, MODEL_FILE + SIDECAR_SUFFIX, HISTORY_FILE, METRICS_FILE, CURVES_FILE,
                      CONFUSION_FILE, "model_*", "verify.*", "bench.*", "report.*", "convert.*")
"""Name patterns of what train, convert, verify, bench and pipeline write into an artifact folder; anything else in
it is the user's, so replacing the folder needs ``--force``."""


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
                            f"contract are missing (pass the folder 'edgecnn train MODEL --out FOLDER' wrote)")
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
                            f"(pass the folder 'edgecnn train MODEL --out FOLDER' wrote)")
        artifact.contract  # noqa: B018 - validates the sidecar now, with a clear error
        return artifact


def replacement_note(out: str | Path, force: bool = False) -> str | None:
    """What writing a new artifact at ``out`` replaces, in one sentence; None when nothing is there.

    Only an earlier artifact folder holding nothing but edgecnn's own files is replaced without ``force``; anything
    else (a file, a folder of the user's, an artifact with the user's files added) is a :class:`DataError`, because
    the whole folder is swapped for the new one.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return None
    if not out.is_dir():
        if force:
            return f"replacing the file {out} (--force)"
        raise DataError(f"--out {out}: this is a file, not a folder; pick a new --out (or pass --force to replace it)")
    try:
        names = sorted(entry.name for entry in out.iterdir())
    except OSError as err:
        raise DataError(f"--out {out}: cannot list this folder ({err.strerror or err})") from None
    if not names:
        return None
    is_artifact = all((out / name).is_file() for name in ARTIFACT_MARKERS)
    foreign = [n for n in names if not any(fnmatch.fnmatchcase(n, p) for p in WRITTEN_BY_EDGECNN)]
    if force:
        return f"replacing {out} and all {len(names)} entries in it (--force)"
    if not is_artifact:
        raise DataError(f"--out {out}: the folder exists and is not an edgecnn artifact folder ({len(names)} "
                        f"entries, e.g. {_listing(names)}); training replaces the whole folder: pick a new --out, "
                        f"or pass --force to delete what is there")
    if foreign:
        raise DataError(f"--out {out}: this artifact folder also holds files edgecnn did not write "
                        f"({_listing(foreign)}); training replaces the whole folder: move them, pick a new --out, "
                        f"or pass --force to delete them too")
    exports = [n for n in names if n.startswith("model_") and not n.endswith(SIDECAR_SUFFIX)]
    lost = (f"; its {len(exports)} converted export(s) ({_listing(exports)}) go too: run 'edgecnn convert {out}' "
            f"again" if exports else "")
    return f"replacing the earlier artifact in {out} ({MODEL_FILE}, metrics and plots{lost})"


def _listing(names: list[str], shown: int = 3) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


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
