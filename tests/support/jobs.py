"""Job records as Dkron's API takes them (POST /v1/jobs) and the jobs a loopback cluster stores."""

import requests


def shell_job(name, **fields):
    """A shell job that never runs by itself and, when run, runs once on server-1; ``fields`` replace
    or add to any of its fields."""
    job = {
        "name": name,
        "schedule": "@manually",
        "executor": "shell",
        "executor_config": {"command": "true"},
        "tags": {"node": "server-1:1"},
    }
    job.update(fields)
    return job


def leader_job(cluster, name):
    """The job as the cluster's leader stores it; None when it has none of that name."""
    response = requests.get(cluster.leader().api_url + "/v1/jobs/" + name, timeout=10)
    return response.json() if response.status_code == 200 else None


def leader_jobs(cluster):
    """Every job the cluster's leader stores, by name."""
    response = requests.get(cluster.leader().api_url + "/v1/jobs", timeout=10)
    response.raise_for_status()
    return {job["name"]: job for job in response.json()}


def put_on_leader(cluster, job):
    """Create or replace a job through the leader, as a hand-made job or another tool would."""
    response = requests.post(cluster.leader().api_url + "/v1/jobs", json=job, timeout=10)
    assert response.status_code == 201, response.text


def delete_on_leader(cluster, name):
    requests.delete(cluster.leader().api_url + "/v1/jobs/" + name, timeout=10)
