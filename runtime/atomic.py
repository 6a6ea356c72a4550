"""Atomic, durable file writes: a reader sees the old file or the new one, never half of one, even after a power cut.

Write to a temporary file in the same folder, fsync it, ``os.replace`` it over the target, then fsync the folder (the
rename itself lives in the folder: without that fsync a Pi losing power can come back with the old file, or none).
Folders are swapped whole (:func:`atomic_directory`). Temporary names carry the writer's process id, so leftovers of
a process that died (SIGKILL, power cut) are recognised and swept by the next write to the same target.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edgecnn.runtime.errors import OutputError

log = logging.getLogger("edgecnn.runtime")
_RENAME_EXCHANGE = 2  # linux/fs.h: swap two paths in one step


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside ``target``; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target}: this is a folder; expected a file path to write")
    _make_parent(target)
    sweep_leftovers(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the result should look like any file the user writes
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, target)
        fsync_folder(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text_atomic(target: str | Path, text: str) -> Path:
    return write_bytes_atomic(target, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yields a fresh temporary folder beside ``target``; on success it takes ``target``'s place as a whole.

    Where the kernel can (Linux ``renameat2``), the new folder and the old one are exchanged in one step, so no
    moment exists where ``target`` is missing. Elsewhere the old folder is moved to ``.NAME.old-PID`` first, and the
    next write to ``target`` moves it back if the process died between the two renames.
    """
    target = Path(target)
    _make_parent(target)
    sweep_leftovers(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent))
    try:
        yield staging
        _fsync_tree(staging)
        if target.exists() and _exchange(staging, target):
            fsync_folder(target.parent)
            _remove(staging)  # it holds the previous version now
            return
        old = None
        if target.exists() or target.is_symlink():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
        fsync_folder(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def sweep_leftovers(target: str | Path) -> None:
    """Removes the temporary files and folders of writes to ``target`` by processes that no longer run, and puts a
    ``.NAME.old-PID`` folder back in place when ``target`` itself is missing (its writer died between renames)."""
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:old-(\d+)|(\d+)\..*\.tmp)$")
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or _alive(int(match.group(1) or match.group(2))):
            continue
        if match.group(1) and not (target.exists() or target.is_symlink()):
            os.replace(entry, target)
            log.warning("%s: restored the previous version (a write was interrupted between its renames)", target)
            continue
        _remove(entry)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def fsync_file(path: str | Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_folder(path: str | Path) -> None:
    """Makes the renames inside ``path`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the rename is then as durable as they make it
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            fsync_file(Path(folder) / name)
        fsync_folder(folder)


def _exchange(a: Path, b: Path) -> bool:
    """Swaps two paths atomically with Linux ``renameat2(RENAME_EXCHANGE)``; False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or not a pid: never touch it
    return True


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{target}: cannot make the folder {target.parent} ({err.strerror or err})") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
