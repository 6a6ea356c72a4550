"""Session fixtures of the devices tests; they live in devices_fixtures.py (a unique module name, so helpers there can
be imported by the tests without clashing with other stages' conftest modules)."""

import pytest
from devices_fixtures import device, project_wheel, run_cli, tiny_artifact  # noqa: F401


@pytest.fixture
def edgecnn_cli():
    """``edgecnn_cli("deploy", ...)``: the real command line in a fresh working directory (not the checkout)."""
    return run_cli
