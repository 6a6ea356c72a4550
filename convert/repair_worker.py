"""One int8 repair candidate in a fresh process.

``python -m edgecnn.convert.repair_worker ARTIFACT FORMAT REMEDY CALIBRATION.npy OUT [--info JSON] [--options JSON]``
writes OUT (with its contract embedded and a sidecar) using the remedy's recipe; prints the export record as one JSON
line. On a known error prints ``edgecnn-worker: error: MESSAGE`` and exits 2, as :mod:`edgecnn.convert.worker` does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edgecnn-repair-worker")
    parser.add_argument("artifact", type=Path)
    parser.add_argument("format")
    parser.add_argument("remedy")
    parser.add_argument("calibration", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--info", type=json.loads, default={})
    parser.add_argument("--options", type=json.loads, default={})
    args = parser.parse_args(argv)

    import numpy as np

    from edgecnn.convert.formats import get_format
    from edgecnn.convert.repair import RepairOptions, get_remedy
    from edgecnn.convert.runner import export_one, load_keras_model, open_artifact, record_json
    from edgecnn.errors import EdgecnnError
    from edgecnn.runtime.preprocess import to_value_range

    try:
        fmt, remedy = get_format(args.format), get_remedy(args.remedy)
        calibration = np.load(args.calibration)
        artifact = open_artifact(args.artifact)
        model = load_keras_model(artifact.model_path)
        # The recipe feeds the Keras model (the debugger): in its value range, as export_one does for calibration.
        scaled = to_value_range(calibration, artifact.contract.value_range)
        quantization, details = remedy.recipe(fmt.quantization, model, scaled, RepairOptions(**args.options))
        info = {**args.info}
        info["repair"] = {**info.get("repair", {}), **details}
        record = export_one(args.artifact, fmt, calibration, model, info, out=args.out, quantization=quantization)
    except EdgecnnError as err:
        print(f"edgecnn-worker: error: {err}", file=sys.stderr)
        return err.exit_code
    print(record_json(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
