"""Session fixtures of the runtime tests; they live in runtime_fixtures.py (a unique module name, so the helpers
there can be imported by the tests without clashing with other stages' conftest modules)."""

from runtime_fixtures import rps_avi, rps_frames, rps_video, tiny_models  # noqa: F401
