"""Copies one export of a trained artifact into the package, with a JSON of how it was made and what it scored.

Used by scripts/ship-rps-model.sh; every number in the JSON is read from files the edgecnn commands wrote
(metrics.json from ``edgecnn train``, verify-*.json from ``edgecnn verify --json``).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from edgecnn.data.artifact import Artifact


def summary(artifact: Path, export_format: str, commands: list[str]) -> dict:
    metrics = json.loads((artifact / "metrics.json").read_text())
    shipped = {"commands": commands, "format": export_format,
               "training": {key: metrics.get(key) for key in (
                   "epochs_run", "augmentation", "lr_schedule", "train_count", "eval_count", "eval_accuracy",
                   "eval_accuracy_by_source", "confusion_matrix", "labels", "train_seconds")},
               "verify": {}}
    for report_file in sorted(artifact.glob("verify-*.json")):
        report = json.loads(report_file.read_text())
        for entry in report["formats"]:
            if entry["format"] == export_format:
                shipped["verify"][report["data_source"]] = {
                    "images": report["images"], "keras_accuracy": report["keras_accuracy"],
                    "accuracy": entry["parity"]["accuracy"], "agreement": entry["parity"]["agreement"],
                    "passed": entry["passed"], "size_bytes": entry["size_bytes"]}
    return shipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("artifact", type=Path)
    parser.add_argument("format")
    parser.add_argument("target", type=Path)
    parser.add_argument("--command", action="append", default=[])
    args = parser.parse_args()
    source = Artifact(args.artifact).export_path(args.format)
    args.target.parent.mkdir(parents=True, exist_ok=True)
    staging = args.target.with_name(args.target.name + ".partial")
    shutil.copyfile(source, staging)
    staging.replace(args.target)  # the previous shipped model stays whole until the new one is complete
    info = json.dumps(summary(args.artifact, args.format, args.command), indent=2) + "\n"
    args.target.with_suffix(".json").write_text(info)
    print(f"shipped {source} -> {args.target} ({args.target.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
