"""``edgecnn import``: a user's own Keras image classifier -> an artifact folder every later stage accepts.

The contract is built from what the model says (input size and channels from its input shape; the number of classes
and softmax/sigmoid from its output, checked on real numbers: rows that sum to 1, or one unit in 0-1) and from what
the user says where the model cannot: labels, value range, resize method, held-out images. What is assumed is said
(:attr:`ImportResult.notes`), never silent. The artifact::

    <out>/model.keras                  the model: the user's .keras byte for byte; a .h5 saved again as .keras;
                                       for a SavedModel, a wrapper around <out>/saved_model/ (convert/saved_model.py)
    <out>/model.keras.contract.json    its contract; source_sha256 is the imported file's (the folder's for a
                                       SavedModel), extra["import"] says where it came from and what was assumed
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.convert.errors import ModelImportError
from edgecnn.convert.import_load import LoadedModel, load_source, model_name_of
from edgecnn.convert.saved_model import SAVED_MODEL_DIR, folder_sha256
from edgecnn.data.artifact import MODEL_FILE
from edgecnn.data.description import DataDescription, held_out_selection
from edgecnn.runtime.contract import RESIZE_METHODS, ModelContract, read_sidecar, write_sidecar
from edgecnn.runtime.preprocess import to_value_range

SPLIT_NAMES = ("train", "validation", "val", "test")
DEFAULT_RESIZE = "bilinear"
CHECK_PER_CLASS = 30
"""Held-out images per class the import scores the model on (the value-range check)."""


@dataclass(frozen=True)
class ImportOptions:
    """What the user says about the model where the file cannot."""

    labels: tuple[str, ...] | None = None
    """Class names in class-index order; None: from ``labels_from`` or ``data``."""
    labels_from: Path | None = None
    """A folder whose sub-folders are the classes, alphabetical (what flow_from_directory used)."""
    value_range: tuple[float, float] | None = None
    """Pixel range the model was trained on, e.g. (0, 1) for the book's 1/255 outside the model; None: assumed
    from the model (a leading Rescaling layer: 0-255, else 0-1) and said so."""
    resize: str | None = None
    """How frames are resized to the input size; None: bilinear, said so."""
    data: Path | None = None
    """Held-out images (class folders, or a root with train/ validation/ test/) for calibration, verify and the
    value-range check."""
    force: bool = False
    """Replace ``out`` when it is already an edgecnn artifact folder (its exports go with it)."""


@dataclass
class ImportResult:
    out: Path
    """The artifact folder written."""
    contract: ModelContract
    """Its contract."""
    kind: str
    """``"keras"``, ``"h5"`` or ``"saved_model"``."""
    notes: list[str] = field(default_factory=list)
    """What was assumed or measured, for the user."""


def import_model(source: str | Path, out: str | Path, options: ImportOptions = ImportOptions()) -> ImportResult:
    """Loads ``source``, builds its contract, checks it on ``options.data`` if given, writes ``out`` atomically."""
    from edgecnn.convert.import_shapes import describe_model, value_range_of

    source, out = Path(source), Path(out)
    _check_out(out, options.force)
    if options.resize is not None and options.resize not in RESIZE_METHODS:
        raise ModelImportError(f"--resize {options.resize!r}: expected one of {', '.join(RESIZE_METHODS)}")
    loaded = load_source(source)
    notes: list[str] = []
    value_range = value_range_of(loaded.model, options.value_range, notes)
    shape = describe_model(loaded.model, source, value_range)
    labels = _labels(options, shape.classes, source, notes)
    resize = options.resize or DEFAULT_RESIZE
    if options.resize is None:
        notes.append(f"resize: {DEFAULT_RESIZE} (assumed; Keras' flow_from_directory resizes with 'nearest', "
                     f"image_dataset_from_directory with 'bilinear'); pass --resize to change it")
    sha = folder_sha256(source) if loaded.kind == "saved_model" else _file_sha256(source)
    extra: dict[str, Any] = {"import": {"source": str(source.resolve()), "kind": loaded.kind, "sha256": sha,
                                        "saved_by_keras": loaded.saved_by,
                                        "value_range": "given" if options.value_range else "assumed",
                                        "resize": "given" if options.resize else "assumed"}}
    if options.data is not None:
        extra["data"] = data_description(options.data, labels)
    contract = ModelContract(model_name=model_name_of(source), labels=labels, input_size=shape.input_size,
                             channel_order=shape.channel_order, value_range=value_range, resize=resize,
                             output_activation=shape.activation, format="keras", source_sha256=sha,
                             dataset=str(options.data) if options.data else None, extra=extra)
    if options.data is not None:
        notes.append(_held_out_check(loaded.model, contract, source, options.value_range is None))
    _write(loaded, source, out, contract)
    return ImportResult(out, contract, loaded.kind, notes)


def _check_out(out: Path, force: bool) -> None:
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    is_artifact = out.is_dir() and read_sidecar(out / MODEL_FILE) is not None
    if not is_artifact:
        raise ModelImportError(f"--out {out}: exists and is not an edgecnn artifact folder; expected a new or empty "
                               f"folder (nothing there is touched)")
    if not force:
        raise ModelImportError(f"--out {out}: is already an artifact folder; pass --force to replace it (its "
                               f"exports are replaced with it), or choose another --out")


def _labels(options: ImportOptions, classes: int, source: Path, notes: list[str]) -> tuple[str, ...]:
    if options.labels and options.labels_from:
        raise ModelImportError("--labels and --labels-from both given; expected one of them")
    if options.labels:
        labels = tuple(options.labels)
        given = "--labels"
    elif options.labels_from or options.data:
        folder = Path(options.labels_from or options.data)
        labels = tuple(class_folders(_class_level(folder)))
        given = "--labels-from" if options.labels_from else "--data"
        notes.append(f"labels: {', '.join(labels)} (the class folders of {folder}, alphabetical: the order "
                     f"flow_from_directory and image_dataset_from_directory number them)")
    else:
        raise ModelImportError(f"{source}: the model does not name its classes; pass --labels A,B,C (in class-index "
                               f"order) or --labels-from DIR (the class folders it was trained from)")
    expected = 2 if classes == 1 else classes
    if len(labels) != expected:
        unit = ("one sigmoid unit (the probability of the second label), so 2 labels" if classes == 1
                else f"{classes} units, so {classes} labels")
        raise ModelImportError(f"{given}: {len(labels)} labels {list(labels)} for {source}, whose output has {unit}")
    return labels


def class_folders(folder: Path) -> list[str]:
    """Class names under ``folder``, alphabetical (the order Keras numbers them)."""
    if not Path(folder).is_dir():
        raise ModelImportError(f"{folder}: no such folder; expected a folder of class folders")
    from edgecnn.data.loader import class_folders as folders_of

    names = folders_of(folder)
    if not names:
        raise ModelImportError(f"{folder}: no class folders in it; expected one sub-folder of images per class")
    return names


def _splits(folder: Path) -> list[str]:
    """The split folders of a dataset root (train/, validation/...), or [] when ``folder`` holds class folders."""
    names = class_folders(folder)
    return [name for name in SPLIT_NAMES if name in names] if set(names) <= set(SPLIT_NAMES) else []


def _class_level(folder: Path) -> Path:
    """``folder`` itself, or its first split folder when it is a dataset root."""
    splits = _splits(folder)
    return folder / splits[0] if splits else folder


def data_description(data: Path, labels: tuple[str, ...]) -> dict:
    """The contract's ``extra["data"]`` for ``--data``: calibration uses its train split, verify its held-out one."""
    data = Path(data).resolve()
    splits = _splits(data)
    if splits:
        held_out = next((s for s in ("validation", "val", "test") if s in splits), splits[0])
        root, train_split, eval_split = data, ("train" if "train" in splits else held_out), held_out
    else:
        root, train_split, eval_split = data.parent, data.name, data.name
    for split in dict.fromkeys((train_split, eval_split)):
        found = class_folders(root / split)
        if sorted(found) != sorted(labels):
            raise ModelImportError(f"--data {root / split}: class folders {found} do not match the labels "
                                   f"{list(labels)}; expected one sub-folder per label")
    return DataDescription("image_folder", (str(root),), train_split, eval_split).to_dict()


def _held_out_check(model, contract: ModelContract, source: Path, assumed: bool) -> str:
    """Scores the model on held-out images; ModelImportError when the value range is probably wrong."""
    from edgecnn.convert.value_range import check_value_range, range_text, top1
    from edgecnn.data.loader import load_labelled
    from edgecnn.errors import EdgecnnError

    try:
        held_out = held_out_selection(contract.extra, None, contract.model_name)
        images = load_labelled(held_out.root, contract, held_out.split, CHECK_PER_CLASS, keep=held_out.keep)
    except EdgecnnError as err:
        raise ModelImportError(f"--data: {err}") from None

    def predict(inputs: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(inputs, batch_size=64, verbose=0))

    scores = predict(to_value_range(images.images, contract.value_range))
    accuracy = 100.0 * float((top1(scores, len(contract.labels)) == images.labels).mean())
    check = check_value_range(predict, contract.value_range, images.images, images.labels, len(contract.labels),
                              accuracy)
    if check.wrong:
        how = "assumed" if assumed else "given"
        fix = f"pass --value-range {check.best[0]} (the range was {how})"
        raise ModelImportError(f"{source}: {check.message(fix)}")
    return (f"held-out check: {accuracy:.1f}% top-1 on {len(images.labels)} images of {images.origin} with pixels "
            f"scaled to {range_text(contract.value_range)}")


def _write(loaded: LoadedModel, source: Path, out: Path, contract: ModelContract) -> None:
    from edgecnn.convert.runner import load_keras_model
    from edgecnn.runtime.atomic import atomic_directory

    probe = to_value_range(np.random.default_rng(0).integers(0, 256, (2, *contract.input_shape), dtype=np.uint8),
                           contract.value_range)
    with atomic_directory(out) as staging:
        model_path = staging / MODEL_FILE
        if loaded.kind == "keras":
            shutil.copyfile(source, model_path)  # byte for byte: the exports' source hash is the user's file's
        else:
            if loaded.kind == "saved_model":
                shutil.copytree(source, staging / SAVED_MODEL_DIR)
            loaded.model.save(model_path)
        write_sidecar(model_path, contract)
        # The artifact must give what the user's file gives, through the loader every stage uses.
        reloaded = load_keras_model(model_path)
        difference = float(np.abs(reloaded.predict(probe, verbose=0) - loaded.model.predict(probe, verbose=0)).max())
        if difference > 1e-4:
            raise ModelImportError(f"{source}: the model written to {out} gives different outputs (max difference "
                                   f"{difference:.2g}) from the file itself; nothing was written")


def _file_sha256(path: Path) -> str:
    from edgecnn.convert.runner import sha256_of

    return sha256_of(path)
