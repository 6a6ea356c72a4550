"""``edgecnn convert`` and ``edgecnn verify``: command-line front of the conversion stage (no TensorFlow at import)."""

from __future__ import annotations

import sys
from pathlib import Path

from edgecnn.convert.formats import format_names, get_format
from edgecnn.help_format import DefaultsHelpFormatter, count


def register(subparsers) -> None:
    from edgecnn.convert.import_cli import register_import

    register_import(subparsers)
    _register_convert(subparsers)
    _register_verify(subparsers)


def _format_list() -> str:
    return "\n".join(f"  {name:22s} {get_format(name).summary}" for name in format_names())


def _register_convert(subparsers) -> None:
    parser = subparsers.add_parser(
        "convert", help="export a trained artifact to TFLite and ONNX", formatter_class=DefaultsHelpFormatter,
        description="Write every selected format beside ARTIFACT/model.keras, one at a time, each with its model "
                    f"contract inside and in a sidecar.\n\nformats:\n{_format_list()}")
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR", help="folder written by 'edgecnn train'")
    parser.add_argument("--formats", nargs="+", choices=format_names(), default=format_names(), metavar="FORMAT",
                        help="formats to write (see the list above)")
    parser.add_argument("--calib-data", type=Path, metavar="PATH",
                        help="calibration images: a folder of class folders (or <split>/<class>/, or the "
                             "Fashion-MNIST idx files); when left out: the training split the contract names")
    parser.add_argument("--calib-count", type=count(1, 1_000_000), default=300, metavar="N",
                        help="calibration images, spread evenly across the classes")
    parser.add_argument("--in-process", action="store_true",
                        help="export every format in this process (faster start, but converter memory adds up: "
                             "not for InceptionV3 on a small machine)")
    parser.set_defaults(handler=_run_convert)


def _run_convert(args) -> int:
    from tqdm import tqdm

    from edgecnn.convert.calibration import CalibrationOptions
    from edgecnn.convert.outputs import export_table
    from edgecnn.convert.runner import ConvertOptions, convert_artifact, open_artifact

    open_artifact(args.artifact)  # a missing or foreign folder is reported before any progress bar starts
    options = ConvertOptions(formats=tuple(args.formats), isolate=not args.in_process,
                             calibration=CalibrationOptions(data=args.calib_data, count=args.calib_count))
    with tqdm(total=len(options.formats), desc="convert", unit="format", file=sys.stderr) as bar:
        def done(record) -> None:
            bar.set_postfix_str(record.format)
            bar.update()

        records = convert_artifact(args.artifact, options, on_done=done,
                                   on_note=lambda note: bar.write(f"convert: {note}", file=sys.stderr))
    print(export_table(records))
    return 0


def _register_verify(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify", help="check every export against the Keras model on real images",
        formatter_class=DefaultsHelpFormatter,
        description="Run model.keras and every export on the same real images, each export through the runtime's "
                    "own preprocessing and interpreter; check names, shapes, probabilities, top-1 agreement and "
                    "accuracy against each format's tolerance, and every export in every interpreter. Exit code 1 "
                    "when any export fails.")
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR", help="folder written by 'edgecnn train'")
    parser.add_argument("--data", type=Path, metavar="PATH",
                        help="images to verify on: class folders, a root with <split>/<class>/ (the contract's "
                             "evaluation split is used, else 'test'), or the Fashion-MNIST idx files; when left out: "
                             "the evaluation split the contract names")
    parser.add_argument("--limit", type=count(1), metavar="N", help="at most N images per class (when left out: all)")
    parser.add_argument("--formats", nargs="+", choices=format_names(), metavar="FORMAT",
                        help="formats to check (when left out: every export present)")
    parser.add_argument("--min-agreement", type=float, metavar="FRACTION",
                        help="override every format's minimum top-1 agreement with Keras (e.g. 0.99)")
    parser.add_argument("--max-accuracy-drop", type=float, metavar="POINTS",
                        help="override every format's maximum accuracy drop, in percentage points")
    parser.add_argument("--max-abs-diff", type=float, metavar="DIFF",
                        help="override the maximum probability difference of the float formats")
    parser.add_argument("--tflite214-python", type=Path, metavar="PYTHON",
                        help="python of the tflite-runtime 2.14 environment (scripts/make-tflite214-env.sh); "
                             "when left out: $EDGECNN_TFLITE214_PYTHON or ./.venv-tflite214/bin/python")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the full report as JSON")
    parser.add_argument("--junit", type=Path, metavar="PATH", help="also write JUnit XML, one test case per format")
    parser.add_argument("--no-repair", action="store_true",
                        help="report a failing int8 export as it is; by default verify tries the format's remedies "
                             "(more calibration images, the debugger's worst layers in float, 16-bit activations) "
                             "and keeps the smallest re-export that passes")
    parser.add_argument("--gallery", type=Path, metavar="DIR",
                        help="write DIR/index.html: every image where an export and Keras disagree, as the model "
                             "saw it, with both top-3s and the true label")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="an earlier run's --json: fail when any format's agreement or accuracy, overall or of "
                             "any class, fell below it by more than the format's tolerance (max_regression, "
                             "max_class_regression)")
    parser.add_argument("--update-baseline", action="store_true",
                        help="accept this run: write it to --baseline FILE (atomically) when every export passes")
    parser.set_defaults(handler=_run_verify)


def _run_verify(args) -> int:
    from edgecnn.convert.baseline import check_baseline, load_baseline
    from edgecnn.convert.class_gate import class_table
    from edgecnn.convert.errors import BaselineError, ParityError
    from edgecnn.convert.outputs import details_lines, dumps_json, matrix_table, parity_table, to_junit
    from edgecnn.convert.repair import RepairOptions
    from edgecnn.convert.verify import VerifyOptions, verify_artifact
    from edgecnn.runtime.atomic import write_text_atomic

    if args.limit is not None and args.limit < 1:
        raise ParityError(f"--limit must be at least 1, got {args.limit}")
    if args.update_baseline and args.baseline is None:
        raise BaselineError("--update-baseline needs --baseline FILE (where to write it)")
    # A bad baseline fails now, not after minutes of verifying; a missing one is fine when it is being created.
    keep_missing = args.update_baseline and args.baseline is not None and not args.baseline.exists()
    baseline = load_baseline(args.baseline) if args.baseline is not None and not keep_missing else None
    options = VerifyOptions(data=args.data, limit=args.limit, formats=tuple(args.formats) if args.formats else None,
                            min_agreement=args.min_agreement, max_accuracy_drop=args.max_accuracy_drop,
                            max_abs_diff=args.max_abs_diff, tflite214_python=args.tflite214_python,
                            gallery=args.gallery, repair=None if args.no_repair else RepairOptions())
    report = verify_artifact(args.artifact, options,
                             on_progress=lambda name: print(f"verify: {name}", file=sys.stderr))
    print(parity_table(report))
    print()
    print(class_table(report))
    print()
    print(matrix_table(report))
    notes = check_baseline(report, args.baseline, baseline, args.update_baseline) if args.baseline else []
    print()
    print("\n".join(details_lines(report) + notes))
    if args.json:
        write_text_atomic(args.json, dumps_json(report))
    if args.junit:
        write_text_atomic(args.junit, to_junit(report))
    report.raise_for_failures()
    return 0
