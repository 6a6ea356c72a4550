"""Typed errors of the runtime. Messages name the file or value, what was expected, and the valid choices."""

from edgecnn.errors import EdgecnnError


class ContractError(EdgecnnError):
    """A model contract is missing, malformed, or does not match the model it travels with."""


class ModelLoadError(EdgecnnError):
    """A model file cannot be loaded by any available backend (broken file, unknown format, no interpreter)."""


class InputShapeError(EdgecnnError):
    """An input does not have the shape or type the model expects."""


class SourceError(EdgecnnError):
    """A camera, video, image or folder source cannot be opened or read."""


class OptionError(EdgecnnError):
    """A runtime option (threshold, smoothing, --serve address...) has a value outside its valid range."""


class OutputError(EdgecnnError):
    """A file or folder edgecnn was asked to write cannot be written there (a folder where a file should go...)."""
