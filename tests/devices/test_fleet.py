"""Fleet deploy against three real sshd processes on loopback ports: two install, one refuses the login; the two
still deploy, the table says which failed, the exit is non-zero, and each good host saw exactly one SSH connection
(ControlMaster) for its whole deploy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from devices_fixtures import _keygen, run_cli, start_sshd

from edgecnn.devices.errors import DeployError
from edgecnn.devices.fleet import read_inventory

PROFILE = "laptop_x86_64"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    _keygen(tmp / "user_key")
    servers = {alias: start_sshd(tmp / alias, alias, tmp / "user_key", authorized=alias != "pi-c")
               for alias in ("pi-a", "pi-b", "pi-c")}
    (tmp / "ssh_config").write_text("\n".join(s.host_entry for s in servers.values()))
    homes = {alias: tmp / f"home-{alias}" for alias in servers}
    (tmp / "inventory.txt").write_text("# the class room\n" + "".join(
        f"{alias}  prefix={homes[alias]}/edgecnn   # desk {n}\n" for n, alias in enumerate(servers, 1)))
    yield tmp, servers, homes
    for server in servers.values():
        server.stop()


def test_fleet_deploys_the_good_hosts_reports_the_bad_one_and_shares_one_connection_per_host(
        fleet, tiny_artifact, project_wheel):
    tmp, servers, homes = fleet
    result = run_cli("deploy", tiny_artifact, "--profile", PROFILE, "--inventory", tmp / "inventory.txt",
                     "--ssh-config", tmp / "ssh_config", "--wheel", project_wheel, "--parallel", "2", "--json")
    assert result.returncode == 2, result.stderr
    rows = {row["host"]: row for row in json.loads(result.stdout.strip().splitlines()[-1])}
    assert [rows[h]["status"] for h in ("pi-a", "pi-b", "pi-c")] == ["deployed", "deployed", "failed"]
    assert "pi-c: SSH refused the login" in rows["pi-c"]["message"]
    assert "pi-c: FAILED:" in result.stderr
    for alias in ("pi-a", "pi-b"):
        current = homes[alias] / "edgecnn" / "current"
        assert Path(current.readlink()) == Path("versions") / rows[alias]["version"]
        assert (current / ".smoke-passed").exists()
        # probe, upload, unpack, venv, pip, smoke, switch ... all through one connection
        assert servers[alias].accepted() == 1, servers[alias].log.read_text()[-2000:]
    assert not (homes["pi-c"] / "edgecnn").exists()
    spans = [(row["started"], row["ended"]) for row in rows.values()]
    most = max(sum(start <= t < end for start, end in spans) for t, _ in spans)
    assert most <= 2


def test_fleet_table_and_a_second_run_changes_nothing(fleet, tiny_artifact, project_wheel):
    tmp, servers, homes = fleet
    inventory = tmp / "good.txt"
    inventory.write_text("".join(f"{a} prefix={homes[a]}/edgecnn\n" for a in ("pi-a", "pi-b")))
    before = {a: servers[a].accepted() for a in ("pi-a", "pi-b")}
    result = run_cli("deploy", tiny_artifact, "--profile", PROFILE, "--inventory", inventory, "--ssh-config",
                     tmp / "ssh_config", "--wheel", project_wheel)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert sum("nothing to do" in line for line in lines) == 2
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("host ")):]
    assert table[0].split() == ["host", "profile", "status", "version", "model", "seconds", "error"]
    assert [line.split()[:3] for line in table[1:3]] == [["pi-a", PROFILE, "unchanged"], ["pi-b", PROFILE, "unchanged"]]
    assert table[-1] == "2 of 2 hosts ok"
    assert {a: servers[a].accepted() - before[a] for a in before} == {"pi-a": 1, "pi-b": 1}


def test_a_host_whose_smoke_test_fails_is_reported_and_the_others_deploy(fleet, tiny_artifact, project_wheel):
    """pi-d differs from the other devices: its OpenCV refuses images over 16 pixels (OPENCV_IO_MAX_IMAGE_PIXELS in
    every session, set by its sshd), so the installed runtime reads none of the smoke images there. Its smoke test
    fails, it never switches ``current``; pi-a, in the same run with the same bundle, is deployed; exit 2."""
    tmp, servers, homes = fleet
    odd = start_sshd(tmp / "pi-d", "pi-d", tmp / "user_key", extra_config="SetEnv OPENCV_IO_MAX_IMAGE_PIXELS=16")
    try:
        config = tmp / "ssh_config_smoke"
        config.write_text(servers["pi-a"].host_entry + "\n" + odd.host_entry)
        inventory = tmp / "smoke.txt"
        inventory.write_text(f"pi-a prefix={homes['pi-a']}/edgecnn\npi-d prefix={tmp}/home-pi-d/edgecnn\n")
        result = run_cli("deploy", tiny_artifact, "--profile", PROFILE, "--inventory", inventory, "--ssh-config",
                         config, "--wheel", project_wheel, "--json")
    finally:
        odd.stop()
    assert result.returncode == 2, result.stderr[-3000:]
    rows = {row["host"]: row for row in json.loads(result.stdout.strip().splitlines()[-1])}
    assert rows["pi-d"]["status"] == "failed", rows
    assert rows["pi-d"]["message"].startswith("pi-d: step 'smoke' failed"), rows["pi-d"]["message"]
    assert "smoke test" in rows["pi-d"]["message"] and "pi-d: FAILED:" in result.stderr
    assert rows["pi-a"]["status"] in ("deployed", "unchanged"), rows["pi-a"]  # unchanged after the first test
    current = homes["pi-a"] / "edgecnn" / "current"
    assert Path(current.readlink()) == Path("versions") / rows["pi-a"]["version"]
    assert (current / ".smoke-passed").exists()
    installed = tmp / "home-pi-d" / "edgecnn"
    assert not (installed / "current").exists()  # the switch never ran
    version = installed / "versions" / rows["pi-a"]["version"]
    assert (version / "venv" / "bin" / "edgecnn").exists() and not (version / ".smoke-passed").exists()


def test_inventory_errors_name_the_line(tmp_path):
    bad = tmp_path / "hosts.txt"
    bad.write_text("pi-1\npi-2 colour=red\n")
    with pytest.raises(DeployError, match=r"hosts.txt:2: 'colour=red' is not one of profile=VALUE, prefix=VALUE"):
        read_inventory(bad)
    bad.write_text("pi-1\npi-1 profile=rpi4\n")
    with pytest.raises(DeployError, match="hosts listed twice: pi-1"):
        read_inventory(bad)
    bad.write_text("# nobody\n\n")
    with pytest.raises(DeployError, match="names no host"):
        read_inventory(bad)
