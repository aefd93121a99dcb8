"""The exporter (roles/exporter/files/hacron_dkron_exporter.py) against a real three-server Dkron on
loopback: what it reports for jobs that succeeded and failed, the leader, the members and the Raft
voters, and that scrapes share one reading of the cluster per cache interval."""

import threading
import time
import urllib.error
import urllib.request

import pytest
import requests

from support.host_scripts import load_exporter
from support.jobs import shell_job

pytestmark = pytest.mark.integration

SERVERS = ["server-1", "server-2", "server-3"]


def samples(text):
    """{(name, frozenset of label pairs): value} from Prometheus's text format."""
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, _brace, labels = series.partition("{")
        pairs = frozenset(tuple(part.split("=", 1)) for part in labels.rstrip("}").split(",") if part)
        found[(name, frozenset((key, raw.strip('"')) for key, raw in pairs))] = float(value)
    return found


def job_value(found, name, job, **labels):
    return found[(name, frozenset(dict(labels, dkron_job=job).items()))]


def _run_and_wait(api_url, name, timeout=30):
    requests.post(api_url + "/v1/jobs/%s/run" % name, timeout=10).raise_for_status()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(api_url + "/v1/jobs/" + name, timeout=10).json()
        if job.get("success_count") or job.get("error_count"):
            return job
        time.sleep(0.3)
    raise AssertionError("job %s did not run within %d s" % (name, timeout))


@pytest.fixture(scope="module")
def exporter_jobs(dkron_cluster):
    api_url = dkron_cluster.leader().api_url
    jobs = [shell_job("exporter-ok"), shell_job("exporter-bad", executor_config={"command": "false"}),
            shell_job("exporter-off", disabled=True)]
    for job in jobs:
        requests.post(api_url + "/v1/jobs", json=job, timeout=10).raise_for_status()
    try:
        yield {name: _run_and_wait(api_url, name) for name in ("exporter-ok", "exporter-bad")}
    finally:
        for job in jobs:
            requests.delete(api_url + "/v1/jobs/" + job["name"], timeout=10)


def _reader(exporter, cluster, server, cache_seconds=60.0):
    raft = [str(server.binary), "raft", "list-peers"]
    return exporter.DkronReader(server.api_url, SERVERS, raft, cache_seconds=cache_seconds)


def test_jobs_leader_members_and_voters(dkron_cluster, exporter_jobs):
    exporter = load_exporter()
    server = dkron_cluster.followers()[0]  # any server answers for the whole cluster
    reader = _reader(exporter, dkron_cluster, server, cache_seconds=0)
    deadline = time.monotonic() + 10
    while True:  # a follower's store follows the leader's by a moment
        found = samples(reader.metrics())
        caught_up = all(found.get(("dkron_job_%s_count" % kind, frozenset({("dkron_job", name)})))
                        for kind, name in (("success", "exporter-ok"), ("error", "exporter-bad")))
        if caught_up or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    ok, bad = exporter_jobs["exporter-ok"], exporter_jobs["exporter-bad"]
    assert job_value(found, "dkron_job_success_count", "exporter-ok") >= 1
    assert job_value(found, "dkron_job_last_success_timestamp_seconds", "exporter-ok") == pytest.approx(
        exporter.timestamp(ok["last_success"]), abs=1)
    assert job_value(found, "dkron_job_last_error_timestamp_seconds", "exporter-ok") == 0
    assert job_value(found, "dkron_job_error_count", "exporter-bad") >= 1
    assert job_value(found, "dkron_job_last_error_timestamp_seconds", "exporter-bad") > time.time() - 120
    assert job_value(found, "dkron_job_status", "exporter-bad", status="failed") == 1
    assert job_value(found, "dkron_job_status", "exporter-bad", status="success") == 0
    assert bad["status"] == "failed"
    assert job_value(found, "dkron_job_disabled", "exporter-off") == 1
    assert job_value(found, "dkron_job_disabled", "exporter-ok") == 0
    assert found[("dkron_leader_answers", frozenset())] == 1
    assert found[("dkron_members", frozenset({("status", "alive")}))] == 3
    assert found[("dkron_members", frozenset({("status", "failed")}))] == 0
    assert found[("dkron_raft_voters", frozenset())] == 3
    for name in SERVERS:
        assert found[("dkron_raft_expected_voter", frozenset({("server", name)}))] == 1
        assert found[("dkron_server_alive", frozenset({("server", name)}))] == 1


def test_a_server_not_voting_is_reported(dkron_cluster):
    exporter = load_exporter()
    server = dkron_cluster.servers[0]
    reader = exporter.DkronReader(server.api_url, SERVERS + ["server-4"],
                                  [str(server.binary), "raft", "list-peers"])
    found = samples(reader.metrics())
    assert found[("dkron_raft_expected_voter", frozenset({("server", "server-4")}))] == 0
    assert found[("dkron_raft_expected_voters", frozenset())] == 4


def test_scrapes_share_one_reading_per_interval(dkron_cluster):
    exporter = load_exporter()
    server = dkron_cluster.servers[0]
    reader = _reader(exporter, dkron_cluster, server, cache_seconds=2.0)
    http = exporter.ThreadingHTTPServer(("127.0.0.1", 0), exporter.handler_for(reader))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/metrics" % http.server_address[1]
    try:
        bodies = []
        threads = [threading.Thread(target=lambda: bodies.append(urllib.request.urlopen(url, timeout=10).read()))
                   for _index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(bodies) == 8 and len(set(bodies)) == 1
        assert (reader.refreshes, reader.api_requests) == (1, 3)  # jobs, leader, members
        time.sleep(2.1)
        urllib.request.urlopen(url, timeout=10).read()
        assert (reader.refreshes, reader.api_requests) == (2, 6)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url.replace("/metrics", "/other"), timeout=10)
    finally:
        http.shutdown()


def test_a_server_that_does_not_answer():
    exporter = load_exporter()
    found = samples(exporter.DkronReader("http://127.0.0.1:9", SERVERS, timeout=1).metrics())
    assert found[("dkron_exporter_api_up", frozenset())] == 0
    assert found[("dkron_leader_answers", frozenset())] == 0
    assert not [key for key in found if key[0].startswith("dkron_job_")]


def test_a_stopped_server_is_a_failed_member_and_a_missing_voter(dkron_cluster_to_lose_its_leader):
    """A voter that is down stays in Raft's configuration: the exporter reports it missing all the
    same, since it no longer counts towards a quorum (the DkronRaftVoterMissing alert)."""
    cluster = dkron_cluster_to_lose_its_leader
    exporter = load_exporter()
    stopped = cluster.followers()[0]
    stopped.kill()  # lost, not left: a clean leave would take it out of Raft's configuration
    reader_server = next(server for server in cluster.servers if server is not stopped)
    reader = exporter.DkronReader(reader_server.api_url, SERVERS, [str(reader_server.binary), "raft", "list-peers"],
                                  cache_seconds=0)
    deadline = time.monotonic() + 60
    found = {}
    while time.monotonic() < deadline:
        found = samples(reader.metrics())
        if found.get(("dkron_members", frozenset({("status", "failed")}))) == 1:
            break
        time.sleep(1)
    members = {dict(labels)["status"]: value for (name, labels), value in found.items() if name == "dkron_members"}
    assert members["failed"] == 1, members
    assert found[("dkron_server_alive", frozenset({("server", stopped.name)}))] == 0
    assert found[("dkron_raft_voters", frozenset())] == 3  # still in the configuration
    assert found[("dkron_raft_expected_voter", frozenset({("server", stopped.name)}))] == 0
    for name in set(SERVERS) - {stopped.name}:
        assert found[("dkron_raft_expected_voter", frozenset({("server", name)}))] == 1
