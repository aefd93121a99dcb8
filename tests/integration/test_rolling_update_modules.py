"""dkron_update_plan, dkron_health_gate, dkron_quiet_window and dkron_update_step (the three in one
run) against a real three-server cluster."""

import json
import re
import time
from datetime import datetime

import pytest
import requests

from support.ansible_runs import run_module
from support.jobs import delete_on_leader, put_on_leader, shell_job

pytestmark = pytest.mark.integration

SERVERS = "server-1,server-2,server-3"


def test_plan_takes_the_followers_then_the_leader(dkron_cluster):
    leader = dkron_cluster.leader()
    result = run_module("hacron.dkron.dkron_update_plan", "api_url=%s servers=%s pending=%s target_version=4.1.3"
                        % (dkron_cluster.followers()[0].api_url, SERVERS, SERVERS))
    assert not result.get("failed"), result
    followers = sorted(server.name for server in dkron_cluster.followers())
    assert result["order"] == followers + [leader.name]
    assert result["next"] == followers[0]
    assert result["leader"] == leader.name
    assert result["versions"] == {"server-1": "4.1.2", "server-2": "4.1.2", "server-3": "4.1.2"}
    assert result["strategy"] == "rolling"


def test_plan_refuses_to_roll_across_the_grpc_break_unless_told_to_stop_everything(dkron_cluster):
    args = "api_url=%s servers=%s pending=server-1 target_version=4.0.8" % (dkron_cluster.servers[0].api_url, SERVERS)
    refused = run_module("hacron.dkron.dkron_update_plan", args)
    assert refused["failed"] is True
    assert "4.0.8/4.0.9" in refused["msg"] and "server-1, server-2, server-3 run 4.1.2" in refused["msg"]
    assert "full_stop" in refused["msg"]
    allowed = run_module("hacron.dkron.dkron_update_plan", args + " full_stop=true")
    assert allowed["strategy"] == "full_stop" and allowed["order"] == ["server-1"]


def test_plan_refuses_a_target_that_is_no_version_before_asking_the_cluster():
    result = run_module("hacron.dkron.dkron_update_plan",
                        "api_url=http://127.0.0.1:9 servers=a pending=a target_version=latest")
    assert result["failed"] is True
    assert "'latest' is not a Dkron version" in result["msg"]


def test_gate_passes_on_a_whole_cluster_and_reads_the_voters(dkron_cluster):
    node = dkron_cluster.followers()[0]
    urls = dict((server.name, server.api_url) for server in dkron_cluster.servers)
    result = run_module("hacron.dkron.dkron_health_gate",
                        "api_url=%s servers=%s nodes=%s version=4.1.2 dkron_binary=%s server_api_urls='%s'"
                        % (node.api_url, SERVERS, node.name, dkron_cluster.binary, json.dumps(urls)))
    assert not result.get("failed"), result
    assert result["leader"] == dkron_cluster.leader().name
    assert result["voters"] == ["server-1", "server-2", "server-3"]
    assert result["problems"] == []


def test_gate_fails_after_its_wait_naming_every_check_that_failed(dkron_cluster):
    started = time.monotonic()
    result = run_module("hacron.dkron.dkron_health_gate",
                        "api_url=%s servers=%s,server-9 nodes=server-2 version=4.1.3 dkron_binary=%s wait_timeout=3 "
                        "wait_delay=1 context='after updating server-2'"
                        % (dkron_cluster.servers[0].api_url, SERVERS, dkron_cluster.binary))
    assert result["failed"] is True
    # The message quotes the time actually waited: the 3 s timeout, or a little more when the last
    # check (it runs `dkron raft list-peers`) is slow on a loaded machine.
    waited = re.match(r"after updating server-2: the cluster is not whole after (\d+) s: ", result["msg"])
    assert waited and 3 <= int(waited.group(1)) <= time.monotonic() - started, result["msg"]
    assert "server server-9 is not a member" in result["msg"]
    assert "Raft voters are ['server-1', 'server-2', 'server-3'], expected" in result["msg"]
    assert "server-2 runs version 4.1.2, expected 4.1.3" in result["msg"]
    assert time.monotonic() - started >= 3


def test_gate_names_every_server_that_still_sees_a_departed_node_alive(dkron_cluster):
    # A running follower named as departed: both other servers still count it alive.
    node = dkron_cluster.followers()[0]
    urls = dict((server.name, server.api_url) for server in dkron_cluster.servers)
    result = run_module("hacron.dkron.dkron_health_gate",
                        "api_url=%s servers=%s excluding=%s departed=%s server_api_urls='%s' wait_timeout=2 wait_delay=1"
                        % (dkron_cluster.leader().api_url, SERVERS, node.name, node.name, json.dumps(urls)))
    assert result["failed"] is True
    others = sorted(server.name for server in dkron_cluster.servers if server.name != node.name)
    assert ["%s still sees %s alive" % (other, node.name) for other in others] == result["problems"], result


def test_quiet_window_waits_until_just_after_a_frequent_run(dkron_cluster):
    put_on_leader(dkron_cluster, shell_job("quiet-every-six", schedule="@every 6s"))
    try:
        api_url = dkron_cluster.leader().api_url
        # After a first run the server stores the job's next run time: the phase of @every.
        deadline = time.monotonic() + 20
        while requests.get(api_url + "/v1/jobs/quiet-every-six", timeout=5).json().get("success_count", 0) < 1:
            assert time.monotonic() < deadline, "the job never ran"
            time.sleep(0.5)
        result = run_module("hacron.dkron.dkron_quiet_window", "api_url=%s margin=4 wait_timeout=20" % api_url)
        assert not result.get("failed"), result
        assert result["next_due"] and result["next_due"]["jobs"] == ["quiet-every-six"], result
        quiet_from = datetime.fromisoformat(result["quiet_from"])
        next_due = datetime.fromisoformat(result["next_due"]["at"])
        assert (next_due - quiet_from).total_seconds() > 4
        assert 0 <= result["waited"] <= 7
        assert result["unknown_phase"] == []

        check = run_module("hacron.dkron.dkron_quiet_window", "api_url=%s margin=4 wait_timeout=20" % api_url,
                           check=True)
        assert check["waited"] < 1
    finally:
        delete_on_leader(dkron_cluster, "quiet-every-six")


def test_quiet_window_fails_at_once_when_jobs_are_due_more_often_than_the_margin(dkron_cluster):
    put_on_leader(dkron_cluster, shell_job("quiet-every-second", schedule="* * * * * *"))
    try:
        started = time.monotonic()
        result = run_module("hacron.dkron.dkron_quiet_window",
                            "api_url=%s margin=3 wait_timeout=30" % dkron_cluster.leader().api_url)
        assert result["failed"] is True
        assert "no 3 s without a due job within 30 s" in result["msg"]
        assert "quiet-every-second" in result["msg"]
        # Refused before sleeping: sooner than the 30 s it would otherwise have waited out (not a
        # speed target: a module run took 17 s on a loaded machine, ci36).
        assert time.monotonic() - started < 30, "it waited in vain"
    finally:
        delete_on_leader(dkron_cluster, "quiet-every-second")


def test_step_picks_a_follower_checks_the_cluster_without_it_and_waits_for_a_quiet_moment(dkron_cluster):
    put_on_leader(dkron_cluster, shell_job("step-every-six", schedule="@every 6s"))
    try:
        leader = dkron_cluster.leader()
        deadline = time.monotonic() + 20
        while requests.get(leader.api_url + "/v1/jobs/step-every-six", timeout=5).json().get("success_count", 0) < 1:
            assert time.monotonic() < deadline, "the job never ran"
            time.sleep(0.5)
        urls = dict((server.name, server.api_url) for server in dkron_cluster.servers)
        # server-9 is pending and no member yet (a server being added): excluded from the gate, in `down`.
        result = run_module("hacron.dkron.dkron_update_step",
                            "api_url=%s servers=%s,server-9 pending=%s,server-9 target_version=4.1.3 dkron_binary=%s "
                            "server_api_urls='%s' quiet_margin=4 quiet_timeout=20"
                            % (leader.api_url, SERVERS, SERVERS, dkron_cluster.binary, json.dumps(urls)))
        assert not result.get("failed"), result
        followers = sorted(server.name for server in dkron_cluster.followers())
        # A pending node that is down comes first, so that a rerun repairs it before anything else.
        assert result["order"] == ["server-9"] + followers + [leader.name]
        assert result["next"] == "server-9" and result["down"] == ["server-9"]
        assert result["leader"] == leader.name
        assert result["voters"] == ["server-1", "server-2", "server-3"]
        assert result["next_due"]["jobs"] == ["step-every-six"]
        assert 0 <= result["waited_quiet"] <= 7
    finally:
        delete_on_leader(dkron_cluster, "step-every-six")


def test_step_fails_before_the_node_when_the_cluster_is_not_whole_without_it(dkron_cluster):
    follower = dkron_cluster.followers()[0]
    # server-9 is a server that is not pending: the cluster lacks it, whichever node goes next.
    result = run_module("hacron.dkron.dkron_update_step",
                        "api_url=%s servers=%s,server-9 pending=%s target_version=4.1.3 dkron_binary=%s "
                        "wait_timeout=2 wait_delay=1" % (follower.api_url, SERVERS, follower.name, dkron_cluster.binary))
    assert result["failed"] is True
    assert result["msg"].startswith("before updating %s: the cluster is not whole after " % follower.name), result["msg"]
    assert "server server-9 is not a member" in result["msg"]
    assert result["problems"], result


def test_step_with_nothing_pending_checks_nothing(dkron_cluster):
    # A gate that could not pass (server-9 is no member): with nothing pending it is not run.
    result = run_module("hacron.dkron.dkron_update_step", json.dumps(dict(
        api_url=dkron_cluster.servers[0].api_url, servers=SERVERS.split(",") + ["server-9"], pending=[],
        target_version="4.1.3", wait_timeout=1)))
    assert not result.get("failed"), result
    assert result["next"] is None and result["order"] == []
    assert "waited_whole" not in result


def test_step_first_checks_the_node_of_the_step_before_back_on_the_target_version(dkron_cluster):
    follower = dkron_cluster.followers()[0]
    other = next(server for server in dkron_cluster.servers if server.name != follower.name)
    urls = dict((server.name, server.api_url) for server in dkron_cluster.servers)
    # The node of the step before runs 4.1.2: the gate after its step passes, then the next is picked.
    result = run_module("hacron.dkron.dkron_update_step", json.dumps(dict(
        api_url=other.api_url, servers=SERVERS.split(","), pending=[], updated=follower.name,
        target_version="4.1.2", server_api_urls=urls, dkron_binary=str(dkron_cluster.binary), wait_timeout=10)))
    assert not result.get("failed"), result
    assert result["next"] is None and 0 <= result["updated_whole"] < 10
    # On another version than the target, or no member at all: refused after the bounded wait,
    # with the step before named, and no next node picked.
    for updated, target, problem in ((follower.name, "4.1.3", "%s runs version 4.1.2, expected 4.1.3" % follower.name),
                                     ("server-9", "4.1.2", "server-9 is not a member")):
        refused = run_module("hacron.dkron.dkron_update_step", json.dumps(dict(
            api_url=other.api_url, servers=SERVERS.split(","), pending=[other.name], updated=updated,
            target_version=target, wait_timeout=2, wait_delay=1)))
        assert refused["failed"] is True, refused
        assert refused["msg"].startswith("after updating %s: the cluster is not whole after " % updated), refused["msg"]
        assert problem in refused["msg"], refused["msg"]
        assert "next" not in refused
