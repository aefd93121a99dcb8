"""The ledger of scheduled runs and the catch-up plan, on executions shaped as Dkron 4.1.2 returns
them (GET /v1/jobs/{name}/executions, read from the real server on loopback): times in RFC 3339
with nanoseconds, the group the leader's trigger time in nanoseconds, one execution per node and
attempt."""

from datetime import datetime, timezone

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_ledger import (
    catchup_metadata,
    catchup_plan,
    job_policy,
    ledger,
    runs_from_executions,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import JobSpecError

T0 = 1796605140.0  # 2026-12-07T00:59:00Z, a whole minute


def execution(start, group=None, node="agent-1", attempt=1):
    """One execution as Dkron returns it; ``start`` in seconds after T0."""
    started = T0 + start
    stamp = datetime.fromtimestamp(started, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
    group_ns = int(round((T0 + (start if group is None else group)) * 1e9))
    return {"id": "%d-%s" % (int(started * 1e9), node), "job_name": "canary", "started_at": stamp,
            "finished_at": stamp, "success": True, "output": "", "node_name": node, "group": group_ns,
            "attempt": attempt, "output_truncated": False}


def job(schedule="@every 10s", **metadata):
    return {"name": "canary", "schedule": schedule, "timezone": "", "disabled": False, "parent_job": "",
            "metadata": metadata or None}


def seconds(slots):
    return [round(slot - T0, 1) for slot in slots]


def statuses(account):
    return [(round(entry["slot"] - T0, 1), entry["status"]) for entry in account["slots"]]


def test_one_run_per_group_whatever_the_nodes_and_attempts():
    runs = runs_from_executions([execution(10.2, group=10.0, node="agent-2"), execution(10.1, group=10.0),
                                 execution(20.1, group=20.0), execution(25.0, group=20.0, attempt=2)])
    assert [round(run["start"] - T0, 1) for run in runs] == [10.1, 20.1]


def test_every_slots_follow_the_runs_and_a_gap_is_missed_slots():
    executions = [execution(start) for start in (0, 10, 20, 48, 58)]
    account = ledger(job(), executions, now=T0 + 60)
    assert statuses(account) == [(0, "ran"), (10, "ran"), (20, "ran"), (30, "missed"), (40, "missed"),
                                 (48, "ran"), (58, "ran")]
    assert account["counts"] == {"ran": 5, "late": 0, "missed": 2, "doubled": 0, "caught_up": 0}


def test_a_run_half_an_interval_late_is_the_new_anchor_not_a_miss():
    account = ledger(job(), [execution(start) for start in (0, 14, 24)], now=T0 + 30)
    assert account["counts"]["missed"] == 0 and account["counts"]["ran"] == 3


def test_two_runs_within_half_an_interval_are_one_doubled_slot():
    account = ledger(job(), [execution(start) for start in (0, 10, 13, 23)], now=T0 + 30)
    assert statuses(account) == [(0, "ran"), (10, "doubled"), (23, "ran")]


def test_a_gap_after_a_doubled_slot_is_missed_slots():
    account = ledger(job(), [execution(start) for start in (0, 10, 12, 60)], now=T0 + 62)
    assert statuses(account) == [(0, "ran"), (10, "doubled"), (22, "missed"), (32, "missed"), (42, "missed"),
                                 (52, "missed"), (60, "ran")]


def test_an_agent_s_late_start_is_not_a_double_when_the_leader_triggered_on_time():
    # Triggered on time every 10 s; the agent started the second run 6 s late (a loaded host): by the
    # starts alone, 16 -> 20 would look like two runs in one slot. Its slot counts as missed, as the
    # file of a canary job would tell (no run within half an interval of it).
    executions = [execution(0), execution(16, group=10), execution(20), execution(30)]
    account = ledger(job(), executions, now=T0 + 35)
    assert statuses(account) == [(0, "ran"), (10, "missed"), (16, "ran"), (20, "ran"), (30, "ran")]
    # Triggered twice within half an interval, it is one slot run twice.
    account = ledger(job(), [execution(0), execution(10), execution(12), execution(20)], now=T0 + 25)
    assert statuses(account) == [(0, "ran"), (10, "doubled"), (20, "ran")]


def test_a_due_slot_is_missed_half_an_interval_after_it():
    executions = [execution(0)]
    assert statuses(ledger(job(), executions, now=T0 + 14)) == [(0, "ran")]
    assert statuses(ledger(job(), executions, now=T0 + 15.1)) == [(0, "ran"), (10, "missed")]


def test_cron_slots_are_fixed_and_a_run_is_ran_late_or_doubled():
    executions = [execution(start) for start in (0.01, 60.02, 187.0, 240.01, 241.5)]
    account = ledger(job("0 * * * * *"), executions, now=T0 + 300)
    # The 300 s slot is due this very second: not counted yet.
    assert statuses(account) == [(0, "ran"), (60, "ran"), (120, "missed"), (180, "late"), (240, "doubled")]
    assert account["counts"] == {"ran": 2, "late": 1, "missed": 1, "doubled": 1, "caught_up": 0}


def test_a_cron_slot_due_within_the_tolerance_is_not_counted_yet():
    account = ledger(job("0 * * * * *"), [execution(0.01)], now=T0 + 62)
    assert statuses(account) == [(0, "ran")]


def test_the_window_bounds_the_account():
    executions = [execution(start) for start in range(0, 600, 10)]
    account = ledger(job(), executions, now=T0 + 600, window=60)
    assert all(entry["slot"] >= T0 + 540 for entry in account["slots"]) and account["counts"]["ran"] == 6


def test_a_catch_up_run_stands_for_its_slot_and_is_kept_out_of_the_schedule():
    record = {"at": T0 + 10.0, "slots": [T0 + 10]}
    executions = [execution(0), execution(10.05, group=10.01), execution(18)]
    account = ledger(job(), executions, [record], now=T0 + 25)
    assert statuses(account) == [(0, "ran"), (10, "caught_up"), (18, "ran")]


def test_latest_runs_once_for_the_newest_slot_of_a_gap_and_a_record_stops_a_second_run():
    latest = job(hacron_catchup="latest", hacron_catchup_window="1m")
    executions = [execution(0), execution(10), execution(20)]
    now = T0 + 56  # the leader died at 23 s; the 50 s slot has been without a run for half an interval
    plan = catchup_plan(latest, executions, now=now)
    assert [(seconds([entry["slot"]]), seconds(entry["slots"])) for entry in plan] == [([50], [30, 40, 50])]
    record = {"at": now, "slots": plan[0]["slots"], "policy": "latest"}
    assert catchup_plan(latest, executions, [record], now=now + 1) == []
    # Its run shows up, then the new leader's: nothing more, and nothing doubled.
    later = executions + [execution(56.1, group=56.05), execution(63)]
    assert catchup_plan(latest, later, [record], now=T0 + 70) == []
    assert ledger(latest, later, [record], now=T0 + 70)["counts"] == {
        "ran": 4, "late": 0, "missed": 0, "doubled": 0, "caught_up": 3}


def test_latest_closes_the_slots_of_its_gap_that_went_by_after_its_run():
    latest = job(hacron_catchup="latest", hacron_catchup_window="1m")
    # Caught up at 16 s for the 10 s slot; the new leader's timer first ran at 28 s, past the 20 s slot.
    record = {"at": T0 + 16, "slots": [T0 + 10], "policy": "latest"}
    executions = [execution(0), execution(16.1, group=16.05), execution(28)]
    expected = [(0, "ran"), (10, "caught_up"), (20, "caught_up"), (28, "ran")]
    assert statuses(ledger(latest, executions, [record], now=T0 + 30)) == expected
    assert catchup_plan(latest, executions, [record], now=T0 + 30) == []
    assert statuses(ledger(latest, executions, [dict(record, policy="all")], now=T0 + 30))[2] == (20, "missed")


def test_all_runs_at_most_max_of_a_long_gap_and_only_within_its_window():
    every = job(hacron_catchup="all", hacron_catchup_window="15m", hacron_catchup_max="3")
    executions = [execution(0)]
    plan = catchup_plan(every, executions, now=T0 + 606)
    assert seconds(entry["slot"] for entry in plan) == [580, 590, 600]
    records = [{"at": T0 + 606, "slots": entry["slots"]} for entry in plan]
    assert catchup_plan(every, executions, records, now=T0 + 607) == []
    narrow = job(hacron_catchup="all", hacron_catchup_window="1m", hacron_catchup_max="3")
    assert catchup_plan(narrow, [execution(0)], now=T0 + 6006)[0]["slot"] - T0 == pytest.approx(5980)


def test_all_tries_again_the_runs_dkron_refused_and_never_exceeds_max_for_a_gap():
    every = job(hacron_catchup="all", hacron_catchup_window="15m", hacron_catchup_max="3")
    executions = [execution(0)]
    # Dkron refused the 580 s slot's run (its record taken back) and started the other two.
    started = [{"at": T0 + 606, "slots": [T0 + 590]}, {"at": T0 + 606, "slots": [T0 + 600]}]
    later = executions + [execution(606.1, group=606.05), execution(606.2, group=606.15)]
    plan = catchup_plan(every, later, started, now=T0 + 608)
    assert [seconds(entry["slots"]) for entry in plan] == [[580]]
    # Three runs started: the gap has had its max, however long it grows before the next regular run.
    started.append({"at": T0 + 608, "slots": [T0 + 580]})
    later.append(execution(608.1, group=608.05))
    assert catchup_plan(every, later, started, now=T0 + 608.5) == []
    assert catchup_plan(every, later, started, now=T0 + 640) == []


def test_all_does_not_run_the_slots_a_gap_grows_by_after_its_catch_up():
    every = job(hacron_catchup="all", hacron_catchup_window="15m", hacron_catchup_max="3")
    # Slot 20 caught up at 33.6 s; the new leader's first run, due at 35 s, is not listed yet: its
    # slot, 30, is the gap growing, not a refused run.
    record = {"at": T0 + 33.6, "slots": [T0 + 20], "policy": "all"}
    executions = [execution(0), execution(10), execution(33.65, group=33.6)]
    assert catchup_plan(every, executions, [record], now=T0 + 35.6, elected_at=T0 + 21) == []
    # A record whose run never came takes the next regular run for its own: that run's slot is no
    # refused one either.
    orphan = {"at": T0 + 16, "slots": [T0 + 10]}
    assert catchup_plan(every, [execution(0), execution(20)], [orphan], now=T0 + 26, elected_at=T0 + 12) == []


def test_after_an_election_only_the_gap_it_left_is_caught_up():
    every = job(hacron_catchup="all", hacron_catchup_window="15m", hacron_catchup_max="3")
    # A gap at 20-40 s (the agent was down) closed by the run at 50 s; the leader then died at 65 s
    # and the next one was elected at 68 s: the 70 and 80 s slots are that election's.
    executions = [execution(start) for start in (0, 10, 50, 60)]
    plan = catchup_plan(every, executions, now=T0 + 86, elected_at=T0 + 68)
    assert [seconds(entry["slots"]) for entry in plan] == [[70], [80]]
    # Without an election to go by, every gap in the window.
    assert len(catchup_plan(every, executions, now=T0 + 86)) == 5


def test_no_policy_no_plan_and_no_gap_no_plan():
    assert catchup_plan(job(), [execution(0)], now=T0 + 600) == []
    latest = job(hacron_catchup="latest", hacron_catchup_window="1m")
    assert catchup_plan(latest, [execution(0), execution(10)], now=T0 + 15) == []


@pytest.mark.parametrize("metadata, expected", [
    ({}, ("none", 0, 0)),
    ({"hacron_catchup": "latest", "hacron_catchup_window": "1m"}, ("latest", 60, 1)),
    ({"hacron_catchup": "all", "hacron_catchup_window": "15m", "hacron_catchup_max": "3"}, ("all", 900, 3)),
    ({"hacron_catchup": "all", "hacron_catchup_window": "15m"}, ("none", 0, 0)),
    ({"hacron_catchup": "sometimes", "hacron_catchup_window": "1m"}, ("none", 0, 0)),
])
def test_the_policy_read_back_from_metadata(metadata, expected):
    assert job_policy({"metadata": metadata}) == expected


def test_the_policy_as_metadata():
    assert catchup_metadata({"policy": "latest", "window": "1m"}, "@every 10s") == {
        "hacron_catchup": "latest", "hacron_catchup_window": "1m"}
    assert catchup_metadata({"policy": "all", "window": "15m", "max": 3}, "0 0 * * * *") == {
        "hacron_catchup": "all", "hacron_catchup_window": "15m", "hacron_catchup_max": "3"}
    assert catchup_metadata({"policy": "none"}, "@manually") == {}
    assert catchup_metadata(None, "@every 10s") == {}


@pytest.mark.parametrize("catchup, schedule, parent, message", [
    ({"policy": "latest", "window": "a minute"}, "@every 10s", None, "not a positive Go duration"),
    ({"policy": "latest"}, "@every 10s", None, "not a positive Go duration"),
    ({"policy": "all", "window": "5m", "max": 0}, "@every 10s", None, "1 or more"),
    ({"policy": "all", "window": "5m"}, "@every 10s", None, "needs max"),
    ({"policy": "latest", "window": "5m", "max": 2}, "@every 10s", None, "all policy only"),
    ({"policy": "latest", "window": "5m"}, "", "parent", "schedule of the job's own"),
    ({"policy": "latest", "window": "5m"}, "@manually", None, "repeating schedule"),
    ({"policy": "often", "window": "5m"}, "@every 10s", None, "not one of none, latest, all"),
    ({"policy": "latest", "windw": "5m"}, "@every 10s", None, "unknown key(s) windw"),
    ({"policy": "none", "window": "5m"}, "@every 10s", None, "not to none"),
])
def test_a_policy_that_cannot_apply_is_refused(catchup, schedule, parent, message):
    with pytest.raises(JobSpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        catchup_metadata(catchup, schedule, parent)
