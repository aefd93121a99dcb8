"""The Dkron cluster that site.yml formed: one leader, three voters, one config for all servers."""

import json

import pytest
import yaml

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import raft_peers
from helpers import ADDRESSES, AGENT, SERVERS, api, container, leader_name, network_mode, peer, rpc_address, voters

# Values that differ from server to server by design.
HOST_SPECIFIC = {"node-name", "bind-addr", "advertise-addr", "tags"}


def config_of(name):
    return yaml.safe_load(peer(name).file("/etc/dkron/dkron.yml").content_string)


@pytest.mark.parametrize("name", SERVERS)
def test_server_config_is_the_same_as_the_first_but_for_host_values(name):
    first = {k: v for k, v in config_of(SERVERS[0]).items() if k not in HOST_SPECIFIC}
    this = config_of(name)
    assert this["node-name"] == name
    if network_mode() == "overlay":
        # Dkron picks its address in the overlay's subnet at start (it changes on re-creation).
        assert this["bind-addr"] == '{{ GetAllInterfaces | include "network" "10.231.0.0/24" | attr "address" }}:8946'
        # Every node, servers first: an agent must be found again when all servers change address.
        assert this["retry-join"] == ["dkron-%s:8946" % node for node in SERVERS + [AGENT]]
    else:
        assert this["bind-addr"] == "%s:8946" % ADDRESSES[name]
        assert this["retry-join"] == ["%s:8946" % ADDRESSES[node] for node in SERVERS + [AGENT]]
    assert {k: v for k, v in this.items() if k not in HOST_SPECIFIC} == first
    assert "bootstrap-expect" not in this
    assert this["disable-usage-stats"] is True
    assert this["encrypt"]


def test_tags_come_from_host_vars():
    assert config_of(SERVERS[1])["tags"] == {"key": "value"}
    assert config_of(SERVERS[0])["tags"] == {}


def test_agent_config_has_the_cluster_key_and_no_api():
    agent = config_of(AGENT)
    assert agent["server"] is False
    assert "http-addr" not in agent and "bootstrap-expect" not in agent
    assert agent["encrypt"] == config_of(SERVERS[0])["encrypt"]


def test_three_voters_and_exactly_one_leader():
    listing = peer(SERVERS[0]).check_output(
        "docker exec %s dkron raft list-peers --rpc-addr %s:6868", container(SERVERS[0]), rpc_address(SERVERS[0]))
    peers = raft_peers(listing)
    assert sorted(peer["id"] for peer in peers if peer["voter"]) == SERVERS
    assert [peer["state"] for peer in peers].count("leader") == 1
    assert voters() == SERVERS


def test_all_members_alive_and_every_server_agrees_on_the_leader():
    leaders = {leader_name(name) for name in SERVERS}
    assert len(leaders) == 1 and leaders <= set(SERVERS)
    status, members = api(SERVERS[1], "/v1/members")
    assert status == 200
    assert sorted(m["Name"] for m in members) == sorted([AGENT] + SERVERS)
    assert {m["statusText"] for m in members} == {"alive"}
    assert {m["Tags"]["version"] for m in members} == {"4.1.2"}


def test_containers_stop_gracefully_and_restart_on_failure():
    inspect = json.loads(peer(SERVERS[0]).check_output("docker inspect %s", container(SERVERS[0])))[0]
    assert inspect["Config"]["StopTimeout"] == 300
    assert inspect["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    if network_mode() == "overlay":
        assert inspect["HostConfig"]["NetworkMode"] == "hacron-dkron"
        assert inspect["HostConfig"]["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    else:
        assert inspect["HostConfig"]["NetworkMode"] == "host"


def test_agent_publishes_no_port():
    inspect = json.loads(peer(AGENT).check_output("docker inspect %s", container(AGENT)))[0]
    assert not inspect["HostConfig"]["PortBindings"]
