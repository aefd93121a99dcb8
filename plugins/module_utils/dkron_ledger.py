# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ledger of a job's scheduled runs, and the catch-up after a failover.

Dkron does not run what falls due while it elects a leader, nor keep an account of it. The ledger
works that account out from the schedule (the same code as the validation and the alert rules) and
the job's executions, which Dkron keeps (the last 100 per job):

- a cron schedule has fixed slots (``robfig_next``); a run belongs to the last slot at or before
  its start: ``ran``, or ``late`` when it started more than the tolerance after it; a second run in
  one slot makes it ``doubled``; a slot with no run is ``missed``.
- ``@every`` has no fixed slots: each leader's scheduler starts its timers afresh. The slots follow
  the runs: after a run, the next slot is one interval later, and a run within half an interval of
  it is its run. A run less than half an interval after the previous one is a ``doubled`` slot; a
  slot with no run within half an interval is ``missed``.
- A slot that a catch-up run stands in for is ``caught_up``.

Catch-up is a per-job policy kept in the job's metadata (``hacron_catchup``,
``hacron_catchup_window``, ``hacron_catchup_max``): ``none``, ``latest`` (after a gap, run once, as
Nomad does) or ``all`` (each slot of the gap, at most ``max``). The service that applies it
(roles/catchup) writes a record in Dkron's store before each run it starts, so that no server
starts a second run for the same slot, whichever is leader: ``catchup_plan`` never plans a slot
that has a record, and never more than ``max`` runs for one gap (one for ``latest``).

Times are seconds since the epoch (floats).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from bisect import bisect_right
from datetime import datetime, timezone as fixed_offset

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_alert_rules import robfig_next
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import _firing_schedule, rfc3339_parts
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import (
    JobSpecError,
    go_duration_seconds,
    load_zone,
)

STATUSES = ("ran", "late", "missed", "doubled", "caught_up")
POLICIES = ("none", "latest", "all")
CATCHUP_PREFIX = "hacron_catchup"
POLICY_KEY, WINDOW_KEY, MAX_KEY = CATCHUP_PREFIX, CATCHUP_PREFIX + "_window", CATCHUP_PREFIX + "_max"
# The disabled job whose metadata holds the catch-up records, one entry per job: Dkron's Raft store
# is the one place that outlives the leader that wrote them.
RECORDS_JOB = "hacron-catchup-records"
# A catch-up run is the first run that Dkron started within this long of its record.
_RECORD_MATCH_SECONDS = 60.0


# --- the policy -------------------------------------------------------------------------------------
def catchup_metadata(catchup, schedule, parent_job=None):
    """The metadata entries for a job's ``catchup`` option ({policy, window, max}); JobSpecError
    when the policy cannot be applied. ``none`` (or no option) gives no entries."""
    if not catchup:
        return {}
    if not isinstance(catchup, dict):
        raise JobSpecError("catchup must be a mapping with policy, window and max")
    unknown = sorted(set(catchup) - {"policy", "window", "max"})
    if unknown:
        raise JobSpecError("catchup: unknown key(s) %s; use policy, window and max" % ", ".join(unknown))
    policy = catchup.get("policy") or "none"
    if policy not in POLICIES:
        raise JobSpecError("catchup policy %r is not one of %s" % (policy, ", ".join(POLICIES)))
    if policy == "none":
        if catchup.get("window") is not None or catchup.get("max") is not None:
            raise JobSpecError("catchup: window and max apply to the latest and all policies, not to none")
        return {}
    if parent_job or not schedule:
        raise JobSpecError("catchup policy %r needs a schedule of the job's own (a dependent job runs after its "
                           "parent, and is caught up with it)" % policy)
    kind = _firing_schedule(schedule)[0]
    if kind not in ("cron", "every"):
        raise JobSpecError("catchup policy %r needs a repeating schedule, not %r" % (policy, schedule))
    window = catchup.get("window")
    seconds = go_duration_seconds(window) if isinstance(window, str) else None
    if not seconds or seconds <= 0:
        raise JobSpecError("catchup window %r is not a positive Go duration such as 1m or 15m" % (window,))
    entries = {POLICY_KEY: policy, WINDOW_KEY: window}
    most = catchup.get("max")
    if policy == "all":
        if most is None:
            raise JobSpecError("catchup policy all needs max, the most runs one gap may start")
        if isinstance(most, bool) or not isinstance(most, int) or most < 1:
            raise JobSpecError("catchup max %r is not a whole number of 1 or more" % (most,))
        entries[MAX_KEY] = str(most)
    elif most is not None:
        raise JobSpecError("catchup max applies to the all policy only (latest runs once)")
    return entries


def job_policy(job):
    """(policy, window seconds, max runs) from a job's stored metadata; ('none', 0, 0) without one
    or with entries this version does not understand."""
    metadata = job.get("metadata") or {}
    policy = metadata.get(POLICY_KEY, "none")
    window = go_duration_seconds(metadata.get(WINDOW_KEY) or "") or 0
    if policy not in ("latest", "all") or window <= 0:
        return "none", 0, 0
    if policy == "latest":
        return policy, window, 1
    try:
        most = int(metadata.get(MAX_KEY, ""))
    except ValueError:
        return "none", 0, 0
    return (policy, window, most) if most >= 1 else ("none", 0, 0)


# --- runs and slots ---------------------------------------------------------------------------------
def _seconds(text):
    """Seconds since the epoch of the RFC 3339 times Dkron writes, to the nanosecond it keeps."""
    parts = rfc3339_parts(text) if text else None
    if not parts:
        return None
    moment, fraction = parts
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)


def runs_from_executions(executions):
    """One run per execution group (a run on several nodes, or retried, is one run), oldest first:
    dicts with ``start`` (the first execution's start) and ``triggered`` (the group, when the leader
    started it), in the order they were triggered."""
    groups = {}
    for execution in executions or []:
        start = _seconds(execution.get("started_at"))
        if start is None:
            continue
        group = execution.get("group") or 0
        run = groups.setdefault(group, {"start": start, "triggered": group / 1e9 if group else start})
        run["start"] = min(run["start"], start)
    return sorted(groups.values(), key=lambda run: run["triggered"])


def _catchup_runs(runs, records):
    """{id(run): record} for the run each catch-up record started."""
    claimed = {}
    for record in sorted(records or [], key=lambda record: record["at"]):
        for run in runs:
            if id(run) not in claimed and record["at"] - 1 <= run["triggered"] <= record["at"] + _RECORD_MATCH_SECONDS:
                claimed[id(run)] = record
                break
    return claimed


def _cron_slots(parsed, zone, start, end):
    slots, moment = [], datetime.fromtimestamp(start - 1, fixed_offset.utc)
    while len(slots) < 10000:
        moment = robfig_next(parsed, moment, zone)
        if moment is None or moment.timestamp() > end:
            break
        slots.append(moment.timestamp())
    return slots


def _cron_ledger(parsed, zone, runs, since, now, tolerance):
    slots = {slot: [] for slot in _cron_slots(parsed, zone, since, now)}
    order = sorted(slots)
    for run in runs:
        position = bisect_right(order, run["start"] + 1)  # Dkron may stamp a start a hair early
        if position:
            slots[order[position - 1]].append(run)
    entries = []
    for slot in order:
        found = slots[slot]
        if len(found) > 1:
            status = "doubled"
        elif found:
            status = "late" if found[0]["start"] - slot > tolerance else "ran"
        elif now - slot > tolerance:
            status = "missed"
        else:
            continue  # due so recently that its run may still be starting
        entries.append({"slot": slot, "status": status, "run": found[0]["start"] if found else None})
    return entries


def _every_ledger(interval, runs, since, now):
    """Slots anchored on the runs. Slots before ``since`` are skipped, not listed.

    A due slot with no run is missed only half an interval after it: the scheduler may yet run it
    that late, and until then nothing here can tell (a new leader's ``next`` is the old leader's
    plan until its own first run)."""
    entries, half = [], interval / 2.0
    for index, run in enumerate(runs):
        # Two in one slot only when the leader also triggered them that close: an agent may start a
        # run seconds late on a loaded host, and the next one, on time, then starts soon after it.
        previous = runs[index - 1] if index else None
        if previous and run["start"] - previous["start"] < half and run["triggered"] - previous["triggered"] < half:
            entries[-1]["status"] = "doubled"
        else:
            entries.append({"slot": run["start"], "status": "ran", "run": run["start"]})
        # The slots after the later run of a doubled slot are counted too: a gap may follow it.
        following = runs[index + 1]["start"] if index + 1 < len(runs) else now
        slot = run["start"] + interval
        if slot < since:  # a long outage: count from the window's start, not slot by slot
            slot += (since - slot) // interval * interval
        while slot < following - half:
            entries.append({"slot": slot, "status": "missed", "run": None})
            slot += interval
    return entries


def ledger(job, executions, records=None, now=None, window=3600.0, tolerance=5.0):
    """The job's slots since ``now - window`` (and since its oldest kept execution) with their
    status, oldest first, and the count of each status: ``{"slots": [...], "counts": {...}}``.

    ``records`` are the job's catch-up records (``{"at", "slots", "policy"}``): the run each one
    started is kept out of the schedule's slots, and the missed slots it stands for are
    ``caught_up``; after a ``latest`` run, so is the rest of its gap.
    """
    now = now if now is not None else datetime.now(fixed_offset.utc).timestamp()
    counts = dict((status, 0) for status in STATUSES)
    schedule = job.get("schedule") or ""
    if job.get("disabled") or job.get("parent_job") or not schedule:
        return {"slots": [], "counts": counts}
    kind, detail, prefix_zone = _firing_schedule(schedule)
    if kind not in ("cron", "every"):
        return {"slots": [], "counts": counts}
    runs = runs_from_executions(executions)
    catchups = _catchup_runs(runs, records)
    regular = [run for run in runs if id(run) not in catchups]
    since = now - window
    if kind == "every":
        entries = _every_ledger(detail, regular, since, now)
    else:
        oldest = runs[0]["start"] if runs else now
        zone = load_zone(prefix_zone or job.get("timezone") or "UTC") or fixed_offset.utc
        entries = _cron_ledger(detail, zone, regular, max(since, oldest - 1), now, tolerance)
    # A record stands for its slots from the moment it is written, before its run shows: that is
    # what keeps a second server from starting them again.
    covered = [slot for record in records or [] for slot in record.get("slots", [])]
    for entry in entries:
        if entry["status"] == "missed" and any(abs(entry["slot"] - slot) < 1 for slot in covered):
            entry["status"] = "caught_up"
    # latest runs once for a whole gap, slots that went by after its run included.
    if any(record.get("policy") == "latest" for record in records or []):
        for gap in _gaps(entries):
            if any(entry["status"] == "caught_up" for entry in gap):
                for entry in gap:
                    entry["status"] = "caught_up"
    entries = [entry for entry in entries if entry["slot"] >= since]
    for entry in entries:
        counts[entry["status"]] += 1
    return {"slots": entries, "counts": counts}


# --- the catch-up -----------------------------------------------------------------------------------
def _gaps(entries):
    """Runs of consecutive missed or caught-up slots."""
    gaps, current = [], []
    for entry in entries:
        if entry["status"] in ("missed", "caught_up"):
            current.append(entry)
        elif current:
            gaps.append(current)
            current = []
    if current:
        gaps.append(current)
    return gaps


def catchup_plan(job, executions, records=None, now=None, tolerance=5.0, elected_at=None):
    """The catch-up runs to start now, oldest first: ``[{"slot", "slots", "policy"}]``, where
    ``slots`` are the missed slots the run stands in for (the record to write before it). Nothing for
    a gap whose catch-up was started (it has a record, written by this server or a leader before
    it), except under ``all`` the slots still due of its ``max`` (runs Dkron refused); nothing for
    slots older than the policy's window. Given ``elected_at``, only the gap that
    election left: one that a run closed before it (the job's only node was down, say) is the
    missed-runs alert's to tell, not caught up minutes later by a failover it had nothing to do with."""
    policy, window, most = job_policy(job)
    if policy == "none":
        return []
    now = now if now is not None else datetime.now(fixed_offset.utc).timestamp()
    account = ledger(job, executions, records, now=now, window=window, tolerance=tolerance)
    runs = [entry["run"] for entry in account["slots"] if entry["run"] is not None]
    plan = []
    for gap in _gaps(account["slots"]):
        if elected_at is not None and any(gap[-1]["slot"] < run < elected_at for run in runs):
            continue
        caught_up = [entry["slot"] for entry in gap if entry["status"] == "caught_up"]
        if policy == "latest":
            if not caught_up:
                plan.append({"slot": gap[-1]["slot"], "slots": [entry["slot"] for entry in gap], "policy": policy})
            continue
        # At most ``most`` runs for the gap in all: the slots whose run Dkron refused (their records
        # taken back) are tried again, up to what the runs already started leave. Only slots older
        # than the newest one caught up: a pass plans the newest, so those are the refused ones; a
        # newer one is the gap growing, where the new leader's own first run may not be listed yet.
        room = most - len(caught_up)
        newest_caught_up = max(caught_up or [float("inf")])
        if room > 0:
            missed = [entry for entry in gap if entry["status"] == "missed" and entry["slot"] < newest_caught_up]
            plan.extend({"slot": entry["slot"], "slots": [entry["slot"]], "policy": policy} for entry in missed[-room:])
    return plan
