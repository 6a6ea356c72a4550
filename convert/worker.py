"""One export in a fresh process: ``python -m edgecnn.convert.worker ARTIFACT_DIR FORMAT [--calibration FILE.npy]``.

Used by :func:`edgecnn.convert.runner.convert_artifact` so that each format's converter memory is released when the
process exits. Prints the export record as one JSON line on success; on a known error prints
``edgecnn-worker: error: MESSAGE`` and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edgecnn-worker")
    parser.add_argument("artifact", type=Path)
    parser.add_argument("format")
    parser.add_argument("--calibration", type=Path, default=None)
    parser.add_argument("--calibration-info", type=json.loads, default=None)
    args = parser.parse_args(argv)

    import numpy as np

    from edgecnn.convert.formats import get_format
    from edgecnn.convert.runner import export_one, record_json
    from edgecnn.errors import EdgecnnError

    try:
        calibration = np.load(args.calibration) if args.calibration else None
        record = export_one(args.artifact, get_format(args.format), calibration, None, args.calibration_info)
    except EdgecnnError as err:
        print(f"edgecnn-worker: error: {err}", file=sys.stderr)
        return err.exit_code
    print(record_json(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
