"""argparse helpers every stage's command line uses (the help formatter, bounded counts): a leaf module, so a
stage CLI never imports the top one."""

from __future__ import annotations

import argparse


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults in --help and keeps the description's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # A help text that already names its default (or an empty default: None, []) gets no "(default: ...)" suffix,
        # which would otherwise read "(default: the model's own) (default: None)".
        help_text = action.help or ""
        if "default" in help_text or action.default in (None, [], argparse.SUPPRESS):
            return help_text
        return super()._get_help_string(action)


def count(low: int, high: int | None = None):
    """An argparse ``type=``: a whole number in ``[low, high]``; a value outside is refused before anything runs
    (an unbounded count reaches C code: ``--threads 100000`` crashed the interpreter)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value

    parse.__name__ = "count"
    return parse
