"""The default scenario's hosts: what every later role relies on."""

import json
import shlex
import socket

from helpers import ADDRESSES, AGENT, SERVERS, peer


def test_systemd_is_pid_1_and_booted(host):
    assert host.process.get(pid=1).comm == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state in ("running", "degraded"), state


def test_host_is_debian_12_or_13(host):
    assert host.system_info.distribution == "debian"
    assert host.system_info.release.split(".")[0] in ("12", "13")


def test_hostname_is_the_inventory_name(host):
    assert host.check_output("hostname") == host.backend.host


def test_host_can_mount_what_a_nested_docker_engine_needs(host):
    # overlay2 for the nested engine must not sit on the outer overlayfs: /var/lib/docker is a volume.
    fstype = host.check_output("findmnt -no FSTYPE --target /var/lib/docker")
    assert fstype != "overlay", fstype
    assert host.mount_point("/sys/fs/cgroup").exists


def test_hosts_reach_each_other_on_the_scenario_network(host):
    # A TCP connect to a closed port is refused (ECONNREFUSED, 111) only when the peer is reachable;
    # an unreachable one times out or says EHOSTUNREACH.
    probe = (
        "import socket; s = socket.socket(); s.settimeout(3); "
        "print(s.connect_ex(('{address}', 9)))"
    )
    for address in ADDRESSES.values():
        result = host.check_output("python3 -c %s" % shlex.quote(probe.format(address=address)))
        assert result == "111", "%s -> %s" % (address, result)


def test_docker_engine_runs_with_log_rotation(host):
    docker = host.service("docker")
    assert docker.is_running and docker.is_enabled
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["log-driver"] == "json-file"
    assert daemon["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert host.check_output("docker info --format '{{ .LoggingDriver }}'") == "json-file"


def test_every_host_is_an_active_swarm_node(host):
    assert host.check_output("docker info --format '{{ .Swarm.LocalNodeState }}'") == "active"


def test_swarm_has_three_managers_and_one_worker():
    nodes = peer(SERVERS[0]).check_output("docker node ls --format '{{ .Hostname }} {{ .ManagerStatus }} {{ .Status }}'")
    rows = sorted(line.split() for line in nodes.splitlines())
    assert [row[0] for row in rows] == sorted(SERVERS + [AGENT])
    assert all(row[-1] == "Ready" for row in rows)
    managers = [row for row in rows if len(row) == 3]
    assert len(managers) == 3
    assert sum(row[1] == "Leader" for row in managers) == 1


def test_firewall_table_is_loaded_at_boot(host):
    assert host.service("hacron-firewall").is_enabled
    rules = host.check_output("nft list table inet hacron")
    assert ADDRESSES[SERVERS[0]] in rules and ADDRESSES[AGENT] in rules


def _connects(address, port, timeout=3):
    probe = socket.socket()
    probe.settimeout(timeout)
    try:
        return probe.connect_ex((address, port)) == 0
    finally:
        probe.close()


def test_swarm_port_is_closed_to_others_and_open_to_the_cluster():
    # This test runs on the controller (the network's gateway), which is not one of the cluster's hosts.
    assert not _connects(ADDRESSES[SERVERS[1]], 2377), "the Swarm port answers a host outside the cluster"
    # A peer inside the cluster reaches it.
    result = peer(SERVERS[0]).check_output(
        "python3 -c %s",
        "import socket; s = socket.socket(); s.settimeout(3); print(s.connect_ex(('%s', 2377)))" % ADDRESSES[SERVERS[1]],
    )
    assert result == "0"
