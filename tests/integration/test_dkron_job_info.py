"""dkron_job_info against a real three-server Dkron cluster on loopback, called ad hoc."""

import json
import time

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronClient
from ansible_run import run_module

pytestmark = pytest.mark.integration

MODULE = "hacron.dkron.dkron_job_info"


def info(api_url, check=False, **options):
    return run_module(MODULE, json.dumps(dict(options, api_url=api_url)), check=check)


def _job(name, **extra):
    job = {
        "name": name,
        "schedule": "@manually",
        "executor": "shell",
        "executor_config": {"command": "echo info-%s" % name, "shell": "true"},
        "tags": {"node": "server-1:1"},
    }
    job.update(extra)
    return job


@pytest.fixture(scope="module")
def jobs(dkron_cluster):
    """Three jobs written through the leader and visible on every server; one has run once."""
    leader = DkronClient(dkron_cluster.leader().api_url)
    made = [
        _job("info-a", metadata={"suite": "info", "team": "a"}, displayname="Alpha report"),
        _job("info-b", metadata={"suite": "info", "team": "b"}),
        _job("info-c", metadata={"suite": "info", "team": "a"}, disabled=True),
    ]
    for job in made:
        leader.put_job(job)
    for server in dkron_cluster.servers:
        for job in made:
            DkronClient(server.api_url).wait_for_job(job["name"])
    leader.run_job("info-a")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [e for e in leader.executions("info-a") if not e["finished_at"].startswith("0001")]
        if done and all(DkronClient(s.api_url).get_job("info-a")["status"] == "success" for s in dkron_cluster.servers):
            break
        time.sleep(0.3)
    else:
        pytest.fail("info-a did not run within 30 s")
    yield made
    for job in made:
        leader.delete_job(job["name"])


def names(result):
    assert result.get("failed") is not True, result
    return [job["name"] for job in result["jobs"]]


def test_metadata_filter_is_an_exact_match_of_every_key(dkron_cluster, jobs):
    api = dkron_cluster.followers()[0].api_url
    assert names(info(api, metadata={"suite": "info"})) == ["info-a", "info-b", "info-c"]
    assert names(info(api, metadata={"suite": "info", "team": "a"})) == ["info-a", "info-c"]
    assert names(info(api, metadata={"suite": "info", "team": "c"})) == []
    assert names(info(api, metadata={"suite": "inf"})) == []


def test_one_job_by_name_as_dkron_stores_it(dkron_cluster, jobs):
    api = dkron_cluster.followers()[1].api_url
    result = info(api, name="info-b")
    assert names(result) == ["info-b"]
    job = result["jobs"][0]
    assert job["executor_config"] == {"command": "echo info-info-b", "shell": "true"}
    assert job["metadata"] == {"suite": "info", "team": "b"}
    assert job["status"] == ""  # the computed fields are returned as stored
    assert names(info(api, name="info-missing")) == []
    assert names(info(api, name="info-b", metadata={"team": "a"})) == []


def test_status_and_query_filters(dkron_cluster, jobs):
    api = dkron_cluster.servers[0].api_url
    assert names(info(api, status="success", metadata={"suite": "info"})) == ["info-a"]
    assert names(info(api, status="untriggered", metadata={"suite": "info"})) == ["info-b", "info-c"]
    assert names(info(api, status="failed", metadata={"suite": "info"})) == []
    assert names(info(api, query="Alpha")) == ["info-a"]  # display name
    assert names(info(api, query="info-")) == ["info-a", "info-b", "info-c"]
    assert names(info(api, name="info-a", status="success")) == ["info-a"]
    assert names(info(api, name="info-b", status="success")) == []


def test_executions_of_a_job(dkron_cluster, jobs):
    api = dkron_cluster.followers()[0].api_url
    result = info(api, check=True, name="info-a", executions=True)
    assert result["changed"] is False
    assert len(result["executions"]) == 1
    execution = result["executions"][0]
    assert execution["success"] is True
    assert execution["output"] == "info-info-a\n"
    assert execution["node_name"] == "server-1"
    assert info(api, name="info-b", executions=True)["executions"] == []
    assert info(api, name="info-missing", executions=True)["executions"] == []
    assert "executions" not in info(api, name="info-a")


def test_executions_need_a_name(dkron_cluster):
    result = info(dkron_cluster.servers[0].api_url, executions=True)
    assert result["failed"] is True
    assert "name" in result["msg"]


def test_unreachable_api_fails_with_the_url():
    result = info("http://127.0.0.1:9", timeout=1)
    assert result["failed"] is True
    assert "cannot reach Dkron at http://127.0.0.1:9" in result["msg"]
