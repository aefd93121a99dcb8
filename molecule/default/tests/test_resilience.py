"""What the cluster survives. These tests disturb it, so they run last (file order), in order."""

import time

import yaml

from helpers import (
    AGENT, SERVERS, alive_members, api, cluster_views, container, failed_tasks, leader_name, network_mode, overlay_ip, peer, run_site,
    voters, wait_for,
)

TAGGED_JOB = {
    "name": "tagged-once",
    "schedule": "@manually",
    "executor": "shell",
    # shell "true" runs the command through /bin/sh; without it Dkron execs the words directly.
    "executor_config": {"shell": "true", "command": "test -f /etc/dkron/dkron.yml && echo ran"},
    "tags": {"key": "value:1"},
    "metadata": {"test": "resilience"},
}
EVERY_SECOND_JOB = {
    "name": "every-two-seconds",
    "schedule": "@every 2s",
    "executor": "shell",
    "executor_config": {"command": "echo tick"},
    "tags": {"key": "value:1"},
}
MATCHING_NODES = {SERVERS[1], AGENT}


def _finished(executions):
    return [e for e in executions if (e.get("finished_at") or "").startswith("20")]


def test_tagged_job_runs_on_exactly_one_matching_node_per_run():
    api(SERVERS[0], "/v1/jobs/tagged-once", "DELETE")  # with its executions, left by an earlier verify
    status, _body = api(SERVERS[0], "/v1/jobs", "POST", TAGGED_JOB)
    assert status == 201
    for run in range(3):
        status, _body = api(SERVERS[0], "/v1/jobs/tagged-once/run", "POST")
        assert status == 200
        wait_for(lambda: len(_finished(api(SERVERS[0], "/v1/jobs/tagged-once/executions")[1])) >= run + 1,
                 timeout=30, what="run %d finished" % (run + 1))
    executions = _finished(api(SERVERS[0], "/v1/jobs/tagged-once/executions")[1])
    by_run = {}
    for execution in executions:
        by_run.setdefault(execution["group"], []).append(execution["node_name"])
    assert len(by_run) == 3
    for nodes in by_run.values():
        assert len(nodes) == 1, nodes  # value:1 -> one node per run
        assert nodes[0] in MATCHING_NODES, nodes
    assert all(e["success"] and e["output"].strip() == "ran" for e in executions)


def test_all_servers_stopped_and_started_keep_their_jobs():
    overlay = network_mode() == "overlay"
    addresses_before = {name: overlay_ip(name) for name in SERVERS} if overlay else {}
    for name in SERVERS:
        peer(name).check_output("docker stop %s", container(name))
    # Started in the reverse order, so that on the overlay no container gets its old address back.
    for name in reversed(SERVERS):
        peer(name).check_output("docker start %s", container(name))
    if overlay:
        addresses_after = {name: overlay_ip(name) for name in SERVERS}
        print("overlay addresses before %s, after %s" % (addresses_before, addresses_after))
        assert all(addresses_after[name] != addresses_before[name] for name in SERVERS)
    wait_for(lambda: voters() == SERVERS and leader_name(SERVERS[0]), timeout=120, what="cluster re-formed")
    # The agent was not restarted: it must find the servers at their new addresses too, or jobs
    # tagged for it never run again.
    try:
        wait_for(lambda: alive_members(SERVERS[0]) == sorted(SERVERS + [AGENT]), timeout=120,
                 what="every member alive, the agent included")
    except AssertionError as error:
        raise AssertionError("%s\n%s" % (error, cluster_views(SERVERS + [AGENT]))) from None
    for name in SERVERS:
        status, job = wait_for(lambda n=name: _job_on(n, "tagged-once"), timeout=30, what="job on %s" % name)
        assert job["tags"] == {"key": "value:1"}


def _job_on(server, name):
    status, job = api(server, "/v1/jobs/%s" % name)
    return (status, job) if status == 200 else None


def test_killing_the_leader_elects_another_and_jobs_keep_running():
    status, _body = api(SERVERS[0], "/v1/jobs", "POST", EVERY_SECOND_JOB)
    assert status == 201
    old_leader = wait_for(lambda: leader_name(SERVERS[0]), timeout=30, what="a leader")
    peer(old_leader).check_output("docker kill %s", container(old_leader))
    others = [name for name in SERVERS if name != old_leader]

    def elected():
        name = leader_name(others[0])
        return name if name and name != old_leader else None

    killed_at = time.monotonic()
    new_leader = wait_for(elected, timeout=30, interval=0.5, what="a new leader")
    print("new leader %s elected %.1f s after the leader was killed" % (new_leader, time.monotonic() - killed_at))
    assert new_leader in others

    def runs_after_kill():
        executions = _finished(api(others[0], "/v1/jobs/every-two-seconds/executions")[1])
        return len(executions)

    count = runs_after_kill()
    try:
        wait_for(lambda: runs_after_kill() >= count + 2, timeout=30, what="two runs under the new leader")
    except AssertionError:
        print(cluster_views(others))
        raise
    peer(old_leader).check_output("docker start %s", container(old_leader))
    wait_for(lambda: voters(others[0]) == SERVERS, timeout=120, what="old leader back as a voter")
    api(others[0], "/v1/jobs/every-two-seconds", "DELETE")


def _gossip_key(name):
    return yaml.safe_load(peer(name).file("/etc/dkron/dkron.yml").content_string)["encrypt"]


def test_first_server_with_a_wiped_data_dir_rejoins_the_same_cluster():
    first = peer(SERVERS[0])
    key_before = _gossip_key(SERVERS[1])
    ca_before = first.file("/etc/hacron/tls/ca/ca.crt").content_string
    first.check_output("docker stop %s", container(SERVERS[0]))
    first.check_output("rm -rf /var/lib/dkron/raft")
    # Its TLS files too: the CA must come back from the other servers, not be made anew.
    first.check_output("rm -rf /etc/hacron/tls")
    # The roles that own what was wiped; the other roles' state is as it was.
    converge = run_site(tags=["api_proxy", "dkron"])
    assert converge.returncode == 0, failed_tasks(converge.stdout)
    assert "Existing cluster" in converge.stdout
    # The rerun kept the gossip key and the private CA (on the wiped host too), and printed neither the key nor a password.
    assert {_gossip_key(name) for name in SERVERS + [AGENT]} == {key_before}
    assert first.file("/etc/hacron/tls/ca/ca.crt").content_string == ca_before
    assert key_before not in converge.stdout and "molecule-lab-password" not in converge.stdout
    wait_for(lambda: voters(SERVERS[1]) == SERVERS, timeout=120, what="three voters")
    leaders = {leader_name(name) for name in SERVERS}
    assert len(leaders) == 1 and leaders <= set(SERVERS), leaders
    assert wait_for(lambda: _job_on(SERVERS[0], "tagged-once"), timeout=30, what="jobs replicated to the wiped server")
