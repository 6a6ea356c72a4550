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


def test_serving_a_file_source_without_loop_says_to_add_it(shared_data, tmp_path):
    import shutil
    import socket

    folder = tmp_path / "frames"
    folder.mkdir()
    for image in sorted((shared_data / "rps-real-pi" / "validation" / "rock").glob("*.jpg"))[:2]:
        shutil.copy(image, folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_edgecnn("run", "--source", folder, "--serve", f"127.0.0.1:{port}", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "the page stops when it ends. Add --loop" in result.stdout


def test_each_stage_cli_adds_exactly_the_commands_the_dispatcher_lists_for_it():
    # `edgecnn run` imports only the module that lists "run": the lists must say what each module really adds
    import argparse
    import importlib

    from edgecnn.cli import STAGE_CLI_MODULES, build_parser

    for module_name, commands in STAGE_CLI_MODULES.items():
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module_name).register(subparsers)
        assert tuple(subparsers.choices) == commands, module_name
    full = build_parser()._subparsers._group_actions[0].choices
    assert list(full) == [command for commands in STAGE_CLI_MODULES.values() for command in commands]
    only_run = build_parser("run")._subparsers._group_actions[0].choices
    assert list(only_run) == ["run"]
