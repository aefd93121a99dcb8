"""The catch-up service's loop without a server: what it reads, and when, on a new leader (the
integration tests run it against real Dkron servers)."""

import json

import pytest

from support.host_scripts import load_catchup_service

service = load_catchup_service()


class Stop(Exception):
    """Ends the service's endless loop after the polls a test wants."""


class NewLeader:
    """A server that leads from the first poll and whose store applies the log for two polls."""

    def __init__(self, _api_url):
        self.calls = []
        self.barriers = iter([False, False])

    def leads(self):
        return True

    def store_is_current(self):
        current = next(self.barriers, True)
        self.calls.append("store_is_current: %s" % current)
        return current

    def jobs(self):
        self.calls.append("jobs")
        return []

    def records(self):
        self.calls.append("records")
        return {}


def test_a_new_leader_s_store_is_read_only_once_it_has_applied_the_log(monkeypatch, tmp_path):
    servers, polls, reports = [], [], []
    report_path = tmp_path / "ledger.json"

    def new_leader(api_url):
        servers.append(NewLeader(api_url))
        return servers[-1]

    def sleep(_seconds):
        reports.append(json.loads(report_path.read_text())["leader"])
        polls.append(servers[0].calls[:])
        if len(polls) == 4:
            raise Stop()

    monkeypatch.setattr(service, "Dkron", new_leader)
    monkeypatch.setattr(service.time, "sleep", sleep)
    with pytest.raises(Stop):
        service.main(["--report", str(report_path), "--poll", "0"])
    # Nothing read before the store had applied the log; the catch-up and the ledger after it.
    assert polls[1] == ["store_is_current: False", "store_is_current: False"]
    assert polls[2][2:] == ["store_is_current: True", "jobs", "records", "jobs"]
    # Not asked again while this server leads: the next poll only catches up (the report is not due).
    assert polls[3][len(polls[2]):] == ["jobs"]
    # The report says that this server holds the ledger only once it does.
    assert reports == [False, False, True, True]
