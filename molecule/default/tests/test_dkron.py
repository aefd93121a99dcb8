"""The Dkron cluster that site.yml formed: one leader, three voters, one config for all servers."""

import json
import os

import pytest
import testinfra
import yaml

SERVERS = ["molecule-server-1", "molecule-server-2", "molecule-server-3"]
ADDRESSES = {"molecule-server-1": "172.31.0.11", "molecule-server-2": "172.31.0.12", "molecule-server-3": "172.31.0.13"}
# Values that differ from server to server by design.
HOST_SPECIFIC = {"node-name", "bind-addr", "advertise-addr"}


def peer(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))


def config_of(host):
    return yaml.safe_load(host.file("/etc/dkron/dkron.yml").content_string)


def api(host, path):
    """GET a path of the Dkron API from the host itself (the firewall keeps others out)."""
    script = "import json, urllib.request; print(urllib.request.urlopen('http://%s:8080%s', timeout=5).read().decode())"
    address = ADDRESSES.get(host.backend.host, "172.31.0.11")
    return json.loads(host.check_output("python3 -c %s", script % (address, path)))


@pytest.mark.parametrize("name", SERVERS)
def test_server_config_is_the_same_as_the_first_but_for_host_values(name):
    first = {k: v for k, v in config_of(peer(SERVERS[0])).items() if k not in HOST_SPECIFIC}
    this = config_of(peer(name))
    assert this["node-name"] == name
    assert this["bind-addr"] == "%s:8946" % ADDRESSES[name]
    assert {k: v for k, v in this.items() if k not in HOST_SPECIFIC} == first
    assert "bootstrap-expect" not in this
    assert this["disable-usage-stats"] is True
    assert this["encrypt"]


def test_agent_config_has_the_cluster_key_and_no_api():
    agent = config_of(peer("molecule-agent-1"))
    assert agent["server"] is False
    assert "http-addr" not in agent and "bootstrap-expect" not in agent
    assert agent["encrypt"] == config_of(peer(SERVERS[0]))["encrypt"]


def test_three_voters_and_exactly_one_leader():
    server = peer(SERVERS[0])
    listing = server.check_output("docker exec dkron dkron raft list-peers --rpc-addr 172.31.0.11:6868")
    rows = [line.split() for line in listing.splitlines()[1:] if line.strip()]
    assert sorted(row[0] for row in rows if row[-1] == "true") == SERVERS
    assert [row[3] for row in rows].count("leader") == 1


def test_all_members_alive_and_every_server_agrees_on_the_leader():
    leaders = {api(peer(name), "/v1/leader")["Name"] for name in SERVERS}
    assert len(leaders) == 1 and leaders <= set(SERVERS)
    members = api(peer(SERVERS[1]), "/v1/members")
    assert sorted(m["Name"] for m in members) == ["molecule-agent-1"] + SERVERS
    assert {m["statusText"] for m in members} == {"alive"}
    assert {m["Tags"]["version"] for m in members} == {"4.1.2"}


def test_containers_stop_gracefully_and_restart_on_failure():
    inspect = json.loads(peer(SERVERS[0]).check_output("docker inspect dkron"))[0]
    assert inspect["Config"]["StopTimeout"] == 300
    assert inspect["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert inspect["HostConfig"]["NetworkMode"] == "host"
