# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus alert rules made from the declared job set.

- ``robfig_next``: the next run of a cron schedule exactly as Dkron's scheduler (robfig/cron v3's
  ``SpecSchedule.Next``) works it out, daylight-saving changes included: hours, minutes and seconds
  advance in absolute time, so a run in the hour clocks skip does not happen that day and a run in
  the hour they repeat happens twice.
- ``longest_gap_seconds``: the longest time between two consecutive runs of a schedule, which is
  how long a healthy job may go without a success.
- ``job_alert_rules``: per job, the stale (dead-man), failed and never-ran rules.
- ``cluster_alert_rules``: no leader, a Raft voter missing, a member failed, an exporter down.

The rules read the per-job gauges of the collection's exporter; ``max by (dkron_job)`` makes one
alert per job however many servers export it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import date, datetime, timedelta, timezone as fixed_offset

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import _firing_schedule
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import (
    JobSpecError,
    go_duration_seconds,
    load_zone,
)

SECOND = timedelta(seconds=1)
# robfig/cron gives up on a schedule with no run within five years (it then never runs again).
_YEAR_LIMIT = 5
# A year and a bit covers every daylight-saving change a zone makes; a schedule with fewer than
# two runs in it (such as 29 February) is followed for up to nine years.
_HORIZON = timedelta(days=368)
_LONG_HORIZON = timedelta(days=9 * 366)
_MAX_RUNS = 5000
_ALERT_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")

# What each kind of alert is called, how bad it is by default, and its one-line runbook.
CLUSTER_ALERTS = {
    "no_leader": ("DkronNoLeader", "critical",
                  "No server reports a leader for longer than an election takes: no job is scheduled. Check "
                  "that a majority of the servers is up (dkron_cluster_info) and read their logs."),
    "voter_missing": ("DkronRaftVoterMissing", "critical",
                      "A server the inventory expects is not a Raft voter: one more failure loses the majority. "
                      "Start the server, or converge site.yml to bring it back."),
    "member_failed": ("DkronMemberFailed", "warning",
                      "A node of the cluster is failed in Dkron's member list: its tagged jobs do not run there. "
                      "Check the host and its Dkron container."),
    "exporter_down": ("DkronExporterDown", "warning",
                      "Prometheus cannot scrape a server's exporter through the API proxy: the alerts above are "
                      "blind there. Check nginx and hacron-dkron-exporter.service on that server."),
    "missed_runs": ("DkronJobMissedRuns", "warning",
                    "Scheduled runs of the job did not happen (an election, or a node that died with the run): "
                    "read the ledger (/var/lib/hacron-dkron-catchup/ledger.json on a server), run the job by hand "
                    "if it matters, or give it a catch-up policy."),
    "doubled_runs": ("DkronJobDoubledRuns", "warning",
                     "A scheduled slot of the job ran more than once: check that the job is safe to repeat, and "
                     "its concurrency and tags."),
    "catchup_down": ("DkronCatchupDown", "warning",
                     "The catch-up service on a server has not written its ledger: missed runs go uncounted and "
                     "uncaught there. Check hacron-dkron-catchup.service on that server."),
}
RECONCILE_ALERTS = {
    "drifted": ("DkronJobsDrifted", "warning",
                "The scheduled reconcile found jobs that differ from the inventory (changed, added or removed "
                "by hand): read its report (last.json) and move the change into the inventory or let it go."),
    "failed": ("DkronReconcileFailed", "warning",
               "The scheduled reconcile could not apply or compare every declared job: read "
               "journalctl -u hacron-reconcile.service and its report (last.json)."),
    "not_running": ("DkronReconcileNotRunning", "warning",
                    "The scheduled reconcile has not reported for longer than it should: check "
                    "hacron-reconcile.timer and the node exporter on the control host."),
}
ALERT_KINDS = {
    "stale": ("DkronJobStale", "critical",
              "No success within the job's longest gap between two runs plus its grace: check that a node "
              "with the job's tags is up (dkron_job_info) and read its last executions in the UI."),
    "failed": ("DkronJobFailed", "warning",
               "The job's last run failed after its retries: read the execution's output in the UI, fix the "
               "command or the target, then run it again."),
    "never_ran": ("DkronJobNeverRan", "warning",
                  "The job has no execution at all, past its first due time: check its schedule, time zone "
                  "and tags (no node may match them) with dkron_job_info."),
}


# --- robfig/cron's Next --------------------------------------------------------------------------
def _offset_at(instant, zone):
    return instant.astimezone(zone).utcoffset()


def go_date(year, month, day, hour, minute, second, zone):
    """Go's ``time.Date`` in ``zone`` (UTC result), with Go's overflow and its answer for wall
    times a daylight-saving change skips or doubles."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    wall = datetime.combine(date(year, month, 1) + timedelta(days=day - 1), datetime.min.time(), fixed_offset.utc)
    wall += timedelta(hours=hour, minutes=minute, seconds=second)
    offset = _offset_at(wall, zone)  # the wall time read as UTC, as Go's lookup does first
    if offset:
        if _offset_at(wall - offset, zone) != offset:
            offset = _offset_at(wall - offset, zone)
        wall -= offset
    return wall


def _add_date(moment, zone, months=0, days=0):
    """Go's ``t.AddDate(0, months, days)``: the same wall clock on the new date, normalised."""
    local = moment.astimezone(zone)
    return go_date(local.year, local.month + months, local.day + days, local.hour, local.minute, local.second, zone)


def _day_matches(parsed, local):
    (_s, _m, _h, (days, day_star), _mo, (weekdays, weekday_star)) = parsed
    day_ok = local.day in days
    weekday_ok = (local.weekday() + 1) % 7 in weekdays  # Go counts Sunday as 0
    return (day_ok and weekday_ok) if (day_star or weekday_star) else (day_ok or weekday_ok)


def robfig_next(parsed, after, zone):
    """The first run strictly after ``after`` (aware), in UTC; None when robfig/cron finds none
    within five years. ``parsed`` is parse_schedule's six fields."""
    seconds, minutes, hours, _days, months, _weekdays = [values for values, _star in parsed]
    moment = after.astimezone(fixed_offset.utc).replace(microsecond=0) + SECOND
    added = False
    year_limit = moment.astimezone(zone).year + _YEAR_LIMIT
    while True:  # robfig's WRAP label: a field wrapped, so every field is checked again
        local = moment.astimezone(zone)
        if local.year > year_limit:
            return None
        wrapped = False
        while local.month not in months:
            if not added:
                added = True
                moment = go_date(local.year, local.month, 1, 0, 0, 0, zone)
            moment = _add_date(moment, zone, months=1)
            local = moment.astimezone(zone)
            if local.month == 1:
                wrapped = True
                break
        if wrapped:
            continue
        while not _day_matches(parsed, local):
            if not added:
                added = True
                moment = go_date(local.year, local.month, local.day, 0, 0, 0, zone)
            moment = _add_date(moment, zone, days=1)
            local = moment.astimezone(zone)
            if local.hour != 0:  # midnight skipped or doubled by a daylight-saving change
                moment += timedelta(hours=24 - local.hour) if local.hour > 12 else -timedelta(hours=local.hour)
                local = moment.astimezone(zone)
            if local.day == 1:
                wrapped = True
                break
        if wrapped:
            continue
        for values, step, unit in ((hours, timedelta(hours=1), "hour"), (minutes, timedelta(minutes=1), "minute"),
                                   (seconds, SECOND, "second")):
            while getattr(local, unit) not in values:
                if not added:
                    added = True
                    if unit == "hour":
                        moment = go_date(local.year, local.month, local.day, local.hour, 0, 0, zone)
                    elif unit == "minute":  # Go's Truncate works in absolute time
                        moment -= timedelta(seconds=moment.second)
                moment += step
                local = moment.astimezone(zone)
                if getattr(local, unit) == 0:
                    wrapped = True
                    break
            if wrapped:
                break
        if not wrapped:
            return moment


def _runs(parsed, zone, start, end, limit=_MAX_RUNS):
    runs, moment = [], start
    while len(runs) < limit:
        moment = robfig_next(parsed, moment, zone)
        if moment is None or moment > end:
            break
        runs.append(moment)
    return runs


def _offset_changes(zone, start, end):
    """Days in [start, end] on which the zone's UTC offset changes."""
    changes, day = [], start
    while day < end:
        if _offset_at(day, zone) != _offset_at(day + timedelta(days=1), zone):
            changes.append(day)
        day += timedelta(days=1)
    return changes


def _longest_step(runs):
    return max((int((later - earlier).total_seconds()) for earlier, later in zip(runs, runs[1:])), default=0)


def longest_gap_seconds(schedule, timezone="", now=None):
    """The longest time between two consecutive runs, in seconds, as Dkron's scheduler would run
    the schedule from ``now`` on; None for a schedule that has no such gap (``@manually``, ``@at``,
    ``@after``) or runs at most once more."""
    kind, detail, prefix_zone = _firing_schedule(schedule)
    if kind == "every":
        return detail
    if kind != "cron":
        return None
    zone = load_zone(prefix_zone or timezone or "UTC") or fixed_offset.utc
    now = (now or datetime.now(fixed_offset.utc)).astimezone(fixed_offset.utc).replace(microsecond=0)
    runs = _runs(detail, zone, now, now + _HORIZON)
    if len(runs) < 3:
        runs = _runs(detail, zone, now, now + _LONG_HORIZON)
    if len(runs) < 2:
        return None
    longest = _longest_step(runs)
    if runs[-1] < now + _HORIZON:
        # A frequent schedule: its first runs do not reach every daylight-saving change of the year,
        # so the days around each change are followed as well.
        for day in _offset_changes(zone, now, now + _HORIZON):
            window = _runs(detail, zone, day - timedelta(days=2), day + timedelta(days=3), limit=50000)
            longest = max(longest, _longest_step(window))
    return longest


# --- the rules --------------------------------------------------------------------------------------
def duration_seconds(value, what):
    """A grace or a for: as a Go/Prometheus duration (``90s``, ``5m``, ``1h30m``) or seconds."""
    if isinstance(value, bool):
        raise JobSpecError("%s must be a duration such as 5m or 1h30m, not %r" % (what, value))
    if isinstance(value, (int, float)) and value >= 0:
        return int(value)
    seconds = go_duration_seconds(str(value)) if isinstance(value, str) else None
    if seconds is None or seconds < 0:
        raise JobSpecError("%s must be a duration such as 5m or 1h30m, not %r" % (what, value))
    return int(seconds)


def prometheus_duration(seconds):
    """Whole seconds as a Prometheus duration (``25h5m``)."""
    parts, rest = [], int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append("%d%s" % (rest // size, unit))
            rest %= size
    return "".join(parts) or "0s"


def _quoted(name):
    return '"%s"' % name.replace("\\", "\\\\").replace('"', '\\"')


def _rule(kind, expression, summary, for_seconds=0, severity=None, **labels):
    """One Prometheus rule dict; ``kind`` is an entry of ALERT_KINDS or CLUSTER_ALERTS, whose
    severity applies unless ``severity`` is given."""
    alert, default_severity, runbook = kind
    rule = dict(alert=alert, expr=expression, labels=dict(labels, severity=severity or default_severity),
                annotations=dict(summary=summary, runbook=runbook))
    if for_seconds:
        rule["for"] = prometheus_duration(for_seconds)
    return rule


def job_alert_rules(jobs, grace="5m", failed_for="1m", alerts=None, now=None):
    """The alert rules of a declared job set, as a list of Prometheus rule dicts, and the jobs
    left without a stale rule with the reason, as ``(rules, unwatched)``.

    ``alerts`` maps a job's name to its settings: ``grace`` (added to the longest gap),
    ``severity`` (of all three alerts), ``enabled`` (false: no rules for the job). Raises
    JobSpecError for a bad grace, severity or job, before any rule is made.
    """
    alerts = alerts or {}
    default_grace = duration_seconds(grace, "the alert grace")
    failed_seconds = duration_seconds(failed_for, "the failed alert's for")
    names = set()
    for job in jobs:
        if not isinstance(job, dict) or not isinstance(job.get("name"), str) or not job["name"]:
            raise JobSpecError("every job needs a name, got %r" % (job,))
        names.add(job["name"])
    unknown = sorted(set(alerts) - names)
    if unknown:
        raise JobSpecError("alert settings name jobs that are not declared: %s" % ", ".join(unknown))
    rules, unwatched = [], {}
    for job in sorted(jobs, key=lambda item: item["name"]):
        name, settings = job["name"], alerts.get(job["name"]) or {}
        if not isinstance(settings, dict):
            raise JobSpecError("job %s: its alert settings must be a mapping, not %r" % (name, settings))
        severity = settings.get("severity")
        if severity is not None and not (isinstance(severity, str) and _ALERT_NAME.match(severity)):
            raise JobSpecError("job %s: severity %r must be a word such as critical or warning" % (name, severity))
        job_grace = duration_seconds(settings.get("grace", default_grace), "job %s: grace" % name)
        if settings.get("enabled", True) is False:
            unwatched[name] = "its alerts are turned off"
            continue
        if job.get("disabled"):
            unwatched[name] = "disabled: it is not meant to run"
            continue
        if job.get("parent_job"):
            unwatched[name] = "dependent: it runs when its parent succeeds, whose alerts cover it"
            continue
        gap = longest_gap_seconds(job.get("schedule") or "", job.get("timezone") or "", now=now)
        selector = "{dkron_job=%s}" % _quoted(name)
        rules.append(_rule(
            ALERT_KINDS["failed"],
            "max by (dkron_job) (dkron_job_last_error_timestamp_seconds%s)\n"
            "  > max by (dkron_job) (dkron_job_last_success_timestamp_seconds%s)" % (selector, selector),
            "Dkron job %s failed its last run." % name, failed_seconds, severity, dkron_job=name))
        if gap is None:
            unwatched[name] = "its schedule has no next run to wait for (@manually, @at, @after)"
            continue
        threshold = gap + job_grace
        rules.append(_rule(
            ALERT_KINDS["stale"],
            # A job that never succeeded is the never-ran or the failed alert's, not this one's.
            "time() - max by (dkron_job) (dkron_job_last_success_timestamp_seconds%s) > %d\n"
            "  and max by (dkron_job) (dkron_job_last_success_timestamp_seconds%s) > 0" % (selector, threshold, selector),
            "Dkron job %s has not succeeded for %s (its longest gap %s plus a grace of %s)."
            % (name, prometheus_duration(threshold), prometheus_duration(gap), prometheus_duration(job_grace)),
            severity=severity, dkron_job=name))
        rules.append(_rule(
            ALERT_KINDS["never_ran"],
            "max by (dkron_job) (dkron_job_success_count%s + dkron_job_error_count%s) == 0" % (selector, selector),
            "Dkron job %s has not run once in %s." % (name, prometheus_duration(threshold)), threshold, severity,
            dkron_job=name))
    return rules, unwatched


def cluster_alert_rules(exporter_job="hacron_dkron_exporter", no_leader_for="1m", voter_missing_for="1m",
                        member_failed_for="1m", exporter_down_for="2m", catchup_down_for="1m"):
    """The cluster's alert rules, as a list of Prometheus rule dicts. ``exporter_job`` is the
    Prometheus job that scrapes the exporters; the ``*_for`` durations ride out an election and a
    restart (a no-leader alert shorter than an election would page at every failover). The ledger's
    rules (missed and doubled runs, the catch-up service down) read what the exporter takes from the
    catch-up service's report, and stay silent where that service is not installed."""
    if not isinstance(exporter_job, str) or not _ALERT_NAME.match(exporter_job):
        raise JobSpecError("the exporter's Prometheus job name %r must be a word" % (exporter_job,))
    waits = {name: duration_seconds(value, "%s's for" % name) for name, value in (
        ("no_leader", no_leader_for), ("voter_missing", voter_missing_for),
        ("member_failed", member_failed_for), ("exporter_down", exporter_down_for),
        ("catchup_down", catchup_down_for), ("missed_runs", "0s"), ("doubled_runs", "0s"))}
    expressions = {
        "no_leader": ("max(dkron_leader_answers) == 0", "No Dkron server reports a leader."),
        "voter_missing": ("max by (server) (dkron_raft_expected_voter) == 0",
                          "Dkron server {{ $labels.server }} is not a Raft voter."),
        "member_failed": ('max(dkron_members{status="failed"}) > 0',
                          "{{ $value }} Dkron member(s) failed."),
        "exporter_down": ('up{job="%s"} == 0' % exporter_job,
                          "The Dkron exporter on {{ $labels.instance }} cannot be scraped."),
        "missed_runs": ('max by (dkron_job) (dkron_job_ledger_slots{status="missed"}) > 0',
                        "Dkron job {{ $labels.dkron_job }} missed {{ $value }} scheduled run(s) in the last hour."),
        "doubled_runs": ('max by (dkron_job) (dkron_job_ledger_slots{status="doubled"}) > 0',
                         "Dkron job {{ $labels.dkron_job }} ran {{ $value }} scheduled slot(s) twice in the last hour."),
        # The report is rewritten every 15 s; two minutes without one is a service that is down.
        "catchup_down": ("time() - max by (instance) (dkron_catchup_report_timestamp_seconds) > 120",
                         "The catch-up service on {{ $labels.instance }} has not written its ledger for 2 minutes."),
    }
    return [_rule(CLUSTER_ALERTS[kind], expression, summary, waits[kind])
            for kind, (expression, summary) in expressions.items()]


def reconcile_alert_rules(max_age="1h"):
    """The scheduled reconcile's alert rules (its metrics, written by playbooks/reconcile.yml with
    dkron_reconcile_metrics_file and served by a node exporter): drift found, a run that failed,
    and no run for longer than ``max_age``."""
    max_age_seconds = duration_seconds(max_age, "the reconcile's max age")
    expressions = {
        "drifted": ("sum(hacron_reconcile_drift_jobs) > 0",
                    "The scheduled reconcile found {{ $value }} job(s) drifted from the inventory."),
        "failed": ("min(hacron_reconcile_ok) == 0", "The scheduled reconcile failed its last run."),
        "not_running": ("time() - max(hacron_reconcile_last_run_timestamp_seconds) > %d" % max_age_seconds,
                        "The scheduled reconcile has not run for %s." % prometheus_duration(max_age_seconds)),
    }
    return [_rule(RECONCILE_ALERTS[kind], expression, summary) for kind, (expression, summary) in expressions.items()]
