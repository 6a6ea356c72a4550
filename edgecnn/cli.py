"""``edgecnn <stage> ...``: one command line for every stage.

Each stage contributes its subcommands through a ``cli`` module with ``register(subparsers)``; the handlers it sets
import heavy libraries only when they run, so ``edgecnn --help`` and ``edgecnn run`` work on a Pi that has only the
runtime extra. Library code raises :class:`~edgecnn.errors.EdgecnnError`; this is the one place that prints it and
chooses the exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
import signal
import sys

from edgecnn import __version__
from edgecnn.errors import EdgecnnError

# Modules that add subcommands, in the order they appear in --help, with the commands each adds (a command line
# naming one imports only its module: `edgecnn run` on a Pi loads no other stage's CLI, ~2 MB and ~0.1 s less;
# tests/test_cli_usage.py checks the lists). A module missing here (a stage not built yet, or not installed) is
# simply left out.
STAGE_CLI_MODULES = {
    "edgecnn.train.cli": ("train",),
    "edgecnn.data.cli": ("data",),
    "edgecnn.data.record_cli": ("record",),
    "edgecnn.convert.cli": ("import", "convert", "verify"),
    "edgecnn.runtime.cli": ("run",),
    "edgecnn.devices.cli": ("devices", "bundle", "deploy", "doctor"),
    "edgecnn.inspect.cli": ("inspect",),
    "edgecnn.jobs_cli": ("bench", "pipeline"),
}


class _Parser(argparse.ArgumentParser):
    """A bad value for a known flag (``--epochs 0``, ``--threads x``) is one line; an unknown flag or a missing
    argument still shows the usage, which lists the flags there are (subparsers inherit the class)."""

    def error(self, message: str):
        if message.startswith("argument ") and not message.startswith("argument COMMAND"):
            self.exit(2, f"{self.prog}: error: {message}\n")
        super().error(message)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``command`` (one of them), only that command's stage is imported."""
    owners = [module for module, commands in STAGE_CLI_MODULES.items() if command in commands]
    parser = _Parser(
        prog="edgecnn",
        description="Train, convert, verify and run the chapter's CNN image classifiers, down to a Raspberry Pi.",
    )
    parser.add_argument("--version", action="version", version=f"edgecnn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in owners or STAGE_CLI_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            # A stage that is not there (not built yet) is left out; a missing third-party library is a real error.
            if err.name and module_name.startswith(err.name) and err.name.startswith("edgecnn"):
                continue
            raise
        module.register(subparsers)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, systemd stop) raised in the main thread: unwinds exactly like Ctrl-C, so staging folders
    are removed, a video being saved is finished, and the previous artifact stays intact."""


def main(argv: list[str] | None = None) -> int:
    from edgecnn import quiet_tf

    quiet_tf.install()  # before any stage imports TensorFlow
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(words[0] if words else None)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the subcommand that got them, not the top-level one
        _innermost_parser(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    prefix = f"edgecnn {args.command}"
    try:
        with _sigterm_as_interrupt():
            _check_finite(args)
            result = args.handler(args)
    except EdgecnnError as err:
        print(f"{prefix}: error: {err}", file=sys.stderr)
        return err.exit_code
    except Terminated:
        print(f"{prefix}: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (``edgecnn run --headless | head``): stop quietly, as cat does.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except OSError as err:  # the environment, not edgecnn: a full disk, a read-only folder, a vanished file
        where = f"{err.filename}: " if err.filename else ""
        print(f"{prefix}: error: {where}{err.strerror or err}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - the last line of the one-line promise; a bug, said as one
        if os.environ.get("EDGECNN_TRACEBACK"):
            raise
        text = (str(err).strip().splitlines() or [""])[0][:300]
        print(f"{prefix}: internal error: {type(err).__name__}: {text} (a bug in edgecnn: please report it; "
              f"EDGECNN_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return 70
    return int(result or 0)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises :class:`Terminated` in the main thread while a command runs; the old handler comes back after."""
    def terminate(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (main() called from a worker thread): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_finite(args: argparse.Namespace) -> None:
    """Every float option must be a finite number: ``--fps nan`` would otherwise pass every ``<``/``>`` check."""
    for name, value in vars(args).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, float) and not math.isfinite(item):
                raise UsageError(f"--{name.replace('_', '-')} {item}: expected a finite number")


class UsageError(EdgecnnError):
    """A command-line value no command can use (checked before the command runs)."""


def _innermost_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the deepest subcommand chosen in ``args``, e.g. ``edgecnn data download``'s."""
    while True:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, actions[0].dest, None) if actions else None
        if chosen is None:
            return parser
        parser = actions[0].choices[chosen]
