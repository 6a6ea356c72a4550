"""Re-splits an image folder so that no subject is in both train and validation, as links to the original files.

    python scripts/split_by_subject.py ../shared/data/horses-or-humans artifacts/data/horses-or-humans-by-subject

Horses-or-Humans renders each CGI horse or human in many poses (``horse01-0.jpg``, ``horse01-1.jpg``, ...). The
validation split in ../shared/data was cut from the training set by file-name hash, so every one of its 62 subjects
also appears in train, in other poses: a model that memorises subjects scores near 100% there and the chapter's
point, that augmentation helps on unseen images, cannot show. Here the subject (the name before the first ``-``)
decides the split, by the rule training uses for sources without a held-out split (one name in five, by SHA-1;
``edgecnn.data.splits.held_out_by_name``): a held-out subject is validation, with every pose of it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from edgecnn.data.splits import held_out_by_name
from edgecnn.runtime.atomic import atomic_directory


def subject_of(path: Path) -> str:
    return path.stem.split("-", 1)[0]


def split_by_subject(source: Path, target: Path) -> dict[str, int]:
    """Links every ``source/<split>/<class>/<file>`` into ``target/{train,validation}/<class>/``; returns counts."""
    if target.exists():
        raise FileExistsError(f"{target} exists; remove it first")
    counts = {"train": 0, "validation": 0}
    with atomic_directory(target) as staging:
        for path in sorted(source.glob("*/*/*")):
            if not path.is_file() or path.parent.parent.name.startswith("."):
                continue
            split = "validation" if held_out_by_name(subject_of(path)) else "train"
            link = staging / split / path.parent.name / path.name
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path.resolve(), link)
            counts[split] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    try:
        counts = split_by_subject(args.source, args.target)
    except FileExistsError as err:
        parser.exit(2, f"split_by_subject.py: {err}\n")
    print(f"{args.target}: {counts['train']} train, {counts['validation']} validation images")


if __name__ == "__main__":
    main()
