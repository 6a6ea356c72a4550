"""``edgecnn data``: list where the chapter's datasets are found, or download them (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

from edgecnn.data.datasets import DATASETS
from edgecnn.help_format import DefaultsHelpFormatter


def register(subparsers) -> None:
    _register_data(subparsers)


def _register_data(subparsers) -> None:
    parser = subparsers.add_parser("data", help="list or download the chapter's datasets",
                                   formatter_class=DefaultsHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    actions.add_parser("list", help="where each dataset is found locally").set_defaults(handler=_run_data_list)
    download = actions.add_parser("download", help="download and verify a dataset (needs internet)")
    download.add_argument("name", choices=sorted(DATASETS), metavar="NAME",
                          help=f"one of: {', '.join(sorted(DATASETS))}")
    download.add_argument("--to", type=Path, help="target folder (default: ~/.cache/edgecnn/datasets/NAME)")
    download.set_defaults(handler=_run_data_download)


def _run_data_list(args) -> int:
    from edgecnn.data.datasets import find_roots
    from edgecnn.data.errors import DataError

    for name, spec in sorted(DATASETS.items()):
        try:
            where = ", ".join(map(str, find_roots(spec)))
        except DataError:
            where = f"not found locally (edgecnn data download {name})" if spec.downloads else "not found locally"
        print(f"{name:18s} {', '.join(spec.labels)}\n{'':18s} {where}")
    return 0


def _run_data_download(args) -> int:
    from edgecnn.data.download import download_dataset

    root = download_dataset(DATASETS[args.name], args.to)
    print(f"edgecnn data: {args.name} -> {root}")
    return 0
