"""Session fixtures of the devices tests; they live in devices_fixtures.py (a unique module name, so helpers there can
be imported by the tests without clashing with other stages' conftest modules)."""

from devices_fixtures import device, project_wheel, tiny_artifact  # noqa: F401
