"""``edgecnn bench`` and ``edgecnn pipeline``: the jobs that span several stages."""

from __future__ import annotations

import sys
from pathlib import Path

from edgecnn.help_format import DefaultsHelpFormatter, count
from edgecnn.runtime.backends import MAX_THREADS


def register(subparsers) -> None:
    _register_bench(subparsers)
    _register_pipeline(subparsers)


def _register_bench(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench", help="latency, accuracy, memory and cold start of every export", formatter_class=DefaultsHelpFormatter,
        description="One row per export format x interpreter, each measured in a fresh runtime-only process. "
                    "Accepts an artifact folder or any single .tflite/.onnx file (a model without a contract is "
                    "timed on random inputs; its accuracy is unknown).")
    parser.add_argument("target", type=Path, metavar="ARTIFACT_DIR_OR_MODEL")
    parser.add_argument("--threads", type=count(1, MAX_THREADS), default=1, help="interpreter threads")
    parser.add_argument("--runs", type=count(1, 1_000_000), default=100, help="timed invocations per row (batch 1)")
    parser.add_argument("--limit", type=count(1), default=50, help="held-out images per class for accuracy")
    parser.add_argument("--data", type=Path, help="labelled data for accuracy (default: the contract's held-out split)")
    parser.add_argument("--backend", action="append", default=[], help="only this interpreter (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=_run_bench)


def _run_bench(args) -> int:
    from edgecnn.bench import BenchError, BenchOptions, bench, format_table, rows_to_json

    if args.threads < 1 or args.runs < 1 or args.limit < 1:
        raise BenchError("--threads, --runs and --limit must be at least 1")
    rows = bench(args.target, BenchOptions(threads=args.threads, runs=args.runs, limit_per_class=args.limit,
                                           data=args.data, backends=tuple(args.backend)),
                 on_note=lambda note: print(f"edgecnn bench: {note}", file=sys.stderr))
    print(rows_to_json(rows) if args.json else format_table(rows))
    failed = [row for row in rows if row.error]
    if failed and len(failed) == len(rows):
        raise BenchError(f"every benchmark failed; first: {failed[0].file}: {failed[0].error}")
    return 0


def _register_pipeline(subparsers) -> None:
    from edgecnn.train.cli import add_build_option_flags
    from edgecnn.train.registry import model_names

    parser = subparsers.add_parser(
        "pipeline", help="train -> convert -> verify -> bench -> report for one model",
        formatter_class=DefaultsHelpFormatter,
        description="The main job: trains MODEL, exports every format, verifies parity on real held-out images, "
                    "benchmarks every export and writes report.md / report.html in the artifact folder.")
    parser.add_argument("model", nargs="?", default="fashion_cnn", choices=model_names(), metavar="MODEL",
                        help=f"one of: {', '.join(model_names())}")
    parser.add_argument("--data", type=Path, action="append", default=[], help="data root (repeatable)")
    parser.add_argument("--out", type=Path, help="artifact folder (default: artifacts/MODEL); an earlier artifact "
                                                 "there is replaced, any other folder is refused unless --force")
    parser.add_argument("--force", action="store_true",
                        help="replace --out even when it is not an edgecnn artifact folder (deletes what is there)")
    parser.add_argument("--epochs", type=count(1, 100_000), help="training epochs (default: the model's own)")
    parser.add_argument("--limit", type=count(1), help="at most this many training images per class and split")
    parser.add_argument("--formats", nargs="+", default=[], help="export formats (default: all)")
    parser.add_argument("--verify-limit", type=count(1), default=100, help="held-out images per class for verify/bench")
    parser.add_argument("--threads", type=count(1, MAX_THREADS), default=1, help="interpreter threads for bench")
    add_build_option_flags(parser)
    parser.set_defaults(handler=_run_pipeline)


def _run_pipeline(args) -> int:
    from edgecnn.pipeline import PipelineOptions, run_pipeline
    from edgecnn.train.cli import build_options_from

    options = PipelineOptions(
        model=args.model, out=args.out or Path("artifacts") / args.model, data=tuple(args.data), epochs=args.epochs,
        limit=args.limit, formats=tuple(args.formats), verify_limit=args.verify_limit, threads=args.threads,
        build_options=build_options_from(args, args.model), force=args.force)
    result = run_pipeline(options, on_stage=lambda number, total, name: print(f"\n== [{number}/{total}] {name} ==",
                                                                           flush=True),
                          on_note=lambda note: print(note, flush=True))
    print(f"edgecnn pipeline: report -> {result.report_md} and {result.report_html}")
    if not result.passed:
        print("edgecnn pipeline: some exports failed verification (see the report)")
        return 1
    return 0
