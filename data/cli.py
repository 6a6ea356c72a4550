"""``edgecnn data``: list where the chapter's datasets and the tests' image sets are found, or download them (no
TensorFlow)."""

from __future__ import annotations

from pathlib import Path

from edgecnn.data.datasets import DATASETS
from edgecnn.help_format import DefaultsHelpFormatter


def register(subparsers) -> None:
    _register_data(subparsers)


def _register_data(subparsers) -> None:
    from edgecnn.data.public_sets import PUBLIC_SETS

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
    crop = actions.add_parser(
        "crop-hands", help="write the hand crop the runtime's hand finder sees in every image of a folder",
        formatter_class=DefaultsHelpFormatter,
        description="SRC/<split>/<class>/<images> -> OUT/<split>/<class>/<crops>, cropped as --hand auto crops; "
                    "OUT/<split>/no-hand.txt lists the images where no hand was found.")
    crop.add_argument("src", type=Path, metavar="SRC")
    crop.add_argument("out", type=Path, metavar="OUT")
    crop.set_defaults(handler=_run_crop_hands)
    composite = actions.add_parser(
        "composite-hands", help="place every hand photo of a folder into a larger real photo, as a webcam sees it",
        formatter_class=DefaultsHelpFormatter,
        description="SRC/<split>/<class>/<hand photos> -> OUT/<split>/<class>/<640x480 frames>: each hand at a "
                    "quarter to a half of the frame height, anywhere (sometimes cut by the edge), on a photo from "
                    "the same split of BACKGROUNDS. File names are kept, so hold-out rules by name still apply.")
    composite.add_argument("src", type=Path, metavar="SRC")
    composite.add_argument("backgrounds", type=Path, metavar="BACKGROUNDS",
                           help="photos without hands, e.g. ../shared/data/cats-vs-dogs (its train/ and "
                                "validation/ serve the matching splits of SRC)")
    composite.add_argument("out", type=Path, metavar="OUT")
    composite.add_argument("--seed", type=int, default=0, help="seed of sizes, positions and background choices")
    composite.set_defaults(handler=_run_composite_hands)
    blur = actions.add_parser(
        "motion-blur", help="write a motion-blurred copy of every image of a folder (webcam frames mid-gesture)",
        formatter_class=DefaultsHelpFormatter,
        description="SRC/<split>/<class>/<images> -> OUT/<split>/<class>/<images>, each smeared along one random "
                    "direction by 3-14% of its shorter side. File names are kept, so hold-out rules by name still "
                    "apply; blur the hand-free photos too, so that blur alone never means 'a hand'.")
    blur.add_argument("src", type=Path, metavar="SRC")
    blur.add_argument("out", type=Path, metavar="OUT")
    blur.add_argument("--seed", type=int, default=0, help="seed of the smears' lengths and directions")
    blur.set_defaults(handler=_run_motion_blur)


def _run_data_list(args) -> int:
    from edgecnn.data.datasets import download_hint, find_roots
    from edgecnn.data.errors import DataError
    from edgecnn.data.public_sets import PUBLIC_SETS
    from edgecnn.data.set_download import default_root

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

    from edgecnn.data.public_sets import PUBLIC_SETS

    if args.name in PUBLIC_SETS:
        from edgecnn.data.set_download import download_public_set

        done = download_public_set(PUBLIC_SETS[args.name], args.to, allow_encoder_drift=args.allow_encoder_drift,
                                   progress=lambda message: print(f"edgecnn data: {message}", file=sys.stderr))
        for archive in done.archives:
            how = "matches its pinned SHA-256" if archive.pinned_before else "SHA-256 pinned now (first download)"
            print(f"edgecnn data: {archive.source.url}: {archive.sha256} {how}")
        check = ("byte-identical to the reference" if done.fingerprint_matches
                 else "names and counts match; JPEG bytes differ from the reference (--allow-encoder-drift)")
        print(f"edgecnn data: {args.name}: {done.images} images, {check} -> {done.root}")
        return 0
    from edgecnn.data.download import download_dataset

    root = download_dataset(DATASETS[args.name], args.to)
    print(f"edgecnn data: {args.name} -> {root}")
    return 0


def _run_crop_hands(args) -> int:
    import sys

    from edgecnn.data.hands import crop_hands
    from edgecnn.runtime.hands import HandFinder

    for split, scan in crop_hands(args.src, args.out, HandFinder.open(threads=1)).items():
        missing = f"; {len(scan.not_found)} without a hand, listed in {args.out / split / 'no-hand.txt'}"
        print(f"edgecnn data: {split}: {len(scan.paths)} crops{missing if scan.not_found else ''}")
        for line in scan.unreadable:
            print(f"edgecnn data: skipped {line}", file=sys.stderr)
    return 0


def _run_composite_hands(args) -> int:
    import sys

    from edgecnn.data.composite import CompositeOptions, composite_hands

    counts = composite_hands(args.src, args.backgrounds, args.out, CompositeOptions(seed=args.seed),
                             progress=lambda message: print(f"edgecnn data: {message}", file=sys.stderr))
    for split, done in counts.items():
        for line in done.unreadable:
            print(f"edgecnn data: skipped {line}", file=sys.stderr)
        print(f"edgecnn data: {split}: {done.written} frames -> {args.out / split}")
    return 0


def _run_motion_blur(args) -> int:
    import sys

    from edgecnn.data.motion_blur import MotionBlurOptions, blur_folder

    counts = blur_folder(args.src, args.out, MotionBlurOptions(seed=args.seed))
    for line in counts.unreadable:
        print(f"edgecnn data: skipped {line}", file=sys.stderr)
    print(f"edgecnn data: {counts.written} blurred copies -> {args.out}")
    return 0
