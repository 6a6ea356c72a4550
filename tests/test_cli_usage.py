"""A mistyped flag is answered by the subcommand it was given to, with that subcommand's usage."""

import pytest

from cli_helpers import run_edgecnn


@pytest.mark.parametrize("args, usage", [
    (["train", "fashion_cnn", "--epocs", "3"], "usage: edgecnn train "),
    (["data", "download", "rps-real-pi", "--frce"], "usage: edgecnn data download "),
])
def test_typo_in_a_subcommand_flag_shows_that_subcommands_usage(args, usage):
    result = run_edgecnn(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(usage), result.stderr
    assert f"unrecognized arguments: {args[-2] if args[-1] == '3' else args[-1]}" in result.stderr


def test_run_given_a_keras_model_points_at_the_exports_beside_it(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"not opened: the suffix decides")
    (tmp_path / "model_tflite_int8_uint8io.tflite").write_bytes(b"")
    result = run_edgecnn("run", "--model", tmp_path / "model.keras", "--headless")
    assert result.returncode != 0
    assert f"exports beside it: {tmp_path / 'model_tflite_int8_uint8io.tflite'}" in result.stderr
