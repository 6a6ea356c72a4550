"""Typed errors of the training stage (data errors live in :mod:`edgecnn.data.errors`)."""

from edgecnn.errors import EdgecnnError


class UnknownModelError(EdgecnnError):
    """A model name that is not in the registry."""


class WeightsError(EdgecnnError):
    """Pretrained weights cannot be had (offline without a local file, or a file that does not fit)."""
