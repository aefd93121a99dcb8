"""The catch-up service's loop without a server: what it reads, and when, on a new leader (the
integration tests run it against real Dkron servers)."""

import json

import pytest

from support.host_scripts import load_catchup_service

service = load_catchup_service()


class Stop(Exception):
    """Ends the service's endless loop after the polls a test wants."""


class ScriptedServer:
    """A server whose answers to the service come from lists, one per poll: whether it leads, and
    whether its store has applied the log when asked (True once the list runs out)."""

    def __init__(self, leads, current):
        self.calls = []
        self.leading = iter(leads)
        self.current = iter(current)

    def leads(self):
        return next(self.leading)

    def store_is_current(self):
        current = next(self.current, True)
        self.calls.append("store_is_current: %s" % current)
        return current

    def jobs(self):
        self.calls.append("jobs")
        return []

    def records(self):
        self.calls.append("records")
        return {}


def run_service(monkeypatch, tmp_path, server, polls):
    """Runs the service's loop for ``polls`` polls against ``server``: (the calls made by the end of
    each poll, the report's leader flag after each poll, what it logged)."""
    report_path = tmp_path / "ledger.json"
    calls, leader_flags, said = [], [], []
    monkeypatch.setattr(service, "Dkron", lambda _api_url: server)
    monkeypatch.setattr(service, "log", lambda message, *args: said.append(message % args if args else message))

    def sleep(_seconds):
        calls.append(server.calls[:])
        leader_flags.append(json.loads(report_path.read_text())["leader"])
        if len(calls) == polls:
            raise Stop()

    monkeypatch.setattr(service.time, "sleep", sleep)
    with pytest.raises(Stop):
        service.main(["--report", str(report_path), "--poll", "0"])
    return calls, leader_flags, said


def test_a_new_leader_s_store_is_read_only_once_it_has_applied_the_log(monkeypatch, tmp_path):
    server = ScriptedServer(leads=[True] * 4, current=[False, False])
    calls, leader_flags, said = run_service(monkeypatch, tmp_path, server, polls=4)
    # Nothing read before the store had applied the log; the catch-up and the ledger after it.
    assert calls[1] == ["store_is_current: False", "store_is_current: False"]
    assert calls[2][2:] == ["store_is_current: True", "jobs", "records", "jobs"]
    # Not asked again while this server leads: the next poll only catches up (the report is not due).
    assert calls[3][len(calls[2]):] == ["jobs"]
    # The report says that this server holds the ledger only once it does.
    assert leader_flags == [False, False, True, True]
    assert len([line for line in said if "not applied the log yet" in line]) == 1, said


def test_a_leader_elected_again_waits_for_its_store_again(monkeypatch, tmp_path):
    server = ScriptedServer(leads=[True, False, True, True], current=[True, False, True])
    calls, leader_flags, _said = run_service(monkeypatch, tmp_path, server, polls=4)
    barriers = [call for call in calls[-1] if call.startswith("store_is_current")]
    assert barriers == ["store_is_current: True", "store_is_current: False", "store_is_current: True"]
    # No read between the second election and its store being current.
    assert calls[2][len(calls[1]):] == ["store_is_current: False"]
    assert leader_flags == [True, False, False, True]
