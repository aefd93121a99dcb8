"""The collection's API client against a real Dkron cluster on loopback."""

import time

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronClient, DkronError
from support.jobs import shell_job

pytestmark = pytest.mark.integration


# A job with more than the defaults, disabled: it never runs unless a test says so.
EXTRA_FIELDS = {"schedule": "@every 1h", "timezone": "Europe/Berlin", "owner": "ops",
                "metadata": {"managed_by": "hacron.dkron"}, "disabled": True}


def _job(name, **extra):
    return shell_job(name, **dict(EXTRA_FIELDS, **extra))


def test_job_written_on_leader_is_read_back_on_a_follower_and_deleted(dkron_cluster):
    leader = DkronClient(dkron_cluster.leader().api_url)
    follower_server = dkron_cluster.followers()[0]
    follower = DkronClient(follower_server.api_url)
    assert not follower.is_leader()

    echoed = leader.put_job(_job("roundtrip"))
    assert echoed["name"] == "roundtrip"

    # The follower serves reads from its own store: allow for it to lag the leader's write.
    stored = follower.wait_for_job("roundtrip", present=True, timeout=10)
    assert stored["schedule"] == "@every 1h"
    assert stored["timezone"] == "Europe/Berlin"
    assert stored["executor_config"] == {"command": "true"}
    assert stored["tags"] == {"node": "server-1:1"}
    assert stored["metadata"] == {"managed_by": "hacron.dkron"}
    assert stored["disabled"] is True
    assert stored["concurrency"] == "allow"  # the server's default when none is sent

    assert [job["name"] for job in follower.list_jobs(metadata={"managed_by": "hacron.dkron"})] == ["roundtrip"]
    assert follower.list_jobs(metadata={"managed_by": "someone-else"}) == []

    # Deleting through the follower goes to the leader over gRPC.
    deleted = follower.delete_job("roundtrip")
    assert deleted["name"] == "roundtrip"
    for server in dkron_cluster.servers:
        assert DkronClient(server.api_url).wait_for_job("roundtrip", present=False, timeout=10) is None


def test_every_server_agrees_on_one_leader(dkron_cluster):
    leaders = {DkronClient(server.api_url).leader()["Name"] for server in dkron_cluster.servers}
    assert leaders == {dkron_cluster.leader().name}
    assert sum(DkronClient(server.api_url).is_leader() for server in dkron_cluster.servers) == 1
    members = DkronClient(dkron_cluster.servers[0].api_url).members()
    assert sorted(member["Name"] for member in members) == ["server-1", "server-2", "server-3"]
    assert {member["statusText"] for member in members} == {"alive"}


def test_invalid_job_is_an_error_with_status_and_body(dkron_single):
    client = DkronClient(dkron_single.servers[0].api_url)
    with pytest.raises(DkronError) as caught:
        client.put_job(_job("Not_Valid!"))
    assert caught.value.status == 400
    assert "validation" in caught.value.body.lower()
    assert client.get_job("Not_Valid!") is None


def test_deleting_a_missing_job_reports_absent(dkron_single):
    client = DkronClient(dkron_single.servers[0].api_url)
    assert client.delete_job("never-created") is None


def test_deleting_a_parent_with_children_is_an_error_not_absent(dkron_single):
    client = DkronClient(dkron_single.servers[0].api_url)
    client.put_job(_job("parent-job"))
    client.put_job(_job("child-job", schedule="", parent_job="parent-job"))
    try:
        with pytest.raises(DkronError) as caught:
            client.delete_job("parent-job")
        assert caught.value.status == 404
        assert client.get_job("parent-job") is not None
    finally:
        client.delete_job("child-job")
        client.delete_job("parent-job")
    assert client.get_job("parent-job") is None


def test_run_job_starts_an_execution(dkron_single):
    client = DkronClient(dkron_single.servers[0].api_url)
    client.put_job(_job("run-now", disabled=False, tags={}, executor_config={"command": "echo ran-by-test"}))
    try:
        client.run_job("run-now")
        deadline = time.monotonic() + 20
        executions = []
        while time.monotonic() < deadline:
            executions = [e for e in client.executions("run-now") if e.get("finished_at", "").startswith("20")]
            if executions:
                break
            time.sleep(0.3)
        assert executions, "no finished execution within 20 s"
        assert executions[0]["success"] is True
        assert "ran-by-test" in executions[0]["output"]
    finally:
        client.delete_job("run-now")
