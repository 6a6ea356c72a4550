"""Deploying to many devices at once: an inventory, a bounded pool of SSH sessions, one result per host.

Each host gets its own thread running :func:`edgecnn.devices.deploy.deploy` over one shared SSH connection
(:func:`edgecnn.devices.ssh.shared_connection`), at most ``parallel`` hosts at a time. A host that fails is recorded
with its one-line error and never stops the others; the caller decides the exit code from the results.

Inventory file: one host per line, ``#`` starts a comment, optional ``key=value`` fields after the host::

    pi@rps-01.local
    pi@rps-02.local  profile=rpi4
    lab-pi-3         prefix=/opt/edgecnn python=python3.11
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from edgecnn.devices.deploy import DeployResult
from edgecnn.devices.errors import DeployError
from edgecnn.devices.ssh import SshTarget, shared_connection
from edgecnn.errors import EdgecnnError

INVENTORY_KEYS = ("profile", "prefix", "python")


@dataclass(frozen=True)
class HostEntry:
    """One device of a fleet; None fields take the command line's value."""

    host: str
    """``[user@]host`` or an ssh config alias."""
    profile: str | None = None
    """Device profile of this host."""
    prefix: str | None = None
    """Install folder on this host."""
    python: str | None = None
    """This host's Python."""


@dataclass
class HostResult:
    """What happened on one host."""

    host: str
    profile: str
    status: str
    """``deployed``, ``unchanged`` or ``failed``."""
    version: str = ""
    model: str = ""
    """The model file ``current`` runs (the acceptance's pick when it ran)."""
    message: str = ""
    """The error line when it failed."""
    seconds: dict[str, float] = field(default_factory=dict)
    started: float = 0.0
    """``time.monotonic()`` when this host's deploy began (tests check the bound on parallel sessions with it)."""
    ended: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def read_inventory(path: Path) -> list[HostEntry]:
    """Hosts of an inventory file; :class:`DeployError` names the file, the line and what was expected."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DeployError(f"{path}: cannot read the inventory ({err})") from None
    entries = []
    for number, raw in enumerate(lines, start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        fields = {}
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if not sep or key not in INVENTORY_KEYS or not value:
                choices = ", ".join(f"{k}=VALUE" for k in INVENTORY_KEYS)
                raise DeployError(f"{path}:{number}: {word!r} is not one of {choices}")
            fields[key] = value
        entries.append(HostEntry(words[0], **fields))
    if not entries:
        raise DeployError(f"{path}: the inventory names no host (one [user@]host per line)")
    hosts = [e.host for e in entries]
    duplicates = sorted({h for h in hosts if hosts.count(h) > 1})
    if duplicates:
        raise DeployError(f"{path}: hosts listed twice: {', '.join(duplicates)}")
    return entries


def deploy_fleet(entries: list[HostEntry], target_of: Callable[[HostEntry], SshTarget],
                 deploy_one: Callable[[HostEntry, SshTarget, Callable[[str], None]], DeployResult], parallel: int,
                 say: Callable[[str], None] = print) -> list[HostResult]:
    """Runs ``deploy_one(entry, shared_target, say)`` for every host, ``parallel`` at a time; results in host order.

    ``target_of(entry)`` is the host's :class:`SshTarget`; each host's deploy goes through one shared connection to
    it. An :class:`EdgecnnError` raised for a host becomes its ``failed`` result; the other hosts go on.
    """
    if parallel < 1:
        raise DeployError(f"--parallel must be at least 1, got {parallel}")
    lock = threading.Lock()

    def host_say(host: str) -> Callable[[str], None]:
        def _say(text: str) -> None:
            with lock:
                say(text if text.startswith(f"{host}:") else f"{host}: {text}")
        return _say

    def run(entry: HostEntry) -> HostResult:
        result = HostResult(entry.host, entry.profile or "", "failed", started=time.monotonic())
        try:
            # A short folder: a unix socket path holds at most 107 bytes.
            with tempfile.TemporaryDirectory(prefix="ec-ssh-", dir="/tmp") as control:
                with shared_connection(target_of(entry), Path(control)) as shared:
                    done = deploy_one(entry, shared, host_say(entry.host))
            result.status = "deployed" if done.changed else "unchanged"
            result.version, result.seconds, result.model = done.version, done.seconds, done.model
        except EdgecnnError as err:
            result.message = str(err)
            host_say(entry.host)(f"FAILED: {err}")
        result.ended = time.monotonic()
        return result

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="deploy") as pool:
        return list(pool.map(run, entries))


def format_table(results: list[HostResult]) -> str:
    """One row per host: status, version, model, seconds, and the error of a failed host."""
    rows = [("host", "profile", "status", "version", "model", "seconds", "error")]
    for r in results:
        rows.append((r.host, r.profile, r.status, r.version or "-", Path(r.model).name if r.model else "-",
                     f"{sum(r.seconds.values()):.1f}" if r.seconds else "-", r.message or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]
    failed = sum(r.failed for r in results)
    lines.append(f"{len(results) - failed} of {len(results)} hosts ok" + (f", {failed} failed" if failed else ""))
    return "\n".join(line.rstrip() for line in lines)


def result_json(result: HostResult) -> dict:
    data = dataclasses.asdict(result)
    data["seconds"] = {k: round(v, 2) for k, v in result.seconds.items()}
    return data
