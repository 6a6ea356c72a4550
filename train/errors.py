"""Typed errors of the training stage (data errors live in :mod:`edgecnn.data.errors`)."""

from edgecnn.errors import EdgecnnError


class UnknownModelError(EdgecnnError):
    """A model name that is not in the registry."""


class WeightsError(EdgecnnError):
    """Pretrained weights cannot be had (offline without a local file, or a file that does not fit)."""


class StrategyError(EdgecnnError):
    """The distribution strategy cannot be set up (a bad ``TF_CONFIG``, a port in use, a batch that does not split)."""


class ResumeError(EdgecnnError):
    """A training backup cannot be resumed (it belongs to a different run, or ``--resume`` found none)."""
