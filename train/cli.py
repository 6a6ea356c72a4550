"""``edgecnn train`` and ``edgecnn data``: command-line front of the training stage (no TensorFlow at import)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgecnn.cli import DefaultsHelpFormatter
from edgecnn.train.augment import PRESETS
from edgecnn.train.datasets import DATASETS
from edgecnn.train.registry import get_spec, model_names
from edgecnn.train.strategy import STRATEGIES

EXAMPLE_LOG_ENV = "EDGECNN_EXAMPLE_LOG"
"""Debugging: a file each training process appends ``<index> <pixel hash>`` to for every training example its
input pipeline reads (shows the shards of a multi-worker run)."""


def register(subparsers) -> None:
    _register_train(subparsers)
    _register_data(subparsers)


def _register_train(subparsers) -> None:
    lines = "\n".join(f"  {name:22s} {get_spec(name).summary}" for name in model_names())
    parser = subparsers.add_parser(
        "train", help="train one of the chapter's models on real data", formatter_class=DefaultsHelpFormatter,
        description=f"Train a registered model and write its artifact folder.\n\nmodels:\n{lines}")
    parser.add_argument("model", choices=model_names(), metavar="MODEL", help="which model (see the list above)")
    parser.add_argument("--data", type=Path, action="append", default=[], metavar="PATH",
                        help="data root with <split>/<class>/ folders (repeat to mix sources); default: the "
                             "model's dataset under $EDGECNN_DATA, the download cache, or the OS package")
    parser.add_argument("--out", type=Path, help="artifact folder (default: artifacts/MODEL)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the model's own)")
    parser.add_argument("--batch-size", type=int, help="batch size (default: the model's own)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="augment training batches (default: the model's own)")
    parser.add_argument("--augmentation", choices=PRESETS, metavar="PRESET",
                        help=f"augmentation preset, one of {', '.join(PRESETS)}; implies --augment "
                             "(default: the model's own)")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--limit", type=int, help="at most this many images per class and split (quick runs)")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"),
                        help="learning rate over the run (default: the model's own)")
    parser.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                        help="stop after PATIENCE epochs without validation-loss improvement")
    parser.add_argument("--init-from", type=Path, metavar="ARTIFACT",
                        help="start from the weights of an earlier 'edgecnn train' folder of the same model "
                             "(continue a run, or fine-tune on new images)")
    parser.add_argument("--learning-rate", type=float, metavar="LR",
                        help="starting learning rate (default: the chapter's optimizer default)")
    parser.add_argument("--weights", default=None,
                        help="inception_transfer only: 'imagenet' (download), a path to the no-top .h5, or "
                             "'random'")
    parser.add_argument("--strategy", choices=STRATEGIES, default="auto",
                        help="tf.distribute strategy: auto = multi-worker when TF_CONFIG names a cluster, mirrored "
                             "on several GPUs, else one-device; multi-worker reads the cluster from TF_CONFIG")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=None,
                        help="continue from the backup in OUT.backup/ written after each epoch (default: when one "
                             "exists; --resume requires it, --no-resume deletes it and starts over)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="train with float16 compute (Keras mixed_float16; fast on recent GPUs, slow on CPUs); "
                             "the artifact is float32")
    parser.set_defaults(handler=_run_train)


def _run_train(args) -> int:
    import os

    from edgecnn.train.errors import DataError
    from edgecnn.train.fit import TrainOptions, train

    for name, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size), ("--limit", args.limit)):
        if value is not None and value < 1:
            raise DataError(f"{name} must be at least 1, got {value}")
    if args.learning_rate is not None and not args.learning_rate > 0:
        raise DataError(f"--learning-rate must be positive, got {args.learning_rate}")
    if args.augmentation is not None and args.augment is False:
        raise DataError(f"--augmentation {args.augmentation} contradicts --no-augment; give one of them")
    build_options = {}
    if args.weights is not None:
        if args.model != "inception_transfer":
            raise DataError(f"--weights applies to inception_transfer only, not {args.model}")
        build_options["weights"] = args.weights
    options = TrainOptions(
        model=args.model, out=args.out or Path("artifacts") / args.model, data=tuple(args.data),
        epochs=args.epochs, batch_size=args.batch_size, augment=args.augment, seed=args.seed, limit=args.limit,
        augmentation=args.augmentation,
        lr_schedule=args.lr_schedule, early_stopping=args.early_stopping, init_from=args.init_from,
        learning_rate=args.learning_rate, build_options=build_options, strategy=args.strategy, resume=args.resume,
        mixed_precision=args.mixed_precision,
        example_log=Path(os.environ[EXAMPLE_LOG_ENV]) if os.environ.get(EXAMPLE_LOG_ENV) else None,
        report=lambda line: print(line, flush=True))
    out = train(options)
    if out is None:
        print(f"edgecnn train: {args.model}: this worker is done; the chief writes the artifact")
        return 0
    metrics = json.loads((out / "metrics.json").read_text())
    print(f"edgecnn train: {args.model}: {metrics['eval_split']} accuracy {metrics['eval_accuracy']:.4f}, "
          f"train accuracy {metrics['train_accuracy']:.4f}, {metrics['train_seconds']:.0f} s -> {out}")
    return 0


def _register_data(subparsers) -> None:
    from edgecnn.train.public_sets import PUBLIC_SETS

    parser = subparsers.add_parser("data", help="list or download the chapter's datasets",
                                   formatter_class=DefaultsHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    actions.add_parser("list", help="where each dataset is found locally").set_defaults(handler=_run_data_list)
    names = sorted(DATASETS) + sorted(PUBLIC_SETS)
    download = actions.add_parser(
        "download", help="download and verify a dataset (needs internet)", formatter_class=DefaultsHelpFormatter,
        description="NAME is a dataset of the models (" + ", ".join(sorted(DATASETS)) + ") or one of the image "
                    "sets the tests use (" + ", ".join(sorted(PUBLIC_SETS)) + "), rebuilt from its public source "
                    "as ../shared/data holds it.")
    download.add_argument("name", choices=names, metavar="NAME", help=f"one of: {', '.join(names)}")
    download.add_argument("--to", type=Path, help="target folder (default: ~/.cache/edgecnn/datasets/NAME, or "
                                                  "~/.cache/edgecnn/data/NAME for the test sets)")
    download.add_argument("--allow-encoder-drift", action="store_true",
                          help="test sets: accept images whose JPEG bytes differ from the reference because "
                               "another Pillow encoded them (names and counts must still match)")
    download.set_defaults(handler=_run_data_download)


def _run_data_list(args) -> int:
    from edgecnn.train.datasets import download_hint, find_roots
    from edgecnn.train.errors import DataError
    from edgecnn.train.public_sets import PUBLIC_SETS
    from edgecnn.train.set_download import default_root

    for name, spec in sorted(DATASETS.items()):
        try:
            where = ", ".join(map(str, find_roots(spec)))
        except DataError:
            where = f"not found locally: {download_hint(spec)}"
        print(f"{name:18s} {', '.join(spec.labels)}\n{'':18s} {where}")
    for name, public in sorted(PUBLIC_SETS.items()):
        where = default_root(public)
        state = str(where) if where.is_dir() else f"not downloaded (edgecnn data download {name})"
        print(f"{name:18s} test set, {sum(public.counts.values())} images, {public.licence}\n{'':18s} {state}")
    return 0


def _run_data_download(args) -> int:
    import sys

    from edgecnn.train.public_sets import PUBLIC_SETS

    if args.name in PUBLIC_SETS:
        from edgecnn.train.set_download import download_public_set

        done = download_public_set(PUBLIC_SETS[args.name], args.to, allow_encoder_drift=args.allow_encoder_drift,
                                   progress=lambda message: print(f"edgecnn data: {message}", file=sys.stderr))
        for archive in done.archives:
            how = "matches its pinned SHA-256" if archive.pinned_before else "SHA-256 pinned now (first download)"
            print(f"edgecnn data: {archive.source.url}: {archive.sha256} {how}")
        check = ("byte-identical to the reference" if done.fingerprint_matches
                 else "names and counts match; JPEG bytes differ from the reference (--allow-encoder-drift)")
        print(f"edgecnn data: {args.name}: {done.images} images, {check} -> {done.root}")
        return 0
    from edgecnn.train.download import download_dataset

    root = download_dataset(DATASETS[args.name], args.to)
    print(f"edgecnn data: {args.name} -> {root}")
    return 0
