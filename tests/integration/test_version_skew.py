"""A Dkron 4.0.8 server and a 4.0.9 server in one cluster: it forms, but cannot run jobs across versions.

Dkron 4.0.9 renamed its gRPC services. The two servers still form one Raft cluster, yet every run the
4.0.8 leader hands to the 4.0.9 node fails, while the API that triggers it answers as usual: a mixed
cluster fails jobs without a sound. This is why dkron_update_plan refuses a rolling update across it.
"""

import time

import pytest
import requests

from support.ansible_runs import run_module

pytestmark = pytest.mark.integration


def _old_leads(cluster):
    """The 4.0.8 server and the 4.0.9 one, once checked that the 4.0.8 server leads."""
    old, new = cluster.servers
    assert cluster.leader() is old, "the 4.0.8 server bootstrapped but does not lead"
    return old, new


def _run_on(cluster, name, node, runs):
    """Runs a new manual job, tagged to ``node`` alone, ``runs`` times, each run once the last finished.

    Returns the job as read at the end and, for each run, the job's executions read once it finished.
    """
    api_url = cluster.leader().api_url
    job = {"name": name, "schedule": "@manually", "executor": "shell", "executor_config": {"command": "echo ran"},
           "tags": {"node": node.name + ":1"}}  # tag value "<value>:<count>": one node whose node tag matches
    response = requests.post(api_url + "/v1/jobs", json=job, timeout=10)
    assert response.status_code == 201, response.text
    seen = []
    for run in range(1, runs + 1):
        response = requests.post(api_url + "/v1/jobs/" + name, timeout=10)
        assert response.status_code == 200, response.text  # accepted, whether or not the run can succeed
        deadline = time.monotonic() + 30
        while True:
            job = requests.get(api_url + "/v1/jobs/" + name, timeout=10).json()
            if job["success_count"] + job["error_count"] == run:
                break
            assert time.monotonic() < deadline, "run %d of %s not finished after 30 s: %s" % (run, name, job)
            time.sleep(0.3)
        seen.append(requests.get(api_url + "/v1/jobs/%s/executions" % name, timeout=10).json())
    return job, seen


def test_a_4_0_8_and_a_4_0_9_server_form_one_raft_cluster(dkron_skewed):
    old, new = _old_leads(dkron_skewed)
    assert sorted(dkron_skewed.voters(old)) == ["server-1", "server-2"]
    assert sorted(dkron_skewed.voters(new)) == ["server-1", "server-2"]
    for server in (old, new):
        members = requests.get(server.api_url + "/v1/members", timeout=10).json()
        assert dict((m["Name"], m["Tags"]["version"]) for m in members) == {"server-1": "4.0.8", "server-2": "4.0.9"}
        assert {m["statusText"] for m in members} == {"alive"}


def test_every_run_the_4_0_8_leader_hands_to_the_4_0_9_node_fails(dkron_skewed):
    old, new = _old_leads(dkron_skewed)
    job, seen = _run_on(dkron_skewed, "skew-on-4-0-9", new, runs=3)
    for executions in seen:
        print("executions after a run on the 4.0.9 node:", executions)
        # One record only: the leader writes the failure itself, with no node and no start time, the
        # two things Dkron makes an execution's id from, so each failure overwrites the last.
        assert [e["success"] for e in executions] == [False]
        assert "unknown service types.Agent" in executions[0]["output"]
    assert len({executions[0]["group"] for executions in seen}) == 3, "not three different runs"
    assert (job["success_count"], job["error_count"], job["status"]) == (0, 3, "failed")
    # The records name no node; the leader's log says where the runs went.
    handed = 'msg="agent: Calling AgentRun" job_name=skew-on-4-0-9 node="127.0.0.1:%d"' % new.rpc_port
    assert old.log_path.read_text().count(handed) == 3

    job, seen = _run_on(dkron_skewed, "skew-on-4-0-8", old, runs=1)
    print("executions after a run on the 4.0.8 node:", seen[0])
    assert [(e["success"], e["node_name"], e["output"]) for e in seen[0]] == [(True, "server-1", "ran\n")]
    assert (job["success_count"], job["error_count"]) == (1, 0)


def test_plan_refuses_a_rolling_update_across_the_mixed_cluster(dkron_skewed):
    old, _new = _old_leads(dkron_skewed)
    # Finishing the upgrade by updating the 4.0.8 server to 4.0.9, one node at a time.
    args = "api_url=%s servers=server-1,server-2 pending=server-1 target_version=4.0.9" % old.api_url
    refused = run_module("hacron.dkron.dkron_update_plan", args)
    assert refused["failed"] is True
    assert refused["versions"] == {"server-1": "4.0.8", "server-2": "4.0.9"}
    assert refused["msg"].startswith("refused: server-1 run 4.0.8, and the target is 4.0.9")
    allowed = run_module("hacron.dkron.dkron_update_plan", args + " full_stop=true")
    assert allowed["strategy"] == "full_stop" and allowed["order"] == ["server-1"]
