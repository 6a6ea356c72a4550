"""Running commands on a device with the user's own OpenSSH client.

Keys, ``~/.ssh/config`` and ``known_hosts`` are the user's: edgecnn adds only ``BatchMode=yes`` (never a password or
passphrase prompt; a key agent or an unencrypted key is needed) and a connect timeout. Host-key checking stays as
the user has it, and is never turned off here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from edgecnn.devices.errors import DeployError

# ssh's own failures (host unreachable, host key, authentication) exit with 255; remote commands with their code.
SSH_FAILED = 255


@dataclass(frozen=True)
class SshTarget:
    """How to reach one device."""

    host: str
    """``[user@]host`` or a Host alias from the ssh config."""
    config: Path | None = None
    """An ssh config file to use instead of ``~/.ssh/config`` (``ssh -F``)."""
    options: tuple[str, ...] = field(default_factory=tuple)
    """Extra ``-o Key=Value`` options, as given by the user."""
    connect_timeout: int = 10
    """Seconds to wait for the connection."""
    control_path: str | None = None
    """Socket of a shared connection (ssh ControlMaster) every command of a deploy goes through; None: own ones."""

    def ssh_options(self) -> list[str]:
        command = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={self.connect_timeout}"]
        if self.config is not None:
            command += ["-F", str(self.config)]
        if self.control_path is not None:
            # auto: use the master when it is up, else connect on its own (a master that failed to start).
            command += ["-o", "ControlMaster=auto", "-o", f"ControlPath={self.control_path}", "-o",
                        "ControlPersist=no"]
        for option in self.options:
            command += ["-o", option]
        return command

    def base_command(self) -> list[str]:
        return ["ssh", *self.ssh_options(), self.host]

    def describe(self, remote: str) -> str:
        """The command line, as --dry-run prints it."""
        return shlex.join(self.base_command() + [remote])


def run_remote(target: SshTarget, remote: str, stdin: bytes | None = None, timeout: float = 1800,
               step: str = "ssh", check: bool = True) -> subprocess.CompletedProcess:
    """Runs ``remote`` (a shell command line) on the device; :class:`DeployError` with one line on failure
    (``check=False``: only when ssh itself failed; the caller reads the remote command's exit code)."""
    try:
        result = subprocess.run(target.base_command() + [remote], input=stdin, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise DeployError("the OpenSSH client 'ssh' is not installed (Debian: apt install openssh-client)") from None
    except subprocess.TimeoutExpired:
        raise DeployError(f"{target.host}: step '{step}' took more than {timeout:.0f} s; stopped") from None
    if result.returncode != 0 and (check or result.returncode == SSH_FAILED):
        raise DeployError(_failure_line(target, step, result))
    return result


def run_script(target: SshTarget, script: str, step: str, timeout: float = 1800) -> str:
    """Runs a POSIX shell script on the device (``sh -s`` reading it on stdin); its stdout as text."""
    return run_remote(target, "sh -s", stdin=script.encode(), timeout=timeout, step=step).stdout.decode()


def _failure_line(target: SshTarget, step: str, result: subprocess.CompletedProcess) -> str:
    stderr = result.stderr.decode(errors="replace")
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("Warning:")]
    last = lines[-1] if lines else "no message"
    if result.returncode == SSH_FAILED:
        if "Host key verification failed" in stderr or "No ED25519 host key is known" in stderr:
            return (f"{target.host}: host key is unknown or changed ({last}); check the device's key and add it to "
                    f"known_hosts (ssh-keyscan shows it) - edgecnn never turns host-key checking off")
        if "Permission denied" in stderr:
            return (f"{target.host}: SSH refused the login ({last}); set up key login (ssh-copy-id) - edgecnn never "
                    f"asks for passwords")
        return f"{target.host}: cannot reach the device over SSH ({last})"
    return f"{target.host}: step '{step}' failed (exit {result.returncode}): {last}"


@contextlib.contextmanager
def shared_connection(target: SshTarget, control_dir: Path, start_timeout: float = 30):
    """One SSH connection to ``target`` for everything done inside: yields the target using it.

    The master runs as ``ssh -M -N`` with its own stdio on /dev/null (a ControlPersist master started by a captured
    command would hold that command's pipes open). If it cannot connect, the commands connect on their own and
    report the real error themselves.
    """
    shared = dataclasses.replace(target, control_path=str(control_dir / "%C"))  # %C: hash of host, port and user
    command = ["ssh", "-M", "-N", *shared.ssh_options(), target.host]  # -M first: ssh keeps an option's first value
    try:
        master = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    except FileNotFoundError:
        raise DeployError("the OpenSSH client 'ssh' is not installed (Debian: apt install openssh-client)") from None
    check = ["ssh", *shared.ssh_options(), "-O", "check", target.host]
    deadline = time.monotonic() + start_timeout
    while master.poll() is None and time.monotonic() < deadline:
        if subprocess.run(check, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    try:
        yield shared
    finally:
        if master.poll() is None:
            subprocess.run(["ssh", *shared.ssh_options(), "-O", "exit", target.host], capture_output=True)
            try:
                master.wait(timeout=10)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()
