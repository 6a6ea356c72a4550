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
