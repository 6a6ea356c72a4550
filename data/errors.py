"""Typed errors of the data stage."""

from edgecnn.errors import EdgecnnError


class DataError(EdgecnnError):
    """Data or an artifact folder is missing, laid out wrongly, or does not fit the model."""


class DownloadError(EdgecnnError):
    """A dataset download failed, did not match its checksum, or its archive is unsafe."""
