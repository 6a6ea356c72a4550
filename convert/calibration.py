"""Calibration images for int8 quantization: a few hundred real training images, sampled across every class."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from edgecnn.convert.errors import CalibrationError
from edgecnn.data.description import DataDescription, Selection
from edgecnn.data.errors import DataError
from edgecnn.data.loader import LabelledImages, load_labelled
from edgecnn.runtime.contract import ModelContract


@dataclass(frozen=True)
class CalibrationOptions:
    """Where calibration images come from and how many."""

    data: Path | None = None
    """Folder of class folders (or idx files) to use; None: the training split the contract names."""
    count: int = 300
    """Number of images, spread evenly across the classes."""
    min_count: int = 10
    """Fewer readable images than this is an error: int8 ranges measured on a handful of images are not trusted."""
    seed: int = 0
    """Seed of the per-class sampling (the same images every run)."""


def load_calibration(contract: ModelContract, options: CalibrationOptions,
                     on_note: Callable[[str], None] | None = None) -> LabelledImages:
    """The calibration images; :class:`CalibrationError` when classes are missing or there are too few.

    Unreadable files are skipped; each is passed to ``on_note`` as ``"calibration: skipped <why>"``.
    """
    if options.count < options.min_count:
        raise CalibrationError(f"--calib-count {options.count} is below the minimum of {options.min_count} images")
    per_class = -(-options.count // len(contract.labels))
    try:
        selection = Selection(Path(options.data), "train") if options.data is not None else _training(contract)
        images = load_labelled(selection.root, contract, selection.split, per_class, options.seed, selection.keep)
    except DataError as err:
        raise CalibrationError(str(err)) from None
    for _, reason in images.skipped if on_note else ():
        on_note(f"calibration: skipped {reason}")
    counts = images.per_class(len(contract.labels))
    # a hand model's no-hand class has no images of its own: its examples are hands imagined in hand-free photos
    # nor, in a data set of the gestures only, does its no-gesture class
    crop = contract.hand_crop
    optional = {crop.no_hand_label, crop.no_gesture_label} if crop is not None else set()
    missing = [label for label, n in zip(contract.labels, counts) if n == 0 and label not in optional]
    if missing:
        raise CalibrationError(f"{images.origin}: calibration data has no readable images of {missing}; every "
                               f"class of {list(contract.labels)} must be covered")
    if len(images.labels) < options.min_count:
        raise CalibrationError(f"{images.origin}: only {len(images.labels)} readable calibration images, expected "
                               f"at least {options.min_count}")
    return images


def _training(contract: ModelContract) -> Selection:
    description = DataDescription.from_extra(contract.extra)
    if description is None:
        raise CalibrationError(f"the model contract of {contract.model_name!r} does not name its data "
                               f"(extra['data']); pass --calib-data PATH")
    return description.training()
