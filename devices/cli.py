"""``edgecnn devices``, ``edgecnn devices show NAME``, ``edgecnn bundle`` and ``edgecnn deploy``."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from edgecnn.cli import DefaultsHelpFormatter, count
from edgecnn.devices.profiles import BACKEND_OF, CAMERA_KINDS, get_profile, load_profiles, profile_names

DEPLOY_EXAMPLES = """examples:
  edgecnn deploy artifacts/rps --profile rpi5 --host pi@raspberrypi.local
  edgecnn deploy --model model_tflite_int8_uint8io.tflite --profile rpi_zero2w --host zero --dry-run
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
    deploy.add_argument("--host", required=True, help="[user@]host or a Host alias of your ssh config")
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
    from edgecnn.devices.smoke import default_smoke_images
    from edgecnn.runtime.model_file import read_contract

    if args.model is None and args.artifact is None:
        raise BundleError("give an artifact folder or --model FILE")
    model = choose_model(args.model or args.artifact, profile)
    if args.wheel is None:
        print("building the edgecnn wheel (pip wheel --no-deps)...", file=sys.stderr)
    wheel = args.wheel or build_wheel(workdir)
    smoke = args.smoke_images or default_smoke_images(read_contract(model).extra, args.smoke_per_class)
    return build_bundle(profile, BundleOptions(model=model, wheel=wheel, smoke_images=tuple(smoke)))


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
    from edgecnn.devices.deploy import DeployOptions, deploy
    from edgecnn.devices.ssh import SshTarget

    profile = get_profile(args.profile)
    target = SshTarget(args.host, config=args.ssh_config, options=tuple(args.ssh_option))
    options = DeployOptions(prefix=args.prefix, python=args.python, service=args.service, dry_run=args.dry_run)
    with tempfile.TemporaryDirectory(prefix="edgecnn-bundle-") as tmp:
        bundle = _make_bundle(args, profile, Path(tmp))
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    result = deploy(bundle, profile, target, options, say=say)
    if args.json:
        print(json.dumps({"host": args.host, "profile": profile.name, "version": result.version,
                          "changed": result.changed, "dry_run": args.dry_run,
                          "seconds": {k: round(v, 2) for k, v in result.seconds.items()}}))
    return 0
