"""``edgecnn train``: command-line front of the training stage (no TensorFlow at import)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edgecnn.help_format import DefaultsHelpFormatter, count
from edgecnn.train.augment import PRESETS
from edgecnn.train.registry import get_spec, model_names
from edgecnn.train.strategy import STRATEGIES

EXAMPLE_LOG_ENV = "EDGECNN_EXAMPLE_LOG"
"""Debugging: a file each training process appends ``<index> <pixel hash>`` to for every training example its
input pipeline reads (shows the shards of a multi-worker run)."""


def register(subparsers) -> None:
    _register_train(subparsers)


def _register_train(subparsers) -> None:
    lines = "\n".join(f"  {name:22s} {get_spec(name).summary}" for name in model_names())
    parser = subparsers.add_parser(
        "train", help="train one of the chapter's models on real data", formatter_class=DefaultsHelpFormatter,
        description=f"Train a registered model and write its artifact folder.\n\nmodels:\n{lines}")
    parser.add_argument("model", choices=model_names(), metavar="MODEL", help="which model (see the list above)")
    parser.add_argument("--data", type=Path, action="append", default=[], metavar="PATH",
                        help="data root with <split>/<class>/ folders (repeat to mix sources); default: the "
                             "model's dataset under $EDGECNN_DATA, the download cache, or the OS package")
    parser.add_argument("--no-hand-data", type=Path, action="append", default=[], metavar="PATH",
                        help="hand-landmark models: a root of photos without hands (repeatable); the hands the finder "
                             "imagines in them train the 'none' class; default: the cats-vs-dogs set")
    parser.add_argument("--no-hand-stills", type=Path, action="append", default=[], metavar="PATH",
                        help="hand-feature models: more photos without hands, read only as they are (--no-hand-data "
                             "is also read enlarged to a camera frame, several times the finding time)")
    parser.add_argument("--no-hand-frames", type=Path, action="append", default=[], metavar="PATH",
                        help="hand-feature models: more photos without hands, read only enlarged to a camera frame")
    parser.add_argument("--train-only-data", type=Path, action="append", default=[], metavar="PATH",
                        help="hand-feature models: one of the --data roots to train on whole, nothing of it held out "
                             "(its file names tell no person or clip apart; measure it by leaving it out)")
    parser.add_argument("--out", type=Path, help="artifact folder (default: artifacts/MODEL); an earlier artifact "
                                                 "there is replaced, any other folder is refused unless --force")
    parser.add_argument("--force", action="store_true",
                        help="replace --out even when it is not an edgecnn artifact folder (deletes what is there)")
    parser.add_argument("--epochs", type=count(1, 100_000), help="epochs (default: the model's own)")
    parser.add_argument("--batch-size", type=count(1, 65_536), help="batch size (default: the model's own)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="augment training batches (default: the model's own)")
    parser.add_argument("--augmentation", choices=PRESETS, metavar="PRESET",
                        help=f"augmentation preset, one of {', '.join(PRESETS)}; implies --augment "
                             "(default: the model's own)")
    parser.add_argument("--seed", type=count(0, 2**32 - 1), default=42, help="random seed")
    parser.add_argument("--limit", type=count(1), help="at most this many images per class and split (quick runs)")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"),
                        help="learning rate over the run (default: the model's own)")
    parser.add_argument("--early-stopping", type=count(1), metavar="PATIENCE",
                        help="stop after PATIENCE epochs without validation-loss improvement")
    parser.add_argument("--init-from", type=Path, metavar="ARTIFACT",
                        help="start from the weights of an earlier 'edgecnn train' folder of the same model "
                             "(continue a run, or fine-tune on new images)")
    parser.add_argument("--learning-rate", type=float, metavar="LR",
                        help="starting learning rate (default: the chapter's optimizer default)")
    add_build_option_flags(parser)
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

    from edgecnn.data.artifact import replacement_note
    from edgecnn.data.errors import DataError
    from edgecnn.train.fit import TrainOptions, train

    if args.learning_rate is not None and not args.learning_rate > 0:
        raise DataError(f"--learning-rate must be positive, got {args.learning_rate}")
    if args.augmentation is not None and args.augment is False:
        raise DataError(f"--augmentation {args.augmentation} contradicts --no-augment; give one of them")
    build_options = build_options_from(args, args.model)
    options = TrainOptions(
        model=args.model, out=args.out or Path("artifacts") / args.model, data=tuple(args.data),
        no_hand_data=tuple(args.no_hand_data), train_only_data=tuple(args.train_only_data),
        no_hand_stills=tuple(args.no_hand_stills), no_hand_frames=tuple(args.no_hand_frames),
        epochs=args.epochs, batch_size=args.batch_size, augment=args.augment, seed=args.seed, limit=args.limit,
        augmentation=args.augmentation,
        lr_schedule=args.lr_schedule, early_stopping=args.early_stopping, init_from=args.init_from,
        learning_rate=args.learning_rate, build_options=build_options, strategy=args.strategy, resume=args.resume,
        mixed_precision=args.mixed_precision,
        example_log=Path(os.environ[EXAMPLE_LOG_ENV]) if os.environ.get(EXAMPLE_LOG_ENV) else None,
        report=lambda line: print(line, flush=True), force=args.force)
    note = replacement_note(options.out, options.force)
    if note:
        print(f"edgecnn train: when training succeeds: {note}", file=sys.stderr, flush=True)
    out = train(options, on_note=lambda note: print(f"edgecnn train: {note}", file=sys.stderr))
    if out is None:
        print(f"edgecnn train: {args.model}: this worker is done; the chief writes the artifact")
        return 0
    metrics = json.loads((out / "metrics.json").read_text())
    print(f"edgecnn train: {args.model}: {metrics['eval_split']} accuracy {metrics['eval_accuracy']:.4f}, "
          f"train accuracy {metrics['train_accuracy']:.4f}, {metrics['train_seconds']:.0f} s -> {out}")
    return 0


def _models_with(option: str) -> list[str]:
    return [name for name in model_names() if option in get_spec(name).build_options]


def add_build_option_flags(parser) -> None:
    """One ``--<option>`` flag per build option any registered model declares (``ModelSpec.build_options``)."""
    options = sorted({option for name in model_names() for option in get_spec(name).build_options})
    for option in options:
        models = _models_with(option)
        texts = {get_spec(name).build_options[option] for name in models}
        help_text = "; ".join(f"{name}: {get_spec(name).build_options[option]}" for name in models) \
            if len(texts) > 1 else texts.pop()
        parser.add_argument(f"--{option.replace('_', '-')}", dest=option, default=None,
                            help=f"{', '.join(models)} only: {help_text}")


def build_options_from(args, model: str) -> dict:
    """The build options given on the command line; :class:`DataError` for one that ``model`` does not take."""
    from edgecnn.data.errors import DataError

    given = {}
    for option in sorted({option for name in model_names() for option in get_spec(name).build_options}):
        value = getattr(args, option, None)
        if value is None:
            continue
        if option not in get_spec(model).build_options:
            raise DataError(f"--{option.replace('_', '-')} applies to {', '.join(_models_with(option))} only, "
                            f"not {model}")
        given[option] = value
    return given
