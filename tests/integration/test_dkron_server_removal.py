"""dkron_server_removal against a real three-server cluster on loopback: refusals change nothing,
and a server killed for good stops being a Raft voter."""

import time

import pytest
import requests

from support.ansible_runs import run_module

pytestmark = pytest.mark.integration


def _args(cluster, servers, *extra):
    leader = cluster.leader()
    return " ".join(["api_url=%s" % leader.api_url, "servers=%s" % ",".join(servers),
                     "dkron_binary=%s" % cluster.binary] + list(extra))


def _status_of(server, name):
    members = requests.get(server.api_url + "/v1/members", timeout=5).json()
    return {member["Name"]: member["statusText"] for member in members}.get(name)


def test_removing_so_many_that_no_quorum_stays_is_refused_with_the_numbers(dkron_cluster_to_shrink):
    cluster = dkron_cluster_to_shrink
    keep = cluster.leader().name
    result = run_module("hacron.dkron.dkron_server_removal", _args(cluster, [keep], "require_stopped=false"),
                        check=True)
    assert result["failed"] is True
    removed = sorted(server.name for server in cluster.servers if server.name != keep)
    assert result["msg"] == (
        "refused, nothing removed: removing %s from the 3 voters would leave 1 alive (%s), fewer than the 2 a "
        "quorum of 3 needs: remove at most 1 server(s) per run, with the others alive" % (", ".join(removed), keep))
    assert cluster.voters(cluster.servers[0]) == ["server-1", "server-2", "server-3"]


def test_a_running_server_is_not_removed_and_a_plan_before_stopping_it_passes(dkron_cluster_to_shrink):
    cluster = dkron_cluster_to_shrink
    going = cluster.followers()[-1].name
    staying = sorted(server.name for server in cluster.servers if server.name != going)
    started = time.monotonic()
    refused = run_module("hacron.dkron.dkron_server_removal", _args(cluster, staying, "wait_timeout=3 wait_delay=1"))
    assert refused["failed"] is True
    assert time.monotonic() - started >= 3, "refused before waiting for the server to stop"
    assert refused["msg"] == ("refused, nothing removed: %s is still alive: stop Dkron there first (move the host "
                              "to the removed servers' group)" % going)
    planned = run_module("hacron.dkron.dkron_server_removal", _args(cluster, staying, "require_stopped=false"),
                         check=True)
    assert not planned.get("failed"), planned
    assert planned["changed"] is True and planned["removed"] == [going]
    assert cluster.voters(cluster.servers[0]) == ["server-1", "server-2", "server-3"]


def test_a_server_killed_for_good_is_removed_from_raft(dkron_cluster_to_shrink):
    cluster = dkron_cluster_to_shrink
    going = cluster.followers()[-1]
    staying = sorted(server.name for server in cluster.servers if server is not going)
    going.kill()
    witness = cluster.leader()
    deadline = time.monotonic() + 60
    while _status_of(witness, going.name) == "alive":
        assert time.monotonic() < deadline, "%s still alive after 60 s" % going.name
        time.sleep(1)
    assert sorted(cluster.voters(witness)) == ["server-1", "server-2", "server-3"]

    checked = run_module("hacron.dkron.dkron_server_removal", _args(cluster, staying), check=True)
    assert checked["changed"] is True and checked["removed"] == [going.name], checked
    assert sorted(cluster.voters(witness)) == ["server-1", "server-2", "server-3"]

    result = run_module("hacron.dkron.dkron_server_removal", _args(cluster, staying))
    assert not result.get("failed"), result
    assert result["changed"] is True and result["removed"] == [going.name] and result["voters"] == staying
    assert sorted(cluster.voters(witness)) == staying

    again = run_module("hacron.dkron.dkron_server_removal", _args(cluster, staying))
    assert not again.get("failed") and again["changed"] is False and again["removed"] == [], again


def test_the_leader_killed_for_good_is_removed_while_the_others_elect_a_new_one(dkron_cluster_to_lose_its_leader):
    cluster = dkron_cluster_to_lose_its_leader
    going = cluster.leader()
    asked = next(server for server in cluster.servers if server is not going)
    staying = sorted(server.name for server in cluster.servers if server is not going)
    # Asked at once, as retire.yml does just after removing the container: the server asked has no
    # leader to name yet, or names the dead one, and the module waits for the election.
    going.kill()
    result = run_module("hacron.dkron.dkron_server_removal",
                        " ".join(["api_url=%s" % asked.api_url, "servers=%s" % ",".join(staying),
                                  "dkron_binary=%s" % cluster.binary, "wait_delay=1"]))
    assert not result.get("failed"), result
    assert result["removed"] == [going.name] and result["voters"] == staying
    assert sorted(cluster.voters(asked)) == staying
