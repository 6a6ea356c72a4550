"""``edgecnn import MODEL --out ART``: a user's own .keras / .h5 / SavedModel as an artifact folder."""

from __future__ import annotations

from pathlib import Path

from edgecnn.help_format import DefaultsHelpFormatter
from edgecnn.runtime.contract import RESIZE_METHODS

EPILOG = """examples:
  edgecnn import rps.h5 --out rps --labels-from rps-dataset/train --value-range 0,1 --data rps-test-set
  edgecnn convert rps
  edgecnn verify rps"""


def register_import(subparsers) -> None:
    parser = subparsers.add_parser(
        "import", help="take your own Keras model (.keras, Keras 2 .h5, SavedModel) into an artifact folder",
        formatter_class=DefaultsHelpFormatter, epilog=EPILOG,
        description="Write an artifact folder (model.keras + its contract) that convert, verify, bench, run, "
                    "deploy and inspect accept. Input size and channels come from the model's input shape, the "
                    "classes and softmax/sigmoid from its output; labels, value range, resize method and held-out "
                    "images come from the flags below. Whatever is assumed is printed.")
    parser.add_argument("model", type=Path, metavar="MODEL",
                        help="a .keras file, a Keras 2 .h5 file (model.save('model.h5')) or a SavedModel folder")
    parser.add_argument("--out", type=Path, required=True, metavar="ART", help="artifact folder to write")
    labels = parser.add_mutually_exclusive_group()
    labels.add_argument("--labels", metavar="A,B,C", help="comma-separated labels in class-index order")
    labels.add_argument("--labels-from", type=Path, metavar="DIR",
                        help="labels = the class folders of DIR, alphabetical (the order the book's "
                             "flow_from_directory numbered them); a root with train/ is looked into")
    parser.add_argument("--value-range", metavar="LOW,HIGH", type=_range,
                        help="pixel range the model was trained on: 0,1 for the book's 1/255 scaling outside the "
                             "model, =-1,1 (with the =, as it starts with a minus), or 0,255 for a model that scales "
                             "inside (default: assumed from the model "
                             "and printed)")
    parser.add_argument("--resize", choices=RESIZE_METHODS,
                        help="how frames are resized to the model's input (default: bilinear, printed)")
    parser.add_argument("--data", type=Path, metavar="DIR",
                        help="held-out images (class folders, or a root with train/ validation/ test/) for int8 "
                             "calibration, verify and the value-range check; labels come from it when neither "
                             "--labels nor --labels-from is given")
    parser.add_argument("--force", action="store_true",
                        help="replace ART when it is already an artifact folder (its exports go with it)")
    parser.set_defaults(handler=_run_import)


def _range(text: str) -> tuple[float, float]:
    import argparse

    parts = text.split(",")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LOW,HIGH, e.g. 0,1 or -1,1 or 0,255") from None
    return low, high


def _run_import(args) -> int:
    from edgecnn.convert.import_model import ImportOptions, import_model

    labels = tuple(label.strip() for label in args.labels.split(",")) if args.labels else None
    options = ImportOptions(labels=labels, labels_from=args.labels_from, value_range=args.value_range,
                            resize=args.resize, data=args.data, force=args.force)
    result = import_model(args.model, args.out, options)
    contract = result.contract
    height, width = contract.input_size
    print(f"edgecnn import: {args.model} ({result.kind}) -> {result.out}/model.keras: {height}x{width} "
          f"{contract.channel_order}, {len(contract.labels)} classes ({', '.join(contract.labels)}), "
          f"{contract.output_activation}")
    for note in result.notes:
        print(f"edgecnn import: {note}")
    if "data" not in contract.extra:
        print("edgecnn import: no --data: pass --calib-data DIR to 'edgecnn convert' for int8 and --data DIR to "
              "'edgecnn verify'")
    print(f"next: edgecnn convert {result.out} && edgecnn verify {result.out}")
    return 0
