"""dkron_job_set against a real three-server cluster: one list request, then the writes in order."""

import json

import pytest
import requests

from support.ansible_runs import run_module, run_playbook_json
from support.jobs import delete_on_leader, leader_jobs

pytestmark = pytest.mark.integration

SET = "it-set"


def job(name, **fields):
    return dict({"name": name, "schedule": "@every 1h", "command": "echo %s" % name, "tags": {"node": "server-1"}}, **fields)


def apply_set(api_url, jobs, check=False, **options):
    args = dict({"api_url": api_url, "set_name": SET, "jobs": jobs}, **options)
    return run_module("hacron.dkron.dkron_job_set", json.dumps(args), check=check)


@pytest.fixture
def clean(dkron_cluster):
    """No jobs before and after the test."""
    def wipe():
        jobs = leader_jobs(dkron_cluster)
        # Children first: Dkron refuses to delete a parent that has children.
        for name in sorted(jobs, key=lambda name: not jobs[name].get("parent_job")):
            delete_on_leader(dkron_cluster, name)
    wipe()
    yield dkron_cluster
    wipe()


def test_create_rerun_change_purge(clean):
    url = clean.leader().api_url
    jobs = [job("child", parent_job="parent", schedule=None), job("parent"), job("solo")]
    created = apply_set(url, jobs)
    assert not created.get("failed"), created
    assert created["changed"] is True
    # The child is listed first but written after its parent.
    assert created["added"] == ["parent", "child", "solo"]
    stored = leader_jobs(clean)
    assert set(stored) == {"parent", "child", "solo"}
    assert stored["child"]["parent_job"] == "parent"
    assert all(stored[name]["metadata"] == {"managed_by": "hacron.dkron/" + SET} for name in stored)

    again = apply_set(url, jobs)
    assert again["changed"] is False
    assert again["untouched"] == ["child", "parent", "solo"]
    assert again["added"] == again["updated"] == again["removed"] == []

    jobs[2] = job("solo", schedule="0 30 2 * * *")
    changed = apply_set(url, jobs)
    assert changed["updated"] == ["solo"]
    assert changed["changes"] == {
        "solo": {"action": "update", "fields": {"schedule": {"before": "@every 1h", "after": "0 30 2 * * *"}}}
    }
    assert leader_jobs(clean)["solo"]["schedule"] == "0 30 2 * * *"

    # A job made by hand (no marker) and a job dropped from the set.
    requests.post(url + "/v1/jobs", json=job("by-hand", command=None, executor="shell",
                                             executor_config={"command": "true"}), timeout=10).raise_for_status()
    kept = apply_set(url, jobs[1:])
    assert kept["changed"] is False
    assert kept["stale"] == ["child"] and kept["unmanaged"] == ["by-hand"]
    purged = apply_set(url, jobs[1:], purge=True)
    assert purged["removed"] == ["child"] and purged["unmanaged"] == ["by-hand"]
    assert set(leader_jobs(clean)) == {"parent", "solo", "by-hand"}


def test_purge_removes_children_before_parents(clean):
    url = clean.leader().api_url
    apply_set(url, [job("p"), job("c", parent_job="p"), job("gc", parent_job="c")])
    purged = apply_set(url, [], purge=True)
    assert not purged.get("failed"), purged
    assert purged["removed"] == ["gc", "c", "p"]
    assert leader_jobs(clean) == {}


def test_check_mode_writes_nothing_and_previews(clean):
    url = clean.leader().api_url
    result = apply_set(url, [job("a", schedule="0 30 2 * * *", timezone="Europe/Berlin")], check=True)
    assert result["changed"] is True and result["added"] == ["a"]
    assert leader_jobs(clean) == {}
    preview = result["schedule_preview"]["a"]
    assert len(preview["next_runs"]) == 3
    assert all("02:30:00+0" in run for run in preview["next_runs"])


def test_bad_job_fails_before_any_request():
    # Nothing listens on port 9: a request would fail with "cannot reach"; the check comes first.
    result = run_module("hacron.dkron.dkron_job_set", json.dumps({
        "api_url": "http://127.0.0.1:9", "jobs": [job("good"), job("bad", schedule="0 * * * *")]}))
    assert result["failed"] is True
    assert result["msg"].startswith("jobs[1] (bad): ")
    assert "cannot reach" not in result["msg"]


def test_duplicate_names_and_stray_secrets_are_refused():
    duplicate = run_module("hacron.dkron.dkron_job_set", json.dumps({
        "api_url": "http://127.0.0.1:9", "jobs": [job("twice"), job("twice")]}))
    assert "declares job 'twice' more than once" in duplicate["msg"]
    stray = run_module("hacron.dkron.dkron_job_set", json.dumps({
        "api_url": "http://127.0.0.1:9", "jobs": [job("a")], "secret_env": {"b": {"TOKEN": "s3cret-value"}}}))
    assert "secret_env names jobs that are not in the set: b" in stray["msg"]
    assert "s3cret-value" not in json.dumps(stray)


def test_secret_env_is_written_but_never_shown(clean):
    url = clean.leader().api_url
    result = apply_set(url, [job("with-secret", env={"PLAIN": "visible"})],
                       secret_env={"with-secret": {"TOKEN": "s3cret-value"}})
    assert not result.get("failed"), result
    assert "s3cret-value" not in json.dumps(result)
    assert leader_jobs(clean)["with-secret"]["executor_config"]["env"] == "PLAIN=visible,TOKEN=s3cret-value"
    assert apply_set(url, [job("with-secret", env={"PLAIN": "visible"})],
                     secret_env={"with-secret": {"TOKEN": "s3cret-value"}})["changed"] is False


def test_a_failure_halfway_reports_what_was_and_was_not_applied(clean, tmp_path):
    # A job over gRPC's 4 MiB message limit passes every check but fails on a follower, which
    # forwards writes to the leader over gRPC: the third write fails on the server's side.
    follower = clean.followers()[0]
    playbook = tmp_path / "set.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - hacron.dkron.dkron_job_set:
        api_url: %s
        set_name: %s
        jobs:
          - {name: first, schedule: "@every 1h", command: "true", tags: {node: server-1}}
          - {name: second, schedule: "@every 1h", command: "true", tags: {node: server-1}}
          - {name: third, schedule: "@every 1h", command: "{{ 'x' * 5000000 }}", tags: {node: server-1}}
          - {name: fourth, schedule: "@every 1h", command: "true", tags: {node: server-1}}
""" % (follower.api_url, SET))
    result = run_playbook_json(playbook)
    assert result["failed"] is True
    assert result["added"] == ["first", "second"]
    assert result["failure"]["name"] == "third" and result["not_applied"] == ["add fourth"]
    assert "add of job 'third' failed after 2 of 4 changes were applied (add first, add second)" in result["msg"]
    assert "larger than max" in result["msg"]
    assert set(leader_jobs(clean)) == {"first", "second"}
