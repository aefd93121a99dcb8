"""The rolling update's decisions, on payloads shaped as Dkron 4.1.2 returns them."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import (
    busy_seconds,
    departure_problems,
    health_problems,
    parse_raft_peers,
    quiet_start,
    raft_removal,
    update_order,
    version_skew,
)

UTC = timezone.utc

# `dkron raft list-peers` of Dkron 4.1.2 on the overlay scenario, copied as printed.
LIST_PEERS = """Node               ID                 Address           State     Voter
molecule-server-1  molecule-server-1  10.231.0.16:6868  follower  true
molecule-server-2  molecule-server-2  10.231.0.14:6868  leader    true
molecule-server-3  molecule-server-3  10.231.0.12:6868  follower  true
"""


def member(name, status="alive", server=True, version="4.1.2"):
    """A GET /v1/members record as Dkron 4.1.2 returns it (fields the tests do not read omitted)."""
    return {
        "Name": name,
        "Addr": "192.0.2.11",
        "Port": 8946,
        "Tags": {"dc": "dc1", "expect": "1", "port": "6868", "region": "global", "role": "dkron",
                 "rpc_addr": "192.0.2.11:6868", "server": "true" if server else "false", "version": version},
        "Status": 1,
        "statusText": status,
    }


SERVERS = ["cron-a", "cron-b", "cron-c"]


def test_order_is_agents_then_followers_then_the_leader():
    order = update_order(SERVERS, ["worker-2", "worker-1"], SERVERS + ["worker-1", "worker-2"], leader="cron-a")
    assert order == ["worker-1", "worker-2", "cron-b", "cron-c", "cron-a"]


def test_order_skips_nodes_already_updated_and_a_leader_moved_to_a_pending_node_goes_last():
    assert update_order(SERVERS, ["worker-1"], ["cron-b", "cron-c"], leader="cron-b") == ["cron-c", "cron-b"]
    assert update_order(SERVERS, ["worker-1"], [], leader="cron-b") == []


def test_a_pending_node_that_is_down_goes_first():
    order = update_order(SERVERS, ["worker-1"], SERVERS + ["worker-1"], leader="cron-a", down=["cron-c"])
    assert order == ["cron-c", "worker-1", "cron-b", "cron-a"]


@pytest.mark.parametrize("current, target, refused", [
    ({"cron-a": "4.0.8"}, "4.0.9", True),
    ({"cron-a": "4.0.9", "cron-b": "4.0.8"}, "4.1.2", True),
    ({"cron-a": "4.1.2"}, "4.0.8", True),
    ({"cron-a": "4.0.9"}, "4.1.2", False),
    ({"cron-a": "4.1.1", "cron-b": "4.1.2"}, "4.1.2", False),
    ({"cron-a": "3.2.7"}, "4.0.8", False),
])
def test_the_4_0_8_to_4_0_9_line_cannot_be_crossed_by_a_rolling_update(current, target, refused):
    reason = version_skew(current, target)
    assert (reason is not None) == refused
    if refused:
        assert "4.0.8/4.0.9" in reason and target in reason


def test_skew_message_names_the_nodes_on_the_other_side():
    reason = version_skew({"cron-a": "4.0.8", "cron-b": "4.0.8", "cron-c": "4.1.2"}, "4.1.2")
    assert reason.startswith("cron-a, cron-b run 4.0.8")


def test_raft_peers_are_read_by_id():
    assert parse_raft_peers(LIST_PEERS) == ["molecule-server-1", "molecule-server-2", "molecule-server-3"]
    non_voter = LIST_PEERS.replace("leader    true", "leader    false")
    assert parse_raft_peers(non_voter) == ["molecule-server-1", "molecule-server-3"]


def test_a_whole_cluster_has_no_problems():
    members = [member(name) for name in SERVERS] + [member("worker-1", server=False)]
    assert health_problems(members, "cron-a", SERVERS, voters=SERVERS, nodes=["worker-1"], version="4.1.2") == []


def test_every_failed_check_is_named():
    members = [member("cron-a"), member("cron-b", status="failed"), member("worker-1", server=False, version="4.1.1")]
    problems = health_problems(members, None, SERVERS, voters=["cron-a", "cron-b"], nodes=["worker-1", "cron-b"],
                               version="4.1.2")
    assert problems == [
        "no leader",
        "server cron-b is failed",
        "server cron-c is not a member",
        "Raft voters are ['cron-a', 'cron-b'], expected ['cron-a', 'cron-b', 'cron-c']",
        "worker-1 runs version 4.1.1, expected 4.1.2",
    ]


def job(name, schedule, **fields):
    """A GET /v1/jobs entry as Dkron 4.1.2 returns it, reduced to the fields the window reads."""
    record = {"name": name, "schedule": schedule, "timezone": "", "disabled": False, "parent_job": "",
              "next": "0001-01-01T00:00:00Z"}
    record.update(fields)
    return record


NOW = datetime(2026, 11, 22, 10, 0, 3, tzinfo=UTC)


def test_due_times_of_cron_every_and_at_schedules():
    jobs = [
        job("minutely", "0 * * * * *"),
        job("ten-seconds", "@every 10s", next="2026-11-22T10:00:05Z"),
        job("once", "@at 2026-11-22T10:00:30Z"),
        job("off", "* * * * * *", disabled=True),
        job("by-hand", "@manually"),
        job("child", "", parent_job="minutely"),
    ]
    busy, unknown = busy_seconds(jobs, NOW, 60)
    at = {moment.strftime("%M:%S"): names for moment, names in busy.items()}
    assert at == {"00:05": ["ten-seconds"], "00:15": ["ten-seconds"], "00:25": ["ten-seconds"],
                  "00:30": ["once"], "00:35": ["ten-seconds"], "00:45": ["ten-seconds"],
                  "00:55": ["ten-seconds"], "01:00": ["minutely"]}
    assert unknown == []


def test_cron_due_times_follow_the_job_time_zone():
    # 11:00 in Berlin (UTC+1 in November) is 10:00 UTC.
    busy, _unknown = busy_seconds([job("berlin", "0 0 11 * * *", timezone="Europe/Berlin")],
                                  NOW - timedelta(seconds=10), 20)
    assert list(busy) == [datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)]


def test_every_job_without_a_known_next_run_is_reported_not_guessed():
    busy, unknown = busy_seconds([job("fresh", "@every 5s", next="2026-11-22T09:00:00Z")], NOW, 30)
    assert busy == {} and unknown == ["fresh"]


def test_every_job_whose_next_run_just_fell_due_keeps_its_phase():
    # The run at 09:59:58 fell due 5 s ago and the server has not stored the next one yet.
    busy, unknown = busy_seconds([job("late", "@every 6s", next="2026-11-22T09:59:58Z")], NOW, 10)
    assert [moment.strftime("%M:%S") for moment in sorted(busy)] == ["00:04", "00:10"] and unknown == []
    # Two intervals old: the scheduler restarted since (a new leader), so the phase is not known.
    busy, unknown = busy_seconds([job("stale", "@every 6s", next="2026-11-22T09:59:50Z")], NOW, 10)
    assert busy == {} and unknown == ["stale"]


def test_quiet_start_is_now_when_nothing_is_due_within_the_margin():
    busy = {NOW + timedelta(seconds=20): ["a"]}
    assert quiet_start(busy, NOW, margin=8) == NOW


def test_quiet_start_waits_until_just_after_a_run():
    busy = {NOW + timedelta(seconds=s): ["ten"] for s in (2, 12, 22)}
    assert quiet_start(busy, NOW, margin=8, settle=1) == NOW + timedelta(seconds=3)


def test_no_quiet_start_when_jobs_are_due_more_often_than_the_margin():
    busy = {NOW + timedelta(seconds=s): ["five"] for s in range(0, 60, 5)}
    assert quiet_start(busy, NOW, margin=8, horizon=50) is None


def test_a_server_about_to_be_updated_may_be_down_and_dropped_from_raft():
    # CI run 838e7fa: the node broken by an earlier run had been failed so long that the leader had
    # removed it from Raft, and a gate that wanted it a voter refused the rerun that would repair it.
    members = [member("cron-a"), member("cron-b", status="failed"), member("cron-c")]
    assert health_problems(members, "cron-a", SERVERS, voters=SERVERS, excluding=["cron-b"]) == []
    assert health_problems(members, "cron-a", SERVERS, voters=["cron-a", "cron-c"], excluding=["cron-b"]) == []


def test_only_the_excluded_server_may_be_missing_from_raft():
    members = [member("cron-a"), member("cron-b", status="failed"), member("cron-c")]
    assert health_problems(members, "cron-a", SERVERS, voters=["cron-a", "cron-b"], excluding=["cron-b"]) == [
        "Raft voters are ['cron-a', 'cron-b'], expected ['cron-a', 'cron-b', 'cron-c'] (['cron-b'] may be missing)"]
    assert health_problems(members, "cron-a", SERVERS, voters=SERVERS + ["cron-x"], excluding=["cron-b"]) == [
        "Raft voters are ['cron-a', 'cron-b', 'cron-c', 'cron-x'], expected ['cron-a', 'cron-b', 'cron-c'] "
        "(['cron-b'] may be missing)"]


def test_a_departed_node_still_counted_alive_is_named_per_server():
    views = {
        "cron-a": [member("cron-a"), member("cron-b", status="failed")],
        "cron-c": [member("cron-c"), member("cron-b")],
        "cron-d": None,  # does not answer: it counts nobody alive
    }
    assert departure_problems(views, ["cron-b"]) == ["cron-c still sees cron-b alive"]
    views["cron-c"] = [member("cron-c"), member("cron-b", status="left")]
    assert departure_problems(views, ["cron-b"]) == []


FIVE = ["cron-a", "cron-b", "cron-c", "cron-d", "cron-e"]


def test_voters_no_longer_servers_are_removed_when_the_rest_keep_a_quorum():
    assert raft_removal(FIVE, SERVERS, alive=SERVERS) == (["cron-d", "cron-e"], None)
    assert raft_removal(SERVERS, SERVERS, alive=SERVERS) == ([], None)


def test_a_removal_that_would_leave_no_quorum_is_refused_with_the_numbers():
    remove, refusal = raft_removal(FIVE, ["cron-a", "cron-b"], alive=["cron-a", "cron-b"])
    assert remove == ["cron-c", "cron-d", "cron-e"]
    assert refusal == ("removing cron-c, cron-d, cron-e from the 5 voters would leave 2 alive (cron-a, cron-b), "
                       "fewer than the 3 a quorum of 5 needs: remove at most 2 server(s) per run, with the others alive")
    # Three stay, but one of them is down: two alive are no quorum of five either.
    assert raft_removal(FIVE, SERVERS, alive=["cron-a", "cron-b"])[1].startswith("removing cron-d, cron-e from the 5")


def test_a_voter_to_remove_that_still_runs_is_refused_unless_only_planning():
    assert raft_removal(FIVE, SERVERS, alive=FIVE)[1] == (
        "cron-d, cron-e are still alive: stop Dkron there first (move the host to the removed servers' group)")
    assert raft_removal(FIVE, SERVERS, alive=FIVE, require_stopped=False) == (["cron-d", "cron-e"], None)


def test_the_quorum_is_checked_before_the_servers_to_remove_are_stopped():
    # Planning 5 -> 2 while all five run: refused for the quorum, not for the running servers.
    refusal = raft_removal(FIVE, ["cron-a", "cron-b"], alive=FIVE, require_stopped=False)[1]
    assert refusal.startswith("removing cron-c, cron-d, cron-e from the 5 voters would leave 2 alive"), refusal
