"""The root of edgecnn's typed errors.

Library code raises subclasses of :class:`EdgecnnError` with a message that names the file or value, what was
expected and the valid choices. Only the CLI turns them into a one-line message and an exit code.
"""


class EdgecnnError(Exception):
    """Base class of every error edgecnn raises on purpose (bad input, missing data, broken files)."""

    exit_code = 2


class MissingDependencyError(EdgecnnError):
    """An optional dependency (an extra) is not installed."""

    def __init__(self, package: str, extra: str, purpose: str):
        super().__init__(f"{purpose} needs {package}, which is not installed: pip install 'edgecnn[{extra}]'")
        self.package = package
        self.extra = extra
