"""The smoke test: a few real images classified at bundle time, classified again on the device, labels compared.

At bundle time :func:`classify_smoke_images` runs the model as ``edgecnn run`` will (the runtime's
:class:`~edgecnn.runtime.gesture.HandGestures` in the model's default ``--hand`` mode, so a hand model finds the hand
first); ``smoke.json`` records each image's label (null: no hand) and probabilities. On the device
``python -m edgecnn.devices.smoke BUNDLE_DIR`` runs the installed ``edgecnn run --headless`` over ``smoke/`` (the
real command line, in the device's venv, without TensorFlow) and compares. Interpreters on another CPU may round
differently, so an image whose recorded top two probabilities were within :data:`NEAR_TIE` may come out as either of
them; every other label must be equal.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edgecnn.devices.errors import BundleError, SmokeTestError

NEAR_TIE = 0.02
SMOKE_DIR = "smoke"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
IMAGE_FOLDER_KINDS = ("image_folder", "hand_landmarks")  # hand models: the same folders, read through the finder


@dataclass(frozen=True)
class SmokeImage:
    """One smoke-test image and what the model said at bundle time."""

    path: Path
    """The image file on this machine."""
    bundle_name: str
    """Its path inside the bundle, ``smoke/NN-<name>``."""
    label: str | None
    """The label the model gave; None when a hand model found no hand (``edgecnn run`` says "no hand")."""
    probabilities: dict[str, float]
    """Every label's probability (empty when there was no hand to classify)."""

    def record(self) -> dict:
        return {"file": self.bundle_name, "label": self.label,
                "probabilities": {k: round(v, 6) for k, v in self.probabilities.items()}}


def default_smoke_images(contract_extra: dict, per_class: int,
                         labels: tuple[str, ...] | None = None) -> list[Path]:
    """``per_class`` images of each class from the held-out images the model was trained with (sampled, seeded).

    ``labels``: the model's class names in index order; default: the class folders found there.
    """
    from edgecnn.data.description import DataDescription, held_out_selection
    from edgecnn.data.errors import DataError
    from edgecnn.data.loader import class_folders, labelled_files

    try:
        description = DataDescription.from_extra(contract_extra)
    except DataError as err:
        raise BundleError(f"{err}; pass --smoke-images DIR") from None
    if description is None or description.kind not in IMAGE_FOLDER_KINDS:
        kind = "none" if description is None else description.kind
        raise BundleError("the model's contract names no image-folder data set to take smoke-test images from "
                          f"(its data kind: {kind}); pass --smoke-images DIR")
    selection = held_out_selection(contract_extra)
    folder = selection.root / selection.split if selection.split else selection.root
    if not folder.is_dir():
        raise BundleError(f"{folder}: the model's evaluation images are not here; pass --smoke-images DIR")
    files = labelled_files(folder, tuple(labels or class_folders(folder)), per_class, keep=selection.keep)
    return [path for path, _ in files]


def pick_smoke_images(paths: tuple[Path, ...] | list[Path]) -> list[Path]:
    """Image files from files and folders (searched recursively), in a stable order; at least one."""
    images: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            # dot-folders (.ipynb_checkpoints) hold copies, not smoke images
            images += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                             and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            images.append(path)
        else:
            raise BundleError(f"{path}: no such smoke-test image or folder")
    if not images:
        raise BundleError(f"no smoke-test images (expected {', '.join(IMAGE_SUFFIXES)} files) in "
                          f"{', '.join(map(str, paths)) or 'nothing given'}")
    return images


def classify_smoke_images(model: Path, images: list[Path], threads: int | None = None) -> list[SmokeImage]:
    """Classifies each image with the runtime, as ``edgecnn run`` will on the device (its default ``--hand`` mode:
    ``auto`` for a model whose contract asks for a hand crop, the whole picture otherwise)."""
    from edgecnn.runtime.classifier import Classifier
    from edgecnn.runtime.errors import SourceError
    from edgecnn.runtime.gesture import HandGestures, default_hand_mode
    from edgecnn.runtime.images import read_image_rgb

    classifier = Classifier.open(model, threads=threads)
    gestures = HandGestures(classifier, default_hand_mode(classifier))
    smoke = []
    for number, path in enumerate(images, start=1):
        try:
            image = read_image_rgb(path)
        except SourceError as err:
            raise BundleError(f"smoke-test image {err}") from None
        gestures.reset()  # unrelated pictures, as edgecnn run treats the files of a folder
        prediction = gestures.classify(image).prediction
        probabilities = {} if prediction is None else {
            label: float(p) for label, p in zip(classifier.labels, prediction.probabilities)}
        label = None if prediction is None else prediction.label
        smoke.append(SmokeImage(path, f"{SMOKE_DIR}/{number:02d}-{path.name}", label, probabilities))
    return smoke


def compare(recorded: list[dict], device_lines: list[dict]) -> list[str]:
    """Every disagreement between the recorded labels and the device's, one line each (empty: passed)."""
    by_name = {Path(str(line.get("source", ""))).name: line for line in device_lines}
    problems = []
    for entry in recorded:
        name = Path(entry["file"]).name
        line = by_name.get(name)
        if line is None:
            problems.append(f"{name}: the device gave no result")
            continue
        if line.get("label") == entry["label"]:
            continue
        ranked = sorted((entry.get("probabilities") or {}).items(), key=lambda item: -item[1])
        near_tie = len(ranked) > 1 and ranked[0][1] - ranked[1][1] < NEAR_TIE and line.get("label") == ranked[1][0]
        if not near_tie:
            problems.append(f"{name}: expected {entry['label']!r}, the device said {line.get('label')!r}")
    return problems


def run_on_device(bundle_dir: Path, edgecnn: Path) -> list[dict]:
    """Runs the installed ``edgecnn run --headless`` over the bundle's smoke images; its JSON lines."""
    manifest = json.loads((bundle_dir / "bundle.json").read_text())
    command = [str(edgecnn), "run", "--model", str(bundle_dir / manifest["model"]), "--source",
               str(bundle_dir / SMOKE_DIR), "--headless", "--max-frames", str(manifest["smoke_images"]),
               "--threads", str(manifest["threads"])]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise SmokeTestError(f"smoke test: 'edgecnn run' failed on the device (exit {result.returncode}): {last}")
    lines = []
    for text in result.stdout.splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    return lines


def check_bundle(bundle_dir: Path, edgecnn: Path) -> int:
    """Runs and compares; :class:`SmokeTestError` names every image that disagrees. Returns the images checked."""
    recorded = json.loads((bundle_dir / "smoke.json").read_text())
    problems = compare(recorded, run_on_device(bundle_dir, edgecnn))
    if problems:
        raise SmokeTestError(f"smoke test failed on {len(problems)} of {len(recorded)} images: " + "; ".join(problems))
    return len(recorded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgecnn.devices.smoke",
                                     description="Runs a bundle's smoke test on this device.")
    parser.add_argument("bundle_dir", type=Path, help="the installed bundle folder (with smoke.json)")
    parser.add_argument("--edgecnn", type=Path, default=Path(sys.executable).with_name("edgecnn"),
                        help="the installed edgecnn command to test")
    args = parser.parse_args(argv)
    try:
        checked = check_bundle(args.bundle_dir, args.edgecnn)
    except SmokeTestError as err:
        print(f"edgecnn smoke: error: {err}", file=sys.stderr)
        return 1
    print(f"smoke test passed: {checked} images gave the labels recorded at bundle time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
