"""The catch-up service (roles/catchup/files) and the ledger against three real Dkron servers on
loopback: the leader killed with SIGKILL, canary jobs that append their run times to files (the
ground truth), one service per server as the role runs it."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from support.canary import doubled_in, missed_in
from support.host_scripts import CATCHUP_SERVICE, load_catchup_service
from support.jobs import shell_job

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 10
ACT_AFTER_ELECTION = 60  # the service's ACT_AFTER_ELECTION_SECONDS


def file_runs(path):
    """Run times written by a canary, oldest first."""
    return sorted(float(line) for line in Path(path).read_text().split()) if Path(path).exists() else []


@pytest.fixture(scope="module")
def services(dkron_cluster_to_lose_its_leader, tmp_path_factory):
    cluster = dkron_cluster_to_lose_its_leader
    workdir = tmp_path_factory.mktemp("catchup")
    env = dict(os.environ, PYTHONPATH=str(ROOT / ".cache" / "collections"))
    started = {}
    for server in cluster.servers:
        log = open(workdir / ("%s.log" % server.name), "ab")
        started[server.name] = (subprocess.Popen(
            [sys.executable, str(CATCHUP_SERVICE), "--api-url", server.api_url, "--server", server.name,
             "--report", str(workdir / ("%s.json" % server.name)), "--report-every", "2"],
            stdout=log, stderr=subprocess.STDOUT, env=env), log)
    try:
        yield workdir
    finally:
        for process, log in started.values():
            process.terminate()
            process.wait(timeout=10)
            log.close()


def canary(name, path, node, **metadata):
    return shell_job(name, schedule="@every %ds" % INTERVAL, tags={"node": "%s:1" % node}, metadata=metadata,
                     executor_config={"shell": "true", "command": "date +%%s.%%N >> %s" % path})


def test_a_killed_leader_s_missed_slot_is_caught_up_once_and_the_ledger_counts_the_other(
        dkron_cluster_to_lose_its_leader, services):
    cluster = dkron_cluster_to_lose_its_leader
    leader = cluster.leader()
    runner = cluster.followers()[0]  # the canaries run on a server that stays up
    latest_file, none_file = services / "latest.txt", services / "none.txt"
    jobs = [canary("catchup-latest", latest_file, runner.name, hacron_catchup="latest", hacron_catchup_window="1m"),
            canary("catchup-none", none_file, runner.name)]
    for job in jobs:
        requests.post(leader.api_url + "/v1/jobs", json=job, timeout=10).raise_for_status()
    deadline = time.monotonic() + 60
    while len(file_runs(latest_file)) < 3 or len(file_runs(none_file)) < 3:
        assert time.monotonic() < deadline, "the canaries did not run three times in 60 s"
        time.sleep(0.5)

    # Killed six seconds after a run: a leader cannot answer before the next slot is missed.
    while time.time() - file_runs(latest_file)[-1] > 1:
        time.sleep(0.1)
    time.sleep(6)
    killed_at = time.time()
    leader.kill()
    new_leader = cluster.leader(timeout=60)
    elected_after = time.time() - killed_at

    def caught_up():
        """(the records job, canary-latest's record, its catch-up runs), once there is a record."""
        answer = requests.get(new_leader.api_url + "/v1/jobs/hacron-catchup-records", timeout=10)
        metadata = (answer.json().get("metadata") or {}) if answer.status_code == 200 else {}
        if "catchup-latest" not in metadata:  # none yet, or taken back when Dkron refused the run
            return None
        [written] = json.loads(metadata["catchup-latest"])
        return answer.json(), written, [run for run in file_runs(latest_file) if written["at"] <= run <= written["at"] + 5]
    # Dkron 4.1.2 refuses runs ("error retrieving job from scheduler") until its startup
    # reconciliation has given up dialling the dead leader (10 s after the election on an idle
    # host): how soon the gap closes is a figure, printed below; the bound is the service's own,
    # the minute (plus an interval) it acts after an election.
    deadline = time.monotonic() + ACT_AFTER_ELECTION + INTERVAL
    while time.monotonic() < deadline and not (caught_up() or (None, None, None))[2]:
        time.sleep(1)
    time.sleep(2 * INTERVAL)  # regular runs of the new leader, to hold against the catch-up

    latest, none = file_runs(latest_file), file_runs(none_file)
    records, record, catchups = caught_up() or (None, None, [])
    assert records and records["disabled"] is True and "catchup-none" not in records["metadata"], records
    regular = [run for run in latest if run not in catchups]
    # One catch-up run, for slots that had no run of their own.
    assert len(catchups) == 1, (killed_at, record, latest)
    assert doubled_in(regular, INTERVAL) == 0, latest
    assert not [slot for slot in record["slots"] for run in regular if abs(run - slot) < INTERVAL / 2], (record, latest)
    assert missed_in(none, INTERVAL) >= 1 and doubled_in(none, INTERVAL) == 0, (killed_at, none)

    report = json.loads((services / ("%s.json" % new_leader.name)).read_text())
    assert report["leader"] is True
    # Only the leader works the ledger out; the others say they are alive.
    others = [json.loads(path.read_text()) for path in services.glob("*.json") if path.stem != new_leader.name]
    assert others and all(other["leader"] is False and other["jobs"] == {} for other in others), others
    assert report["jobs"]["catchup-none"]["counts"]["missed"] == missed_in(none, INTERVAL), (report["jobs"]["catchup-none"], none)
    latest_counts = report["jobs"]["catchup-latest"]["counts"]
    assert latest_counts["missed"] == latest_counts["doubled"] == 0 and latest_counts["caught_up"] >= 1, latest_counts
    print("election %.1f s; the none job missed %d slot(s); caught up %.1f s after the new leader"
          % (elected_after, missed_in(none, INTERVAL), catchups[0] - killed_at - elected_after))


def test_the_service_reads_a_restarted_leader_s_store_only_once_it_has_applied_the_log(dkron_single_to_restart):
    """A restarted server answers as the leader before its store has applied the Raft log; the
    service's barrier (store_is_current) returns only once it has, up to the last write."""
    server = dkron_single_to_restart.servers[0]
    writes = 1500  # each a Raft entry that the restarted server applies again
    with requests.Session() as session:
        for number in range(writes):
            job = shell_job("barrier-canary", schedule="@manually", metadata={"write": str(number)})
            session.post(server.api_url + "/v1/jobs", json=job, timeout=10).raise_for_status()

    def write_seen():
        answer = requests.get(server.api_url + "/v1/jobs/barrier-canary", timeout=10)
        return int(answer.json()["metadata"]["write"]) if answer.status_code == 200 else None

    assert write_seen() == writes - 1
    server.stop()
    server.start()
    dkron = load_catchup_service().Dkron(server.api_url)
    restarted = time.monotonic()
    while not dkron.leads():
        assert time.monotonic() - restarted < 60, server.log_tail()
        time.sleep(0.01)
    seen_when_leading = write_seen()
    started = time.monotonic()
    assert dkron.store_is_current(), server.log_tail()
    barrier = time.monotonic() - started
    assert write_seen() == writes - 1
    print("restarted server: leader after %.2f s, its store then at write %s of %d; store_is_current took %.2f s"
          % (started - restarted, seen_when_leading, writes, barrier))
