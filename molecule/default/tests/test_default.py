"""The default scenario's hosts: what every later role relies on."""

import shlex


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
    for address in ("172.31.0.11", "172.31.0.12", "172.31.0.13", "172.31.0.21"):
        result = host.check_output("python3 -c %s" % shlex.quote(probe.format(address=address)))
        assert result == "111", "%s -> %s" % (address, result)
