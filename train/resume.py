"""Resumable training: a backup of the run after every epoch, beside the artifact, so a killed run continues.

The backup of ``--out OUT`` is the folder ``OUT.backup/`` (on a cluster ``OUT.backup/worker-N/`` on each worker). It
holds one folder per finished epoch, ``epoch-0003/`` = the state after 3 epochs: the model's and the optimizer's
weights, the per-epoch history so far, and a fingerprint of the options that shape the run. Each epoch folder is
written under a temporary name and renamed when complete, and older ones are removed after it, so the newest
``epoch-*`` folder is always whole, whenever the process dies (SIGKILL included). Keras' own ``BackupAndRestore``
writes the weights and the epoch number as two files in place (a kill between them restores the wrong epoch) and
does not keep the history; this keeps both together. The artifact is written only at the end (atomically, by
:func:`edgecnn.train.fit.train`), so an interrupted run never touches the previous one; the backup is removed
after the artifact is in place.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgecnn.train.errors import ResumeError

STATE_FILE = "state.json"
WEIGHTS_FILE = "state.weights.h5"
_EPOCH_DIR = re.compile(r"^epoch-(\d{4,})$")


def backup_dir(out: Path, worker: int | None = None) -> Path:
    """Where the backup of the run writing ``out`` lives (``worker``: this process's rank on a cluster)."""
    root = Path(out).with_name(Path(out).name + ".backup")
    return root if worker is None else root / f"worker-{worker}"


@dataclass
class Restored:
    """What a backup gives back."""

    epoch: int
    """Epochs already trained (``fit`` continues with ``initial_epoch=epoch``)."""
    history: dict
    """The per-epoch history of those epochs."""
    weights: Path | None
    """The weights file (model and optimizer) to load, None when starting fresh."""


class Backup:
    """The backup folder of one run."""

    def __init__(self, folder: Path, fingerprint: dict):
        self.folder = Path(folder)
        self.fingerprint = fingerprint

    def epochs(self) -> list[tuple[int, Path]]:
        if not self.folder.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.folder.iterdir() for m in [_EPOCH_DIR.match(p.name)] if m]
        return sorted(item for item in found if (item[1] / STATE_FILE).is_file())

    def restore(self, resume: bool | None) -> Restored:
        """The state to continue from. ``resume``: True requires a backup, False discards it (asked for), None
        continues when one exists."""
        if resume is False and self.folder.exists():
            shutil.rmtree(self.folder)
        saved = self.epochs()
        if not saved:
            if resume:
                raise ResumeError(f"--resume: no backup in {self.folder} (it is written after each epoch and "
                                  "removed when a run finishes)")
            return Restored(0, {}, None)
        epoch, folder = saved[-1]
        state = json.loads((folder / STATE_FILE).read_text())
        if state.get("fingerprint") != self.fingerprint:
            changed = sorted(k for k in set(state.get("fingerprint", {})) | set(self.fingerprint)
                             if state.get("fingerprint", {}).get(k) != self.fingerprint.get(k))
            raise ResumeError(f"{self.folder}: the backup after epoch {epoch} is of a different run (differs in "
                              f"{', '.join(changed)}); rerun the same command to continue it, or pass --no-resume "
                              "to delete it and start over")
        return Restored(epoch, state.get("history", {}), folder / WEIGHTS_FILE)

    def save(self, model, epoch: int, history: dict) -> None:
        """Writes the state after ``epoch`` epochs as one new folder, then drops the older ones."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".epoch-", suffix=".tmp", dir=self.folder))
        try:
            model.save_weights(staging / WEIGHTS_FILE)
            state = {"epoch": epoch, "history": history, "fingerprint": self.fingerprint}
            (staging / STATE_FILE).write_text(json.dumps(state, indent=1))
            _fsync_tree(staging)
            os.replace(staging, self.folder / f"epoch-{epoch:04d}")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        for older, folder in self.epochs():
            if older < epoch:
                shutil.rmtree(folder, ignore_errors=True)
        for stale in self.folder.glob(".epoch-*.tmp"):
            if stale != staging:
                shutil.rmtree(stale, ignore_errors=True)

    def remove(self) -> None:
        """Deletes the backup (after the artifact is written), and ``OUT.backup/`` when nothing else is in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
        parent = self.folder.parent
        if parent.name.endswith(".backup") and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()


def merge_history(earlier: dict, later: dict) -> dict:
    """The history of a run that was resumed: the backed-up epochs, then the ones trained since."""
    keys = list(dict.fromkeys([*earlier, *later]))
    return {key: list(earlier.get(key, [])) + list(later.get(key, [])) for key in keys}


def BackupCallback(backup: Backup, restored: Restored):  # noqa: N802 - a Keras callback built lazily
    """Saves the state after every epoch, with the history of the whole run so far."""
    import keras

    class _Backup(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history = {key: list(values) for key, values in restored.history.items()}

        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                self.history.setdefault(key, []).append(float(value))
            backup.save(self.model, epoch + 1, self.history)

    return _Backup()


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
