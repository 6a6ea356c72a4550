"""Typed errors of the devices stage. Messages name the profile, file or host, what was expected, and the choices."""

from edgecnn.errors import EdgecnnError


class ProfileError(EdgecnnError):
    """A device profile is unknown, malformed, or does not match the device it is used with."""


class BundleError(EdgecnnError):
    """A bundle cannot be built (no model for the profile, no wheel, no smoke images) or read."""


class DeployError(EdgecnnError):
    """A deploy step failed on the device or on the way to it (unreachable host, host key, install)."""


class SmokeTestError(DeployError):
    """The smoke test on the device gave other labels than the ones recorded at bundle time."""


class AcceptanceError(DeployError):
    """No candidate export passed the on-device acceptance (parity or benchmark); ``report`` is the device's."""

    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report
