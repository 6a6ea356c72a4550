"""``edgecnn devices``, ``edgecnn devices show NAME``, ``edgecnn bundle`` and ``edgecnn deploy``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from edgecnn.devices.camera import SOURCE_HELP
from edgecnn.devices.profiles import BACKEND_OF, CAMERA_KINDS, get_profile, load_profiles, profile_names
from edgecnn.help_format import DefaultsHelpFormatter, count

DEPLOY_EXAMPLES = """examples:
  edgecnn deploy artifacts/rps --profile rpi5 --host pi@raspberrypi.local
  edgecnn deploy --model model_tflite_int8_uint8io.tflite --profile rpi_zero2w --host zero --dry-run
  edgecnn deploy artifacts/rps --profile rpi4 --inventory classroom.txt --parallel 4
  edgecnn bundle artifacts/rps --profile rpi4 --out rps-rpi4.tar.gz   # copy it over, then: sh install.sh ...
"""


def register(subparsers) -> None:
    devices = subparsers.add_parser("devices", help="list device profiles, or explain one",
                                    formatter_class=DefaultsHelpFormatter,
                                    description="Device profiles: what each device runs and what a deploy installs.")
    devices.add_argument("--json", action="store_true", help="machine-readable output")
    devices.set_defaults(handler=handle_list)
    actions = devices.add_subparsers(dest="devices_command", metavar="ACTION")
    show = actions.add_parser("show", help="explain one profile", formatter_class=DefaultsHelpFormatter)
    show.add_argument("name", choices=profile_names(), help="profile name")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=handle_show)

    bundle = subparsers.add_parser("bundle", help="write a deploy bundle (.tar.gz) for a device profile",
                                   formatter_class=DefaultsHelpFormatter, description=DEPLOY_EXAMPLES)
    _bundle_arguments(bundle)
    bundle.add_argument("--out", type=Path, required=True, help="the .tar.gz to write (atomically)")
    bundle.set_defaults(handler=handle_bundle)

    deploy = subparsers.add_parser("deploy", help="install a model on a device over SSH and smoke-test it",
                                   formatter_class=DefaultsHelpFormatter, description=DEPLOY_EXAMPLES)
    _bundle_arguments(deploy)
    deploy.add_argument("--host", action="append", default=[], metavar="HOST",
                        help="[user@]host or a Host alias of your ssh config; repeat it for several devices")
    deploy.add_argument("--inventory", type=Path, default=None,
                        help="file of hosts, one a line: HOST [profile=NAME] [prefix=DIR] [python=PY]")
    deploy.add_argument("--parallel", type=int, default=4, help="devices deployed at the same time (SSH sessions)")
    deploy.add_argument("--prefix", default="edgecnn", help="install folder on the device (relative: in its home)")
    deploy.add_argument("--python", default="python3", help="the device's Python that creates the venv")
    deploy.add_argument("--ssh-config", type=Path, default=None, help="ssh config file instead of ~/.ssh/config")
    deploy.add_argument("--ssh-option", action="append", default=[], metavar="KEY=VALUE",
                        help="extra ssh -o option (repeatable); host-key checking cannot be turned off here")
    deploy.add_argument("--service", action="store_true",
                        help="also install and start a systemd unit running 'edgecnn run --serve' (uses sudo)")
    deploy.add_argument("--dry-run", action="store_true", help="print every step and command; connect to nothing")
    deploy.add_argument("--json", action="store_true", help="print the result as one JSON line")
    deploy.set_defaults(handler=handle_deploy)

    doctor = subparsers.add_parser("doctor", help="check this device: camera, numpy, interpreter, CPU, power, heat",
                                   formatter_class=DefaultsHelpFormatter,
                                   description="Each finding is one line with its fix; exit 1 when one is 'fail'.")
    doctor.add_argument("--profile", choices=profile_names(), default=None,
                        help="device profile to check against (its camera kind and threads); default: none")
    doctor.add_argument("--source", type=_camera_source, default="auto",
                        help="the camera that will be used (decides whether missing picamera2 is a 'fail'): "
                             + SOURCE_HELP)
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(handler=handle_doctor)


def _camera_source(value: str) -> str:
    from edgecnn.devices.camera import check_source
    from edgecnn.devices.errors import ProfileError

    try:
        return check_source(value)
    except ProfileError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix(f"--source {value!r}: ")) from None


def _bundle_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", nargs="?", type=Path, default=None,
                        help="artifact folder from 'edgecnn train' + 'edgecnn convert' (or a model file)")
    parser.add_argument("--profile", required=True, choices=profile_names(), help="device profile")
    parser.add_argument("--model", type=Path, default=None,
                        help="model file to deploy instead of the profile's export from the artifact folder")
    parser.add_argument("--wheel", type=Path, default=None,
                        help="edgecnn wheel to ship; default: built now with 'pip wheel --no-deps' of this source")
    parser.add_argument("--smoke-images", type=Path, nargs="+", default=None,
                        help="images/folders for the smoke test; default: from the model's evaluation split")
    parser.add_argument("--smoke-per-class", type=count(1, 1000), default=2,
                        help="smoke images per class taken from the evaluation split")
    parser.add_argument("--accept-per-class", type=int, default=10,
                        help="held-out images per class the device checks every candidate export's parity on")
    parser.add_argument("--source", type=_camera_source, default="auto", help=SOURCE_HELP)
    parser.add_argument("--no-accept", action="store_true",
                        help="no on-device acceptance (parity + bench of each export): deploy the profile's first "
                             "export after the smoke test alone")


def handle_list(args: argparse.Namespace) -> int:
    profiles = load_profiles()
    if args.json:
        print(json.dumps({name: asdict(p) for name, p in profiles.items()}, indent=1))
        return 0
    print(f"{'profile':15} {'arch':8} {'cores':>5} {'RAM':>7} {'threads':>7} {'camera':6} {'export':22} title")
    for p in profiles.values():
        print(f"{p.name:15} {p.arch:8} {p.cores:>5} {p.ram_mb:>5}MB {p.threads:>7} {p.camera:6} "
              f"{p.export_formats[0]:22} {p.title}")
    print("\nedgecnn devices show NAME explains one.")
    return 0


def handle_show(args: argparse.Namespace) -> int:
    from edgecnn.devices import wheels

    profile = get_profile(args.name)
    if args.json:
        print(json.dumps(asdict(profile), indent=1))
        return 0
    table = wheels.load_table()
    print(f"{profile.name}: {profile.title}")
    print(f"  CPU          {profile.arch}, {profile.cores} cores; {profile.ram_mb} MB RAM; {profile.threads} threads")
    print(f"  camera       {CAMERA_KINDS[profile.camera]}, default {profile.resolution[0]}x{profile.resolution[1]}")
    print(f"  exports      {', '.join(profile.export_formats)} (first found in the artifact folder is deployed)")
    print("  OS releases and what installs there (wheel table of "
          f"{table['date']}, python -m edgecnn.devices.wheels):")
    for release in profile.os_releases:
        interpreter = release.interpreter or "none"
        backend = f" -> backend {BACKEND_OF[release.interpreter]}" if release.interpreter else ""
        print(f"    {release.name}: Python {release.python}, glibc {release.glibc}: {interpreter}{backend}")
        for package in wheels.RUNTIME_PACKAGES:
            wheel = wheels.wheel_for(table, package, profile.arch, release.python, release.glibc)
            print(f"      {package:24} {wheel['wheel'] if wheel else 'no wheel on the index'}")
    print(f"  notes        {profile.notes}")
    return 0


def _make_bundle(args: argparse.Namespace, profile, workdir: Path):
    from edgecnn.devices.bundle import BundleOptions, build_bundle, choose_model
    from edgecnn.devices.errors import BundleError
    from edgecnn.devices.project_wheel import build_wheel
    from edgecnn.devices.reference import candidate_models
    from edgecnn.devices.smoke import default_smoke_images
    from edgecnn.runtime.model_file import read_contract

    if args.model is None and args.artifact is None:
        raise BundleError("give an artifact folder or --model FILE")
    model = choose_model(args.model or args.artifact, profile)
    if args.wheel is None:
        print("building the edgecnn wheel (pip wheel --no-deps)...", file=sys.stderr)
    wheel = args.wheel or build_wheel(workdir)
    contract = read_contract(model)
    smoke = args.smoke_images or default_smoke_images(contract.extra, args.smoke_per_class, contract.labels)
    candidates = [model] if args.model else candidate_models(args.artifact, profile)
    return build_bundle(profile, BundleOptions(model=model, wheel=wheel, smoke_images=tuple(smoke),
                                               candidates=tuple(candidates), source=args.source,
                                               accept_per_class=None if args.no_accept else args.accept_per_class))


def _write_device_report(args: argparse.Namespace, host: str, profile: str, result=None, error=None) -> None:
    """The device's doctor and acceptance report, beside the artifact (or the model file)."""
    import re

    from edgecnn.runtime.atomic import write_text_atomic

    acceptance = getattr(error, "report", None) if result is None else result.acceptance
    doctor = None if result is None else result.doctor
    if acceptance is None and doctor is None:
        return
    folder = args.model.parent if args.model else args.artifact
    path = Path(folder) / f"device-report-{re.sub(r'[^A-Za-z0-9._-]', '_', host)}.json"
    write_text_atomic(path, json.dumps({"host": host, "profile": profile, "passed": error is None,
                                        "error": str(error) if error else None, "doctor": doctor,
                                        "acceptance": acceptance}, indent=1) + "\n")
    print(f"{host}: device report written to {path}", file=sys.stderr)


def _deploy_reporting(args, bundle, profile, target, options, say):
    from edgecnn.devices.deploy import deploy
    from edgecnn.devices.errors import AcceptanceError

    try:
        result = deploy(bundle, profile, target, options, say=say)
    except AcceptanceError as err:
        _write_device_report(args, target.host, profile.name, error=err)
        raise
    _write_device_report(args, target.host, profile.name, result=result)
    return result


def handle_bundle(args: argparse.Namespace) -> int:
    from edgecnn.runtime.atomic import write_bytes_atomic
    from edgecnn.runtime.errors import OutputError

    if args.out.is_dir():  # said before the bundle is built, not after
        raise OutputError(f"--out {args.out}: this is a folder; expected the .tar.gz file to write, e.g. "
                          f"{args.out / 'bundle.tar.gz'}")
    profile = get_profile(args.profile)
    with tempfile.TemporaryDirectory(prefix="edgecnn-bundle-") as tmp:
        bundle = _make_bundle(args, profile, Path(tmp))
    write_bytes_atomic(args.out, bundle.data)
    print(f"wrote {args.out} ({len(bundle.data) / 1e6:.1f} MB, sha256 {bundle.sha256}) for profile {profile.name}: "
          f"{bundle.manifest['model']}, {bundle.manifest['smoke_images']} smoke images")
    print(f"on the device: tar -xzf {args.out.name} bundle/install.sh && sh bundle/install.sh {args.out.name}")
    return 0


def handle_deploy(args: argparse.Namespace) -> int:
    from edgecnn.devices.errors import DeployError
    from edgecnn.devices.fleet import HostEntry, read_inventory

    entries = [HostEntry(host) for host in args.host] + (read_inventory(args.inventory) if args.inventory else [])
    if not entries:
        raise DeployError("give --host HOST (repeatable) or --inventory FILE")
    if len(entries) == 1 and not args.inventory:
        return _deploy_one_host(args, entries[0])
    return _deploy_fleet(args, entries)


def _deploy_options(args: argparse.Namespace, entry):
    from edgecnn.devices.deploy import DeployOptions
    from edgecnn.devices.ssh import SshTarget

    target = SshTarget(entry.host, config=args.ssh_config, options=tuple(args.ssh_option))
    return target, DeployOptions(prefix=entry.prefix or args.prefix, python=entry.python or args.python,
                                 service=args.service, dry_run=args.dry_run)


def _deploy_one_host(args: argparse.Namespace, entry) -> int:
    from edgecnn.devices.deploy import deploy
    from edgecnn.devices.ssh import shared_connection

    profile = get_profile(args.profile)
    target, options = _deploy_options(args, entry)
    with tempfile.TemporaryDirectory(prefix="edgecnn-bundle-") as tmp:
        bundle = _make_bundle(args, profile, Path(tmp))
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    if args.dry_run:
        result = deploy(bundle, profile, target, options, say=say)
    else:
        with tempfile.TemporaryDirectory(prefix="ec-ssh-", dir="/tmp") as control:
            with shared_connection(target, Path(control)) as shared:
                result = _deploy_reporting(args, bundle, profile, shared, options, say)
    if args.json:
        print(json.dumps({"host": entry.host, "profile": profile.name, "version": result.version,
                          "changed": result.changed, "dry_run": args.dry_run, "model": result.model,
                          "selected": (result.acceptance or {}).get("selected"),
                          "seconds": {k: round(v, 2) for k, v in result.seconds.items()}}))
    return 0


def _deploy_fleet(args: argparse.Namespace, entries) -> int:
    from edgecnn.devices.errors import DeployError
    from edgecnn.devices.fleet import deploy_fleet, format_table, result_json

    if args.dry_run:
        raise DeployError("--dry-run shows one host's plan: give a single --host")
    entries = [dataclasses.replace(e, profile=e.profile or args.profile) for e in entries]
    profiles = {name: get_profile(name) for name in sorted({e.profile for e in entries})}
    bundles = {}
    with tempfile.TemporaryDirectory(prefix="edgecnn-bundle-") as tmp:
        for name, profile in profiles.items():  # one bundle per profile, built before any host is contacted
            bundles[name] = _make_bundle(args, profile, Path(tmp))
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print

    def deploy_one(entry, shared, host_say):
        return _deploy_reporting(args, bundles[entry.profile], profiles[entry.profile], shared,
                                 _deploy_options(args, entry)[1], host_say)

    results = deploy_fleet(entries, lambda e: _deploy_options(args, e)[0], deploy_one, args.parallel, say)
    if args.json:
        print(json.dumps([result_json(r) for r in results]))
    else:
        print(format_table(results))
    return 2 if any(r.failed for r in results) else 0


def handle_doctor(args: argparse.Namespace) -> int:
    from edgecnn.devices import doctor

    profile = get_profile(args.profile) if args.profile else None
    findings = doctor.diagnose(camera=profile.camera if profile else None, threads=profile.threads if profile else None,
                               profile_name=args.profile, source=args.source)
    if args.json:
        print(doctor.to_json(findings))
    else:
        for finding in findings:
            print(finding.line())
    return 1 if any(f.status == "fail" for f in findings) else 0
