"""``edgecnn <stage> ...``: one command line for every stage.

Each stage contributes its subcommands through a ``cli`` module with ``register(subparsers)``; the handlers it sets
import heavy libraries only when they run, so ``edgecnn --help`` and ``edgecnn run`` work on a Pi that has only the
runtime extra. Library code raises :class:`~edgecnn.errors.EdgecnnError`; this is the one place that prints it and
chooses the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from edgecnn import __version__
from edgecnn.errors import EdgecnnError

# Modules that add subcommands, in the order they appear in --help. A module missing here (a stage not built yet,
# or not installed) is simply left out.
STAGE_CLI_MODULES = (
    "edgecnn.train.cli",
    "edgecnn.convert.cli",
    "edgecnn.runtime.cli",
    "edgecnn.devices.cli",
    "edgecnn.inspect.cli",
    "edgecnn.jobs_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgecnn",
        description="Train, convert, verify and run the chapter's CNN image classifiers, down to a Raspberry Pi.",
    )
    parser.add_argument("--version", action="version", version=f"edgecnn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in STAGE_CLI_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            # A stage that is not there (not built yet) is left out; a missing third-party library is a real error.
            if err.name and module_name.startswith(err.name) and err.name.startswith("edgecnn"):
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from edgecnn import quiet_tf

    quiet_tf.install()  # before any stage imports TensorFlow
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the subcommand that got them, with its own usage, not the top-level one
        _innermost_parser(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        result = args.handler(args)
    except EdgecnnError as err:
        print(f"edgecnn {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"edgecnn {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


def _innermost_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the deepest subcommand chosen in ``args``, e.g. ``edgecnn data download``'s."""
    while True:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, actions[0].dest, None) if actions else None
        if chosen is None:
            return parser
        parser = actions[0].choices[chosen]


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults in --help and keeps the description's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # A help text that already names its default (or an empty default: None, []) gets no "(default: ...)" suffix,
        # which would otherwise read "(default: the model's own) (default: None)".
        help_text = action.help or ""
        if "default" in help_text or action.default in (None, [], argparse.SUPPRESS):
            return help_text
        return super()._get_help_string(action)
