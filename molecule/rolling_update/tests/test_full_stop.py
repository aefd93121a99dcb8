"""Across Dkron's 4.0.8/4.0.9 gRPC break, against the real servers: the rolling update is refused
before any node is restarted, and `dkron_update_strategy=full_stop` takes the whole cluster over
with every job kept and jobs running on every node again. The cluster then rolls to 4.1.1, where
test_rolling_update.py begins (pytest runs the files in name order; the tests share the cluster).

tests/integration/test_version_skew.py shows why the guard exists: in a mixed 4.0.8/4.0.9 cluster
every run the old leader hands to a new node fails.
"""

import os
import time
from pathlib import Path

from helpers import (
    AGENT, SERVERS, api, containers, failed_tasks, peer, recreated, run_playbook, versions, voters,
    wait_for,
)

NODES = SERVERS + [AGENT]
CACHE = Path(os.environ.get("HACRON_CACHE", Path.home() / ".cache/hacron"))
# `dc: dc1` (no count) matches every node: each run of the job runs on all four.
EVERY_NODE_JOB = {
    "name": "skew-every-node",
    "schedule": "@every 5s",
    "tags": {"dc": "dc1"},
    "executor": "shell",
    "executor_config": {"shell": "true", "command": "date +%s >> /var/lib/dkron/skew-every-node.log"},
}
# A job that only has to survive every step.
KEPT_JOB = {"name": "skew-kept", "schedule": "@manually", "executor": "shell", "executor_config": {"command": "true"}}
STATE = {}


def update_to(version, *extra):
    archive = CACHE / "images" / ("dkron-%s.tar" % version)
    return ["-e", "dkron_image=hacron/dkron:%s" % version, "-e", "dkron_image_archive=%s" % archive, *extra]


def runs_per_node(since):
    """How many runs of the every-node job each host recorded from ``since`` (epoch seconds)."""
    counts = {}
    for node in NODES:
        text = peer(node).check_output("cat /var/lib/dkron/skew-every-node.log 2>/dev/null || true")
        counts[node] = sum(1 for line in text.split() if int(line) >= since)
    return counts


def jobs():
    status, body = api(SERVERS[0], "/v1/jobs")
    assert status == 200, body
    return {job["name"]: (job["schedule"], job["tags"]) for job in body}


def wait_for_runs_on_every_node(since, what):
    """Two runs or more on every node from ``since``; returns the counts."""
    def every_node_ran_twice():
        counts = runs_per_node(since)
        return counts if min(counts.values()) >= 2 else None
    return wait_for(every_node_ran_twice, timeout=90, interval=3, what=what)


def test_the_cluster_runs_4_0_8_with_a_job_on_every_node():
    assert versions() == {name: "4.0.8" for name in NODES}
    for job in (EVERY_NODE_JOB, KEPT_JOB):
        status, body = api(SERVERS[0], "/v1/jobs", "POST", job)
        assert status == 201, body
    since = time.time()
    print("\nruns per node on 4.0.8: %s" % wait_for_runs_on_every_node(since, "runs of the job on every 4.0.8 node"))
    STATE["jobs"] = jobs()


def test_a_rolling_update_across_the_grpc_break_is_refused_before_any_node_restarts():
    before = containers()

    run = run_playbook("playbooks/rolling_update.yml", *update_to("4.0.9"))

    assert run.returncode != 0, run.stdout[-3000:]
    failure = failed_tasks(run.stdout)
    print("\nthe refusal: %s" % failure.split("\n\n")[0][-800:])
    assert "4.0.8" in failure and "4.0.9" in failure and "dkron_update_strategy=full_stop" in failure, failure
    # Refused by the first step's module, before it names a node to re-create.
    assert "Check the node of the step before, pick the next node" in failure, failure
    assert "Stop every node" not in run.stdout
    assert recreated(before, containers()) == [], "a node was re-created"
    assert versions() == {name: "4.0.8" for name in NODES}


def test_the_full_stop_upgrade_keeps_every_job_and_runs_them_on_every_node():
    run = run_playbook("playbooks/rolling_update.yml", *update_to("4.0.9", "-e", "dkron_update_strategy=full_stop"))

    assert run.returncode == 0, failed_tasks(run.stdout)
    finished = time.time()
    assert versions() == {name: "4.0.9" for name in NODES}
    assert voters(SERVERS[0]) == SERVERS
    assert jobs() == STATE["jobs"]
    print("\nruns per node on 4.0.9: %s" % wait_for_runs_on_every_node(finished, "runs of the job on every 4.0.9 node"))
    status, executions = api(SERVERS[0], "/v1/jobs/skew-every-node/executions")
    assert status == 200, executions
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(finished + 1))
    after = [execution for execution in executions if execution["started_at"] >= since]
    assert after and all(execution["success"] for execution in after), after


def test_the_cluster_then_rolls_on_to_4_1_1_keeping_its_jobs():
    # A rolling update: dkron_update_strategy=full_stop is taken only where the version skew needs
    # it (dkron_update_plan), so it would not shorten this step. The every-node job goes first: due
    # every 5 s, it leaves the rolling update no quiet window.
    status, body = api(SERVERS[0], "/v1/jobs/skew-every-node", "DELETE")
    assert status == 200, body
    kept = jobs()
    assert set(kept) == set(STATE["jobs"]) - {"skew-every-node"}

    run = run_playbook("playbooks/rolling_update.yml", *update_to("4.1.1"))

    assert run.returncode == 0, failed_tasks(run.stdout)
    assert versions() == {name: "4.1.1" for name in NODES}
    assert voters(SERVERS[0]) == SERVERS
    assert jobs() == kept
