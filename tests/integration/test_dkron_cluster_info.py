"""dkron_cluster_info against a real three-server cluster, called ad hoc as a user would."""

import pytest

from support.ansible_runs import run_module

pytestmark = pytest.mark.integration


def test_reports_members_leader_and_versions(dkron_cluster):
    follower = dkron_cluster.followers()[0]
    result = run_module("hacron.dkron.dkron_cluster_info", "api_url=%s" % follower.api_url)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["answering_node"] == follower.name
    assert result["answering_node_is_leader"] is False
    assert result["leader"] == dkron_cluster.leader().name
    members = result["members"]
    assert [m["name"] for m in members] == ["server-1", "server-2", "server-3"]
    assert {m["status"] for m in members} == {"alive"}
    assert {m["version"] for m in members} == {"4.1.2"}
    assert all(m["server"] for m in members)
    assert members[0]["tags"] == {"node": "server-1"}
    assert members[0]["rpc_address"] == "127.0.0.1:%d" % dkron_cluster.servers[0].rpc_port


def test_api_url_comes_from_the_environment(dkron_cluster):
    leader = dkron_cluster.leader()
    result = run_module("hacron.dkron.dkron_cluster_info", env={"DKRON_API_URL": leader.api_url}, check=True)
    assert result["answering_node"] == leader.name
    assert result["answering_node_is_leader"] is True


def test_unreachable_api_fails_with_the_url_and_no_status():
    result = run_module("hacron.dkron.dkron_cluster_info", "api_url=http://127.0.0.1:9 timeout=1")
    assert result["failed"] is True
    assert "cannot reach Dkron at http://127.0.0.1:9" in result["msg"]
    assert result["status"] is None
