"""Typed errors of the inspect stage. Messages name the file or value, what was expected, and the valid choices."""

from edgecnn.errors import EdgecnnError


class InspectError(EdgecnnError):
    """A kernel, model or layer that cannot be inspected (bad kernel file, no intermediate tensors, unknown model)."""
