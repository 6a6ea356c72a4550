"""``edgecnn deploy``: send a bundle to a device over SSH, install it in a venv, smoke-test it, switch ``current``.

The order makes a failed deploy harmless: the new version is unpacked and installed beside the active one, its smoke
test runs with its own venv, and only then does ``current`` move (an atomic rename). A bundle whose hash is already
active and smoke-tested is not sent again. ``sudo`` runs only in the ``--service`` step, and the plan says so.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable

from edgecnn.devices import steps
from edgecnn.devices.bundle import Bundle
from edgecnn.devices.errors import AcceptanceError, DeployError, ProfileError
from edgecnn.devices.profiles import DeviceProfile, load_profiles
from edgecnn.devices.ssh import SshTarget, run_remote, run_script


@dataclass(frozen=True)
class DeployOptions:
    """Where and how to install on the device."""

    prefix: str = "edgecnn"
    """Install folder on the device; a relative path is under the SSH user's home."""
    python: str = "python3"
    """The device's Python that creates the venv."""
    service: bool = False
    """Also install and start the systemd unit (runs sudo on the device)."""
    dry_run: bool = False
    """Print every step and command; connect to nothing."""


@dataclass
class DeployResult:
    """What a deploy did."""

    version: str
    """The bundle's version (16 hex digits of its SHA-256)."""
    changed: bool
    """False when that version was already active (nothing was sent)."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of each step."""
    model: str = ""
    """The model file (in the bundle) that ``current`` runs."""
    doctor: dict | None = None
    """``edgecnn doctor --json`` of the new venv on the device."""
    acceptance: dict | None = None
    """The device's acceptance report (:mod:`edgecnn.devices.accept`); None when the bundle carries none."""


def deploy(bundle: Bundle, profile: DeviceProfile, target: SshTarget, options: DeployOptions,
           say: Callable[[str], None] = print) -> DeployResult:
    """Deploys ``bundle`` to ``target``; :class:`DeployError` / :class:`ProfileError` say which step failed."""
    system_site = profile.camera == "csi"  # picamera2 comes from the OS (apt), not from PyPI
    head = steps.header(options.prefix, bundle.version, options.python, bundle.sha256, system_site, profile.name,
                        bundle.manifest.get("source", "auto"))
    plan = [steps.PROBE, *steps.INSTALL_STEPS] + ([steps.SERVICE] if options.service else [])
    if options.dry_run:
        _print_plan(bundle, target, options, head, plan, say)
        return DeployResult(bundle.version, changed=False)
    result = DeployResult(bundle.version, changed=True, model=bundle.manifest["model"])
    started = time.perf_counter()
    facts = _parse_facts(run_script(target, head + steps.PROBE.script, step="probe"))
    result.seconds["probe"] = time.perf_counter() - started
    model_suffix = PurePosixPath(bundle.manifest["model"]).suffix
    check_device(facts, profile, target.host, options.python, model_suffix)
    if facts["current"] == f"versions/{bundle.version}" and facts["installed"] == "yes":
        say(f"{target.host}: version {bundle.version} is already active in {options.prefix}: nothing to do")
        return DeployResult(bundle.version, changed=False, seconds=result.seconds, model=result.model)
    _timed(result, "upload", lambda: run_remote(target, steps.upload_command(options.prefix, bundle.version),
                                                stdin=bundle.data, step="upload"))
    say(f"[upload] sent {len(bundle.data) / 1e6:.1f} MB as {options.prefix}/incoming/{bundle.version}.tar.gz")
    for step in plan[1:]:
        if step.sudo:
            say(f"[{step.name}] runs sudo on {target.host} (asked for with --service)")
        say(f"[{step.name}] {step.says}")
        checked = _CHECKED_STEPS.get(step.name)
        if checked is not None:
            _timed(result, step.name, lambda step=step, checked=checked: checked(target, head + step.script, result,
                                                                                   say))
            continue
        _timed(result, step.name, lambda step=step: run_script(target, head + step.script, step=step.name))
    say(f"{target.host}: version {bundle.version} active in {options.prefix}/current "
        f"({sum(result.seconds.values()):.1f} s)")
    return result


def _run_doctor(target: SshTarget, script: str, result: DeployResult, say: Callable[[str], None]) -> None:
    done = run_remote(target, "sh -s", stdin=script.encode(), step="doctor", check=False)
    try:
        result.doctor = json.loads(done.stdout.decode())
    except json.JSONDecodeError:
        raise DeployError(f"{target.host}: step 'doctor' failed (exit {done.returncode}): "
                          f"{_last(done.stderr)}") from None
    findings = result.doctor["findings"]
    for finding in findings:
        if finding["status"] in ("warn", "fail"):
            fix = f" -> {finding['fix']}" if finding["fix"] else ""
            say(f"  doctor [{finding['status']}] {finding['check']}: {finding['message']}{fix}")
    failed = [f"{f['check']}: {f['message']}" for f in findings if f["status"] == "fail"]
    if failed:
        raise DeployError(f"{target.host}: step 'doctor' found {len(failed)} problem(s) that stop the model or "
                          f"camera working there: {'; '.join(failed)}")


def _run_accept(target: SshTarget, script: str, result: DeployResult, say: Callable[[str], None]) -> None:
    from edgecnn.devices.accept import format_table

    done = run_remote(target, "sh -s", stdin=script.encode(), step="accept", check=False)
    lines = [line for line in done.stdout.decode().splitlines() if line.startswith("{")]
    if not lines:
        if done.returncode != 0:
            raise DeployError(f"{target.host}: step 'accept' failed (exit {done.returncode}): {_last(done.stderr)}")
        return  # a bundle without acceptance data (built with --no-accept)
    result.acceptance = json.loads(lines[-1])
    say(format_table(result.acceptance))
    if not result.acceptance["passed"] or done.returncode != 0:
        raise AcceptanceError(f"{target.host}: step 'accept' failed: {_last(done.stderr)}; the previous version "
                              "stays active", result.acceptance)
    result.model = result.acceptance["selected"]


def _last(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


_CHECKED_STEPS = {"doctor": _run_doctor, "accept": _run_accept}


def check_device(facts: dict[str, str], profile: DeviceProfile, host: str, python: str,
                 model_suffix: str = ".tflite") -> None:
    """The device must have the profile's CPU, one of its Pythons with an interpreter wheel, and venv."""
    if facts["arch"] != profile.arch:
        fitting = [p.name for p in load_profiles(check_wheels=False).values() if p.arch == facts["arch"]]
        raise ProfileError(f"{host} is {facts['arch']} but profile {profile.name!r} is for {profile.arch}; "
                           f"profiles for {facts['arch']}: {', '.join(fitting) or 'none'}")
    if facts["python"] == "none":
        raise DeployError(f"{host}: '{python}' does not run there; install Python 3 or pass --python")
    profile.interpreter_for(profile.release_for_python(facts["python"]), model_suffix)
    if facts["venv"] != "yes":
        raise DeployError(f"{host}: {python} has no venv/ensurepip; install python3-venv there")


def _parse_facts(text: str) -> dict[str, str]:
    facts = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    missing = {"arch", "python", "venv", "current", "installed"} - set(facts)
    if missing:
        raise DeployError(f"the device's answer to the probe step lacks {sorted(missing)}: {text!r}")
    return facts


def _timed(result: DeployResult, name: str, action: Callable[[], object]) -> None:
    started = time.perf_counter()
    action()
    result.seconds[name] = time.perf_counter() - started


def _print_plan(bundle: Bundle, target: SshTarget, options: DeployOptions, head: str, plan: list[steps.Step],
                say: Callable[[str], None]) -> None:
    say(f"dry run: deploy bundle {bundle.version} ({len(bundle.data) / 1e6:.1f} MB, profile "
        f"{bundle.manifest['profile']}, model {bundle.manifest['model']}) to {target.host}; nothing is run")
    say(f"every step runs as: {target.describe('sh -s')} < STEP SCRIPT, each script starting with:")
    say(_indent(head))
    numbered = [plan[0], steps.Step("upload", "copy the bundle (stdin)", steps.upload_command(
        options.prefix, bundle.version)), *plan[1:]]
    for number, step in enumerate(numbered, start=1):
        sudo = " [runs sudo: asked for with --service]" if step.sudo else ""
        say(f"step {number}/{len(numbered)} {step.name}: {step.says}{sudo}")
        if step.name == "probe":
            say("  stops here if the device's arch or Python does not fit the profile, and skips the rest if "
                "this version is already active")
        say(_indent(step.script.strip()))
    if not options.service:
        say("no sudo: the systemd unit is in the bundle but installed only with --service")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
