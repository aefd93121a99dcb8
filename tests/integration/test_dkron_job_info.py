"""dkron_job_info against a real three-server Dkron cluster on loopback, called ad hoc."""

import json
import time

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronClient
from support.ansible_runs import run_module, run_tasks
from support.jobs import shell_job

pytestmark = pytest.mark.integration

MODULE = "hacron.dkron.dkron_job_info"


def info(api_url, check=False, **options):
    return run_module(MODULE, json.dumps(dict(options, api_url=api_url)), check=check)


def infos(api_url, *option_sets, check=False):
    """One call of the module per set of options, all in one Ansible run; their results in order."""
    return run_tasks(MODULE, [dict(options, api_url=api_url) for options in option_sets], check=check)


def _job(name, **extra):
    return shell_job(name, **dict({"executor_config": {"command": "echo info-%s" % name, "shell": "true"}}, **extra))


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
    results = infos(api, {"metadata": {"suite": "info"}}, {"metadata": {"suite": "info", "team": "a"}},
                    {"metadata": {"suite": "info", "team": "c"}}, {"metadata": {"suite": "inf"}})
    assert [names(result) for result in results] == [["info-a", "info-b", "info-c"], ["info-a", "info-c"], [], []]


def test_one_job_by_name_as_dkron_stores_it(dkron_cluster, jobs):
    api = dkron_cluster.followers()[1].api_url
    result, missing, other_team = infos(api, {"name": "info-b"}, {"name": "info-missing"},
                                        {"name": "info-b", "metadata": {"team": "a"}})
    assert names(result) == ["info-b"]
    job = result["jobs"][0]
    assert job["executor_config"] == {"command": "echo info-info-b", "shell": "true"}
    assert job["metadata"] == {"suite": "info", "team": "b"}
    assert job["status"] == ""  # the computed fields are returned as stored
    assert names(missing) == []
    assert names(other_team) == []


def test_status_and_query_filters(dkron_cluster, jobs):
    api = dkron_cluster.servers[0].api_url
    suite = {"suite": "info"}
    calls_and_names = [
        ({"status": "success", "metadata": suite}, ["info-a"]),
        ({"status": "untriggered", "metadata": suite}, ["info-b", "info-c"]),
        ({"status": "failed", "metadata": suite}, []),
        ({"query": "Alpha"}, ["info-a"]),  # display name
        ({"query": "info-"}, ["info-a", "info-b", "info-c"]),
        ({"name": "info-a", "status": "success"}, ["info-a"]),
        ({"name": "info-b", "status": "success"}, []),
    ]
    results = infos(api, *[options for options, _expected in calls_and_names])
    assert [names(result) for result in results] == [expected for _options, expected in calls_and_names]


def test_executions_of_a_job(dkron_cluster, jobs):
    api = dkron_cluster.followers()[0].api_url
    result = info(api, check=True, name="info-a", executions=True)
    assert result["changed"] is False
    assert len(result["executions"]) == 1
    execution = result["executions"][0]
    assert execution["success"] is True
    assert execution["output"] == "info-info-a\n"
    assert execution["node_name"] == "server-1"
    no_runs, missing, without = infos(api, {"name": "info-b", "executions": True},
                                      {"name": "info-missing", "executions": True}, {"name": "info-a"})
    assert no_runs["executions"] == []
    assert missing["executions"] == []
    assert "executions" not in without


def test_executions_need_a_name(dkron_cluster):
    result = info(dkron_cluster.servers[0].api_url, executions=True)
    assert result["failed"] is True
    assert "name" in result["msg"]


def test_unreachable_api_fails_with_the_url():
    result = info("http://127.0.0.1:9", timeout=1)
    assert result["failed"] is True
    assert "cannot reach Dkron at http://127.0.0.1:9" in result["msg"]
