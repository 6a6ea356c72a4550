"""Typed errors of the conversion stage. Messages name the file or value, what was expected, and the choices."""

from __future__ import annotations

from edgecnn.errors import EdgecnnError


class ConversionError(EdgecnnError):
    """An export failed: unreadable source model, unknown format, a converter error, an unwritable output."""


class CalibrationError(EdgecnnError):
    """Calibration images are missing, too few, unreadable, or do not match the model's classes."""


class ParityError(EdgecnnError):
    """One or more exports disagree with the Keras model beyond their tolerance (every failure in one message)."""

    exit_code = 1

    def __init__(self, message: str, failures: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.failures = dict(failures or {})
        """Format name -> the reasons it failed."""


class BaselineError(EdgecnnError):
    """A ``--baseline`` file is missing, unreadable, not a verify document, or measured on other images."""


class ModelImportError(EdgecnnError):
    """``edgecnn import`` cannot take a model: unloadable, not an image classifier, labels that do not fit."""
