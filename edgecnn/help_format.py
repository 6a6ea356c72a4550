"""The help formatter every stage's command line uses: a leaf module, so a stage CLI never imports the top one."""

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
