"""The artifact folder that ``edgecnn train`` writes and every later stage reads: its layout and its file names.

Layout (training writes it all at once: the folder appears complete or not at all)::

    <out>/model.keras                      the trained Keras model (raw 0-255 input, scaling in the graph)
    <out>/model.keras.contract.json        its ModelContract (labels, input size, RGB/GRAY, resize, the data)
    <out>/history.json                     per-epoch metrics, as Keras reports them
    <out>/metrics.json                     final train / validation / test accuracy and loss, timing, command
    <out>/curves.png                       accuracy and loss, train vs validation
    <out>/confusion.png                    confusion matrix on the evaluation split

Later stages add beside ``model.keras``: one ``model_<format><suffix>`` per export (:func:`export_file_name`, the one
place that rule lives) with a sidecar contract each, ``verify.json`` (``edgecnn verify``), ``bench.json`` and the
report. The contract's ``extra["data"]`` describes the data (:class:`edgecnn.data.description.DataDescription`).
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path

from edgecnn.data.errors import DataError
from edgecnn.runtime.contract import SIDECAR_SUFFIX, ModelContract, read_sidecar

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
CURVES_FILE = "curves.png"
CONFUSION_FILE = "confusion.png"
VERIFY_FILE = "verify.json"
BENCH_FILE = "bench.json"
GALLERY_DIR = "gallery"
"""The pipeline's disagreement gallery (``gallery/index.html`` and its pictures)."""
SMOKE_IMAGES_DIR = "smoke-images"
"""The pipeline's smoke-test images for ``edgecnn deploy`` of a model trained on idx files (Fashion-MNIST)."""

EXPORT_PREFIX = "model_"
EXPORT_SUFFIXES = {"tflite": ".tflite", "onnx": ".onnx"}
"""An export format's name starts with its kind, and the kind fixes the file suffix (``tflite_int8`` -> ``.tflite``)."""
ARTIFACT_MARKERS = (MODEL_FILE, MODEL_FILE + SIDECAR_SUFFIX, METRICS_FILE)
"""Files whose presence together makes a folder an edgecnn artifact folder (one that ``train --out`` may replace)."""
WRITTEN_BY_EDGECNN = (MODEL_FILE, MODEL_FILE + SIDECAR_SUFFIX, HISTORY_FILE, METRICS_FILE, CURVES_FILE,
                      CONFUSION_FILE, EXPORT_PREFIX + "*", "verify.*", "verify-*.json", "bench.*", "report.*",
                      "convert.*", "device-report-*.json", GALLERY_DIR + "/", SMOKE_IMAGES_DIR + "/",
                      "saved_model/")
"""Name patterns of what train, convert, verify, bench and pipeline write into an artifact folder (a pattern ending
in ``/`` is a folder edgecnn writes whole; ``saved_model/`` is what ``edgecnn import`` keeps of a SavedModel,
convert's ``SAVED_MODEL_DIR``); anything else in it is the user's, so replacing the folder needs
``--force``. Whatever writes a new name into an artifact folder adds it here: this list is the guard's only source."""


def export_suffix(format_name: str) -> str:
    """The file suffix of export format ``format_name``; :class:`DataError` when its name starts with no known kind."""
    kind = format_name.split("_", 1)[0]
    if kind not in EXPORT_SUFFIXES:
        raise DataError(f"export format {format_name!r}: its name must start with one of "
                        f"{', '.join(k + '_' for k in EXPORT_SUFFIXES)} (the kind fixes the file suffix)")
    return EXPORT_SUFFIXES[kind]


def export_file_name(format_name: str) -> str:
    """``model_<format><suffix>``: the file an export of ``format_name`` is written to, beside ``model.keras``."""
    return f"{EXPORT_PREFIX}{format_name}{export_suffix(format_name)}"


def export_format_of(path: str | Path) -> str | None:
    """The format name an export file's name encodes (the inverse of :func:`export_file_name`); None otherwise."""
    path = Path(path)
    stem = path.stem
    if not stem.startswith(EXPORT_PREFIX) or path.suffix not in EXPORT_SUFFIXES.values():
        return None
    name = stem[len(EXPORT_PREFIX):]
    try:
        return name if export_suffix(name) == path.suffix else None
    except DataError:
        return None


@dataclass(frozen=True)
class Artifact:
    """A trained artifact folder on disk."""

    root: Path
    """The folder."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def model_path(self) -> Path:
        return self.root / MODEL_FILE

    @property
    def verify_path(self) -> Path:
        """Where ``edgecnn verify`` (and the pipeline) record the last verification."""
        return self.root / VERIFY_FILE

    @property
    def bench_path(self) -> Path:
        return self.root / BENCH_FILE

    def export_path(self, format_name: str) -> Path:
        """The file of export ``format_name`` in this folder (it may not exist yet)."""
        return self.root / export_file_name(format_name)

    def exports(self) -> list[Path]:
        """The export files present, sorted by name."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_file() and export_format_of(p) is not None)

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
    foreign = [n for n in names if not written_by_edgecnn(out / n)]
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
    exports = [n for n in names if n.startswith(EXPORT_PREFIX) and not n.endswith(SIDECAR_SUFFIX)]
    lost = (f"; its {len(exports)} converted export(s) ({_listing(exports)}) go too: run 'edgecnn convert {out}' "
            f"again" if exports else "")
    return f"replacing the earlier artifact in {out} ({MODEL_FILE}, metrics and plots{lost})"


def written_by_edgecnn(entry: Path) -> bool:
    """Whether ``entry`` (a file or folder in an artifact folder) is one edgecnn writes (:data:`WRITTEN_BY_EDGECNN`):
    a file pattern matches files only, a folder pattern (``name/``) folders only, so a user's file called ``gallery``
    is still the user's. Leftovers of an interrupted atomic write of such an entry (``.NAME.PID.*.tmp``,
    ``.NAME.old-PID``) are edgecnn's too."""
    name = entry.name
    leftover = _ATOMIC_LEFTOVER.match(name)
    if leftover:
        return any(fnmatch.fnmatchcase(leftover.group(1), p.rstrip("/")) for p in WRITTEN_BY_EDGECNN)
    is_dir = entry.is_dir() and not entry.is_symlink()
    return any(fnmatch.fnmatchcase(name, p.rstrip("/")) and p.endswith("/") == is_dir for p in WRITTEN_BY_EDGECNN)


_ATOMIC_LEFTOVER = re.compile(r"^\.(.+?)\.(?:old-\d+|\d+\..*\.tmp)$")
"""The temporary names of :mod:`edgecnn.runtime.atomic` (``.NAME.PID.XXXX.tmp``, ``.NAME.old-PID``)."""


def _listing(names: list[str], shown: int = 3) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
