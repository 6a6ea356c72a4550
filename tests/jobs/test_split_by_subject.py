"""scripts/split_by_subject.py on the real Horses-or-Humans set: no rendered subject on both sides of the split."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "split_by_subject.py"


def subjects(folder: Path) -> set[str]:
    return {path.stem.split("-", 1)[0] for path in folder.glob("*/*")}


def test_every_image_is_linked_once_and_no_subject_is_on_both_sides(shared_data, tmp_path):
    source, target = shared_data / "horses-or-humans", tmp_path / "by-subject"
    result = subprocess.run([sys.executable, SCRIPT, source, target], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    originals = sorted(p.name for p in source.glob("*/*/*.jpg"))
    linked = sorted(p.name for p in target.glob("*/*/*.jpg"))
    assert linked == originals
    assert all(p.resolve().is_file() for p in target.glob("*/*/*.jpg"))
    train, validation = subjects(target / "train"), subjects(target / "validation")
    assert train and validation and not train & validation
    # the shared split, by contrast, shows other poses of training subjects in validation
    assert subjects(source / "validation") <= subjects(source / "train")
    again = subprocess.run([sys.executable, SCRIPT, source, target], capture_output=True, text=True)
    assert again.returncode == 2 and again.stderr.strip().endswith("exists; remove it first")
