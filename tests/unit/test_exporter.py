"""The exporter's readings that need no server: Dkron's times and the Raft listing (the integration
test runs it against a real cluster)."""

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import parse_raft_peers
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import rfc3339_time
from plugins.module_utils.test_dkron_rolling import LIST_PEERS
from support.exporter import load_exporter

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
