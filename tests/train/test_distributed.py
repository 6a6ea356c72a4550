"""``edgecnn train --strategy multi-worker``: two real worker processes on loopback ports train one fashion_cnn on
real Fashion-MNIST; and the one-line errors of a bad ``TF_CONFIG``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from edgecnn.train.errors import StrategyError
from edgecnn.train.strategy import parse_tf_config

from cli_helpers import error_lines


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def test_two_workers_train_one_model_on_different_shards(tmp_path, fashion_mnist_dir):
    ports = free_ports(2)
    out = tmp_path / "fashion_cnn"
    command = [sys.executable, "-m", "edgecnn", "train", "fashion_cnn", "--data", str(fashion_mnist_dir),
               "--limit", "30", "--epochs", "1", "--batch-size", "32", "--strategy", "multi-worker",
               "--out", str(out)]
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": tf_config(ports, index), "CUDA_VISIBLE_DEVICES": "",
               "EDGECNN_EXAMPLE_LOG": str(tmp_path / f"examples-{index}.txt")}
        workers.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True))
    try:
        results = [worker.communicate(timeout=420) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, (_stdout, stderr) in zip(workers, results):
        assert worker.returncode == 0, stderr[-3000:]
    chief_out, other_out = results[0][0], results[1][0]
    assert "strategy multi-worker: worker 0 of 2, 2 replica(s) in sync" in chief_out
    assert "chief: writes the artifact" in chief_out and "the chief writes the artifact" in other_out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["strategy"] == "multi-worker" and metrics["workers"] == 2 and metrics["replicas"] == 2
    assert metrics["train_count"] == 300 and metrics["eval_count"] == 300 and metrics["epochs_run"] == 1
    # One epoch of ~10 synchronous steps on 300 images: clearly better than chance (10%) on the test images.
    assert metrics["eval_accuracy"] > 0.3
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 1
    assert not out.with_name("fashion_cnn.backup").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["examples-0.txt", "examples-1.txt", "fashion_cnn"]
    seen = [[line.split() for line in (tmp_path / f"examples-{i}.txt").read_text().splitlines()] for i in range(2)]
    indices = [{int(index) for index, _ in lines} for lines in seen]
    hashes = [{digest for _, digest in lines} for lines in seen]
    assert [len(lines) for lines in seen] == [150, 150]  # each example read once, by one worker
    assert not indices[0] & indices[1] and indices[0] | indices[1] == set(range(300))
    assert not hashes[0] & hashes[1]  # different images, not only different numbers


@pytest.mark.parametrize("text, expected", [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', 'TF_CONFIG has no "task"'),
    ('{"task": {"type": "worker", "index": 0}}', 'TF_CONFIG has no "cluster"'),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}',
     "task.index 3 is out of range: cluster.worker has 1 address(es)"),
    ('{"cluster": {"worker": ["127.0.0.1"]}, "task": {"type": "worker", "index": 0}}', "is not host:port"),
    ('{"cluster": {"ps": ["h:1"], "worker": ["h:2"]}, "task": {"type": "worker", "index": 0}}', "['ps']"),
])
def test_bad_tf_config_names_the_problem(text, expected):
    with pytest.raises(StrategyError, match=None) as caught:
        parse_tf_config(text, check_port=False)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_a_port_in_use_is_reported_before_tensorflow_starts(edgecnn_cli, fashion_mnist_dir):
    with socket.socket() as holder:
        holder.bind(("", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(StrategyError, match=f"port {port} .* is already in use"):
            parse_tf_config(tf_config([port, port + 1], 0))
        result = edgecnn_cli("train", "fashion_cnn", "--limit", "1", "--strategy", "multi-worker",
                             env={"TF_CONFIG": tf_config([port, port + 1], 0)}, timeout=120)
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and f"port {port}" in lines[0] and "already in use" in lines[0], result.stderr
    assert "tensorflow" not in result.stderr.lower()


@pytest.mark.parametrize("env, expected", [
    ({"TF_CONFIG": "{oops"}, "TF_CONFIG is not valid JSON"),
    ({"TF_CONFIG": ""}, "--strategy multi-worker needs TF_CONFIG"),
])
def test_bad_cluster_is_a_one_line_cli_error(edgecnn_cli, env, expected):
    result = edgecnn_cli("train", "fashion_cnn", "--limit", "1", "--strategy", "multi-worker", env=env, timeout=120)
    lines = error_lines(result.stderr)
    assert result.returncode == 2 and len(lines) == 1 and expected in lines[0], result.stderr
