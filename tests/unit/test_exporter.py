"""The exporter's readings that need no server: Dkron's times and the Raft listing (the integration
test runs it against a real cluster)."""

import json
import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import parse_raft_peers
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import rfc3339_time
from plugins.module_utils.test_dkron_rolling import LIST_PEERS
from support.host_scripts import load_exporter

exporter = load_exporter()


@pytest.mark.parametrize("text, seconds", [
    ("2026-12-06T19:00:00Z", 1796583600.0),
    ("2026-12-06T19:00:00.25Z", 1796583600.25),
    ("2026-12-06T20:00:00+01:00", 1796583600.0),
    ("2026-12-06T14:00:00-05:00", 1796583600.0),
    ("0001-01-01T00:00:00Z", 0.0),  # Go's zero time: never
    (None, 0.0),
    ("", 0.0),
])
def test_dkron_times(text, seconds):
    assert exporter.timestamp(text) == seconds


@pytest.mark.parametrize("text", [
    "2026-12-06T19:00:00Z", "2026-12-06T19:00:00.25Z", "2026-12-06T20:00:00+01:00", "2026-12-06T14:00:00-05:00",
    "2026-03-29T01:59:59.999999Z",
])
def test_dkron_times_read_as_the_collection_reads_them(text):
    # The exporter cannot import the collection's one RFC 3339 parser on the hosts: held together here
    # on the whole seconds (rfc3339_time drops the fraction; the exporter keeps it, as tested above).
    assert int(exporter.timestamp(text)) == rfc3339_time(text).timestamp()


def test_raft_listing_read_as_the_collection_reads_it():
    with_learner = LIST_PEERS + "dkron-4            dkron-4            10.0.0.4:6868     Follower  false\n"
    assert exporter.raft_voters(with_learner) == parse_raft_peers(with_learner)
    assert "dkron-4" not in exporter.raft_voters(with_learner) and len(exporter.raft_voters(LIST_PEERS)) >= 1


def test_the_ledger_report_as_metrics(tmp_path):
    """The catch-up service's report (as roles/catchup/files writes it) read on each refresh; a
    missing report is time 0, which DkronCatchupDown fires on."""
    exporter = load_exporter()
    report = tmp_path / "ledger.json"
    reader = exporter.DkronReader("http://127.0.0.1:9", timeout=0.5, cache_seconds=0, ledger_report=str(report))
    assert "dkron_catchup_report_timestamp_seconds 0.0" in reader.metrics()
    assert "dkron_job_ledger_slots" not in reader.metrics()
    report.write_text(json.dumps({
        "generated_at": "2026-12-07T01:05:26.810392Z", "server": "server-2", "leader": True,
        "jobs": {"nightly": {"policy": "none", "counts": {"ran": 5, "late": 0, "missed": 2, "doubled": 0,
                                                          "caught_up": 0}, "slots": []}}}))
    text = reader.metrics()
    assert "dkron_catchup_report_timestamp_seconds 1796605526.810392" in text
    assert 'dkron_job_ledger_slots{dkron_job="nightly",status="missed"} 2.0' in text
    assert 'dkron_job_ledger_slots{dkron_job="nightly",status="ran"} 5.0' in text
