"""Peak RSS and wall time of ``edgecnn convert``, per export format, for any registered model.

    .venv/bin/python benchmarks/bench_convert.py --model inception_transfer            # isolated (the default)
    .venv/bin/python benchmarks/bench_convert.py --artifact artifacts/fashion_cnn --in-process

``--model NAME`` builds an untrained artifact folder of a registered model (random weights: conversion memory and time
do not depend on the weight values; InceptionV3 is built with ``weights="random"`` so no download is needed) in a
scratch folder, with calibration from the model's real dataset under ../shared/data. ``--artifact DIR`` uses an existing
one (its exports are overwritten). ``--in-process`` measures the naive way: every format in one process, one peak.
Prints a Markdown table; ``--json PATH`` writes the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def build_untrained_artifact(name: str, out: Path) -> Path:
    """An artifact folder with the registered model ``name`` (random weights) and its contract."""
    from edgecnn.train.untrained import write_untrained_artifact

    return write_untrained_artifact(name, out)[0]


def run_convert(artifact: Path, formats: list[str], in_process: bool, calib_count: int) -> list[dict]:
    """Runs ``edgecnn convert`` as a child process; returns its rows (peak RSS per format, or one overall peak)."""
    command = [sys.executable, "-c", _CHILD, str(artifact), json.dumps(formats), str(in_process), str(calib_count)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench_convert: convert failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    overall = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return rows + [{"format": "ALL (wall, max RSS of any process)", "seconds": wall, "peak_rss_mb": overall,
                    "size_bytes": sum(row["size_bytes"] for row in rows)}]


# The child: converts and prints its records; in-process, every row gets the process's own peak RSS.
_CHILD = """
import json, resource, sys
from edgecnn.convert.calibration import CalibrationOptions
from edgecnn.convert.runner import ConvertOptions, convert_artifact
artifact, formats, in_process, count = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "True", int(sys.argv[4])
options = ConvertOptions(formats=tuple(formats), isolate=not in_process, calibration=CalibrationOptions(count=count))
rows = []
for record in convert_artifact(artifact, options):
    row = {"format": record.format, "seconds": record.seconds, "size_bytes": record.size_bytes,
           "peak_rss_mb": record.peak_rss_mb}
    if in_process:
        row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(row)
print(json.dumps(rows))
"""


def markdown(rows: list[dict], title: str) -> str:
    lines = [f"{title}", "", "| format | size | time (s) | peak RSS (MB) |", "|---|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['format']} | {row['size_bytes'] / 2**20:.1f} MB | {row['seconds']:.1f} | "
                     f"{row['peak_rss_mb']:,.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="registered model name: build an untrained artifact of it")
    source.add_argument("--artifact", type=Path, help="existing artifact folder")
    parser.add_argument("--formats", nargs="+", default=None, help="formats (default: all registered)")
    parser.add_argument("--in-process", action="store_true", help="naive: every format in one process")
    parser.add_argument("--calib-count", type=int, default=100, help="calibration images")
    parser.add_argument("--json", type=Path, help="write the rows as JSON")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("EDGECNN_DATA", str(SHARED_DATA))
    from edgecnn.convert.formats import format_names

    formats = args.formats or format_names()
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as scratch:
        artifact = args.artifact or build_untrained_artifact(args.model, Path(scratch) / args.model)
        rows = run_convert(artifact, formats, args.in_process, args.calib_count)
    mode = "in one process (naive)" if args.in_process else "one subprocess per format"
    print(markdown(rows, f"edgecnn convert {args.model or args.artifact}, {mode}, {os.cpu_count()} cores"))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
