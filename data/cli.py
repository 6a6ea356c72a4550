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
