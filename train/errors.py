"""Typed errors of the training stage."""

from edgecnn.errors import EdgecnnError


class UnknownModelError(EdgecnnError):
    """A model name that is not in the registry."""


class DataError(EdgecnnError):
    """Training data is missing, laid out wrongly, or does not fit the model."""


class DownloadError(EdgecnnError):
    """A dataset download failed, did not match its checksum, or its archive is unsafe."""


class WeightsError(EdgecnnError):
    """Pretrained weights cannot be had (offline without a local file, or a file that does not fit)."""


class StrategyError(EdgecnnError):
    """The distribution strategy cannot be set up (a bad ``TF_CONFIG``, a port in use, a batch that does not split)."""


class ResumeError(EdgecnnError):
    """A training backup cannot be resumed (it belongs to a different run, or ``--resume`` found none)."""
