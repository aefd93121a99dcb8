"""Alert rules from the job set: robfig/cron's next runs (held to what robfig/cron itself computes),
the longest gap between runs, and the rules as Prometheus evaluates them (`promtool test rules`,
from Debian's prometheus package, which scripts/setup.sh unpacks into the cache)."""

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_alert_rules import (
    cluster_alert_rules,
    job_alert_rules,
    longest_gap_seconds,
    reconcile_alert_rules,
    robfig_next,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import parse_schedule
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import JobSpecError, load_zone

FIXTURE = Path(__file__).parent / "fixtures" / "robfig_next.json"
PROMTOOL = os.environ.get("HACRON_PROMTOOL") or os.path.join(
    os.environ.get("HACRON_CACHE") or os.path.expanduser("~/.cache/hacron"), "prometheus", "usr", "bin", "promtool")
HOUR = 3600
# The day before Europe/Berlin's clocks go back (25 October 2026), and that day itself.
BEFORE_CHANGE = datetime(2026, 10, 24, 12, 0, tzinfo=timezone.utc)
ON_CHANGE_DAY = datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)


def _utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("case", json.loads(FIXTURE.read_text())["cases"],
                         ids=lambda case: "%s|%s|%s" % (case["spec"], case["zone"], case["start"][:10]))
def test_next_runs_are_robfig_crons(case):
    _kind, parsed, _zone = parse_schedule(case["spec"])
    zone, moment, runs = load_zone(case["zone"]), _utc(case["start"]), []
    for _index in case["next"]:
        moment = robfig_next(parsed, moment, zone)
        runs.append(int(moment.timestamp()))
    assert runs == case["next"]


@pytest.mark.parametrize("schedule, zone, now, gap", [
    # Clocks going back make one day 25 hours long, before the change and on its day alike.
    ("0 0 3 * * *", "Europe/Berlin", BEFORE_CHANGE, 25 * HOUR),
    ("0 0 3 * * *", "Europe/Berlin", ON_CHANGE_DAY, 25 * HOUR),
    ("TZ=America/New_York 0 0 3 * * *", "", BEFORE_CHANGE, 25 * HOUR),
    ("0 0 3 * * *", "UTC", BEFORE_CHANGE, 24 * HOUR),
    ("0 0 3 * * *", "", BEFORE_CHANGE, 24 * HOUR),
    # 02:30 does not exist on the day clocks go forward: robfig/cron skips that day's run.
    ("0 30 2 * * *", "Europe/Berlin", BEFORE_CHANGE, 47 * HOUR),
    # From 02:50 CET the day before to 02:00 CEST the day after the change.
    ("0 */10 2 * * *", "Europe/Berlin", BEFORE_CHANGE, 46 * HOUR + 10 * 60),
    # Too frequent to follow for a year (every 10 s in hour 2): the days around each change are.
    ("*/10 * 2 * * *", "Europe/Berlin", BEFORE_CHANGE, 46 * HOUR + 10),
    ("@every 5m", "", BEFORE_CHANGE, 300),
    ("@hourly", "Europe/Berlin", BEFORE_CHANGE, HOUR),
    ("0 0 0 29 2 *", "", BEFORE_CHANGE, 4 * 365 * 24 * HOUR + 24 * HOUR),
    ("@manually", "", BEFORE_CHANGE, None),
    ("@at 2030-01-31T02:00:00Z", "", BEFORE_CHANGE, None),
])
def test_longest_gap_follows_the_scheduler(schedule, zone, now, gap):
    assert longest_gap_seconds(schedule, zone, now=now) == gap


JOBS = [
    {"name": "nightly-backup", "schedule": "0 0 3 * * *", "timezone": "Europe/Berlin"},
    {"name": "every-five", "schedule": "@every 5m"},
    {"name": "by-hand", "schedule": "@manually"},
    {"name": "switched-off", "schedule": "@every 1m", "disabled": True},
    {"name": "child", "parent_job": "nightly-backup"},
]
ALERTS = {"nightly-backup": {"grace": "10m"}, "every-five": {"grace": "2m", "severity": "page"}}


def _rules():
    rules, unwatched = job_alert_rules(JOBS, alerts=ALERTS, now=BEFORE_CHANGE)
    return rules, unwatched


def test_rules_per_job_and_the_jobs_left_out():
    rules, unwatched = _rules()
    assert sorted((rule["alert"], rule["labels"]["dkron_job"]) for rule in rules) == [
        ("DkronJobFailed", "by-hand"),
        ("DkronJobFailed", "every-five"), ("DkronJobFailed", "nightly-backup"),
        ("DkronJobNeverRan", "every-five"), ("DkronJobNeverRan", "nightly-backup"),
        ("DkronJobStale", "every-five"), ("DkronJobStale", "nightly-backup"),
    ]
    assert set(unwatched) == {"by-hand", "switched-off", "child"}
    assert "disabled" in unwatched["switched-off"] and "parent" in unwatched["child"]
    assert {rule["labels"]["severity"] for rule in rules if rule["labels"]["dkron_job"] == "every-five"} == {"page"}


@pytest.mark.parametrize("jobs, alerts, grace, message", [
    (JOBS, {"nightly-backup": {"grace": "ten minutes"}}, "5m", "job nightly-backup: grace must be a duration"),
    (JOBS, {}, "soon", "the alert grace must be a duration"),
    (JOBS, {"no-such-job": {"grace": "1m"}}, "5m", "name jobs that are not declared: no-such-job"),
    (JOBS, {"every-five": {"severity": "very bad"}}, "5m", "severity 'very bad' must be a word"),
    ([{"schedule": "@every 1m"}], {}, "5m", "every job needs a name"),
])
def test_bad_settings_are_refused(jobs, alerts, grace, message):
    with pytest.raises(JobSpecError, match=message):
        job_alert_rules(jobs, grace=grace, alerts=alerts)


def _promtool(tmp_path, rules, tests):
    """Runs `promtool check rules` and `promtool test rules`; returns the test's output, failing on error."""
    assert os.access(PROMTOOL, os.X_OK), "no promtool at %s: run scripts/setup.sh" % PROMTOOL
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "dkron-jobs", "rules": rules}]}))
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}))
    check = subprocess.run([PROMTOOL, "check", "rules", "rules.yml"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    result = subprocess.run([PROMTOOL, "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _expected(rules, alert, job):
    rule = next(rule for rule in rules if rule["alert"] == alert and rule["labels"]["dkron_job"] == job)
    return [{"exp_labels": dict(rule["labels"]), "exp_annotations": dict(rule["annotations"])}]


def _series(metric, job, value, samples, instances=("server-1", "server-2")):
    """The same gauge from every server's exporter, as Prometheus scrapes it (one sample a minute)."""
    return [{"series": '%s{dkron_job="%s", instance="%s"}' % (metric, job, instance), "values": "%s+0x%d" % (value, samples)}
            for instance in instances]


def _at(seconds):
    return "%ds" % seconds


def test_stale_fires_at_the_longest_gap_plus_grace_and_not_a_minute_before(tmp_path):
    rules, _unwatched = _rules()
    last_success = 60  # seconds after the start of promtool's clock
    nightly = last_success + 25 * HOUR + 10 * 60  # 25 h gap (clocks go back) plus 10 min grace
    five = last_success + 5 * 60 + 2 * 60  # @every 5m plus 2 min grace: 7 min
    series = (_series("dkron_job_last_success_timestamp_seconds", "nightly-backup", last_success, 26 * 60)
              + _series("dkron_job_last_success_timestamp_seconds", "every-five", last_success, 26 * 60)
              + _series("dkron_job_success_count", "nightly-backup", 3, 26 * 60)
              + _series("dkron_job_success_count", "every-five", 3, 26 * 60)
              + _series("dkron_job_error_count", "nightly-backup", 0, 26 * 60)
              + _series("dkron_job_error_count", "every-five", 0, 26 * 60)
              # Old successes of the jobs that have no stale rule: nothing may fire for them.
              + _series("dkron_job_last_success_timestamp_seconds", "by-hand", last_success, 26 * 60)
              + _series("dkron_job_last_success_timestamp_seconds", "switched-off", last_success, 26 * 60))
    five_stale = _expected(rules, "DkronJobStale", "every-five")
    # Rules are evaluated once a minute, as Prometheus's default evaluation_interval does.
    checks = [
        (five - 60, "DkronJobStale", []),
        (five, "DkronJobStale", []),  # exactly at the threshold: not yet past it
        (five + 60, "DkronJobStale", five_stale),
        (nightly - 60, "DkronJobStale", five_stale),
        (nightly, "DkronJobStale", five_stale),
        (nightly + 60, "DkronJobStale", five_stale + _expected(rules, "DkronJobStale", "nightly-backup")),
    ]
    tests = [{"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": _at(when), "alertname": name, "exp_alerts": alerts} for when, name, alerts in checks]}]
    assert "SUCCESS" in _promtool(tmp_path, rules, tests)


def test_failed_after_its_for_and_never_ran_after_the_threshold(tmp_path):
    rules, _unwatched = _rules()
    # every-five: a success at 60 s, then a failure at 120 s; the failed alert waits its 1 min for
    # the retries. nightly-backup: no execution at all.
    series = (_series("dkron_job_last_success_timestamp_seconds", "every-five", 60, 30)
              + [{"series": 'dkron_job_last_error_timestamp_seconds{dkron_job="every-five", instance="server-1"}',
                  "values": "0 0 120+0x28"}]
              + _series("dkron_job_last_error_timestamp_seconds", "nightly-backup", 0, 1600)
              + _series("dkron_job_last_success_timestamp_seconds", "nightly-backup", 0, 1600)
              + _series("dkron_job_success_count", "nightly-backup", 0, 1600)
              + _series("dkron_job_error_count", "nightly-backup", 0, 1600))
    threshold = 25 * HOUR + 10 * 60
    checks = [
        (120, "DkronJobFailed", []),  # pending: the retries may still succeed
        (180, "DkronJobFailed", _expected(rules, "DkronJobFailed", "every-five")),
        (threshold - 60, "DkronJobNeverRan", []),
        (threshold + 60, "DkronJobNeverRan", _expected(rules, "DkronJobNeverRan", "nightly-backup")),
        (threshold + 60, "DkronJobStale", []),  # never succeeded: the never-ran alert's case
    ]
    tests = [{"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": _at(when), "alertname": name, "exp_alerts": alerts} for when, name, alerts in checks]}]
    assert "SUCCESS" in _promtool(tmp_path, rules, tests)


def _cluster_expected(rules, alert, summary, **labels):
    rule = next(rule for rule in rules if rule["alert"] == alert)
    return [{"exp_labels": dict(rule["labels"], **labels),
             "exp_annotations": dict(rule["annotations"], summary=summary)}]


def test_cluster_alerts_ride_out_an_election_and_fire_on_what_lasts(tmp_path):
    rules = cluster_alert_rules()
    exporters = ("server-1", "server-2", "server-3")
    series = [
        # A leader killed at 5 min: one scrape without a leader, then a new one. At 20 min, none for good.
        *({"series": 'dkron_leader_answers{instance="%s"}' % name, "values": "1x4 0 1x13 0x20"} for name in exporters),
        # server-3 stops voting at 10 min, as both other exporters read it.
        *({"series": 'dkron_raft_expected_voter{instance="%s", server="server-3"}' % name, "values": "1x9 0x30"}
          for name in exporters[:2]),
        *({"series": 'dkron_raft_expected_voter{instance="%s", server="server-1"}' % name, "values": "1x40"}
          for name in exporters[:2]),
        {"series": 'dkron_members{instance="server-1", status="failed"}', "values": "0x9 1x30"},
        {"series": 'up{job="hacron_dkron_exporter", instance="server-3:443"}', "values": "1x9 0x30"},
    ]
    checks = [
        (6 * 60, "DkronNoLeader", []),  # the election: no alert
        (7 * 60, "DkronNoLeader", []),
        (20 * 60 + 50, "DkronNoLeader", []),  # pending for its minute
        (21 * 60, "DkronNoLeader", _cluster_expected(rules, "DkronNoLeader", "No Dkron server reports a leader.")),
        (10 * 60 + 50, "DkronRaftVoterMissing", []),
        (11 * 60, "DkronRaftVoterMissing", _cluster_expected(
            rules, "DkronRaftVoterMissing", "Dkron server server-3 is not a Raft voter.", server="server-3")),
        (11 * 60, "DkronMemberFailed", _cluster_expected(rules, "DkronMemberFailed", "1 Dkron member(s) failed.")),
        (11 * 60, "DkronExporterDown", []),
        (12 * 60, "DkronExporterDown", _cluster_expected(
            rules, "DkronExporterDown", "The Dkron exporter on server-3:443 cannot be scraped.",
            instance="server-3:443", job="hacron_dkron_exporter")),
    ]
    tests = [{"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": _at(when), "alertname": name, "exp_alerts": alerts} for when, name, alerts in checks]}]
    assert "SUCCESS" in _promtool(tmp_path, rules, tests)


def test_ledger_alerts_on_missed_and_doubled_runs_and_a_silent_catch_up_service(tmp_path):
    rules = cluster_alert_rules()
    written = "0+60x9 540x30"  # rewritten each minute (promtool's clock starts at 0), then no more
    series = [
        # Both servers' ledgers count the none job's missed slot from 5 min on, until it leaves the window.
        *({"series": 'dkron_job_ledger_slots{instance="%s", dkron_job="canary", status="missed"}' % name,
           "values": "0x4 1x20 0x15"} for name in ("server-1", "server-2")),
        {"series": 'dkron_job_ledger_slots{instance="server-1", dkron_job="canary", status="doubled"}',
         "values": "0x29 1x10"},
        {"series": 'dkron_catchup_report_timestamp_seconds{instance="server-2"}', "values": written},
        {"series": 'dkron_catchup_report_timestamp_seconds{instance="server-1"}', "values": "0+60x39"},
    ]
    checks = [
        (4 * 60, "DkronJobMissedRuns", []),
        (5 * 60, "DkronJobMissedRuns", _cluster_expected(
            rules, "DkronJobMissedRuns", "Dkron job canary missed 1 scheduled run(s) in the last hour.",
            dkron_job="canary")),
        (26 * 60, "DkronJobMissedRuns", []),
        (30 * 60, "DkronJobDoubledRuns", _cluster_expected(
            rules, "DkronJobDoubledRuns", "Dkron job canary ran 1 scheduled slot(s) twice in the last hour.",
            dkron_job="canary")),
        (11 * 60, "DkronCatchupDown", []),  # two minutes old: pending for its minute
        (13 * 60, "DkronCatchupDown", _cluster_expected(
            rules, "DkronCatchupDown", "The catch-up service on server-2 has not written its ledger for 2 minutes.",
            instance="server-2")),
    ]
    tests = [{"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": _at(when), "alertname": name, "exp_alerts": alerts} for when, name, alerts in checks]}]
    assert "SUCCESS" in _promtool(tmp_path, rules, tests)


def test_reconcile_alerts_on_drift_a_failed_run_and_silence(tmp_path):
    rules = reconcile_alert_rules(max_age="15m")
    runs = "0+60x9 540x30"  # a run every minute, none after the tenth
    series = [
        {"series": 'hacron_reconcile_last_run_timestamp_seconds{instance="127.0.0.1:9100"}', "values": runs},
        {"series": 'hacron_reconcile_ok{instance="127.0.0.1:9100"}', "values": "1x11 0 1x30"},
        {"series": 'hacron_reconcile_drift_jobs{change="updated"}', "values": "0x5 2x3 0x30"},
        {"series": 'hacron_reconcile_drift_jobs{change="added"}', "values": "0x40"},
    ]
    checks = [
        (5 * 60, "DkronJobsDrifted", []),
        (7 * 60, "DkronJobsDrifted", _cluster_expected(
            rules, "DkronJobsDrifted", "The scheduled reconcile found 2 job(s) drifted from the inventory.")),
        (10 * 60, "DkronJobsDrifted", []),
        (11 * 60, "DkronReconcileFailed", []),
        (12 * 60, "DkronReconcileFailed", _cluster_expected(
            rules, "DkronReconcileFailed", "The scheduled reconcile failed its last run.")),
        (24 * 60, "DkronReconcileNotRunning", []),  # the last run at 9 min, 15 min ago
        (25 * 60, "DkronReconcileNotRunning", _cluster_expected(
            rules, "DkronReconcileNotRunning", "The scheduled reconcile has not run for 15m.")),
    ]
    tests = [{"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": _at(when), "alertname": name, "exp_alerts": alerts} for when, name, alerts in checks]}]
    assert "SUCCESS" in _promtool(tmp_path, rules, tests)
    with pytest.raises(JobSpecError, match="the reconcile's max age must be a duration"):
        reconcile_alert_rules(max_age="daily")


def test_cluster_rule_settings_are_checked():
    with pytest.raises(JobSpecError, match="no_leader's for must be a duration"):
        cluster_alert_rules(no_leader_for="a while")
    with pytest.raises(JobSpecError, match="must be a word"):
        cluster_alert_rules(exporter_job="dkron exporter")


def test_the_filter_makes_a_rule_file_promtool_accepts(tmp_path):
    from ansible.errors import AnsibleFilterError
    from ansible_collections.hacron.dkron.plugins.filter.dkron_alert_rules import dkron_alert_rules

    content = dkron_alert_rules(JOBS, grace="5m", alerts=ALERTS)
    assert [group["name"] for group in content["groups"]] == ["hacron-dkron-jobs", "hacron-dkron-cluster"]
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(content))
    check = subprocess.run([PROMTOOL, "check", "rules", "rules.yml"], cwd=tmp_path, capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0 and "SUCCESS: 14 rules found" in check.stdout, check.stdout + check.stderr
    # The reconcile's job defaults apply as dkron_job_set applies them: a job's own setting wins.
    defaulted = dkron_alert_rules([{"name": "nightly", "schedule": "0 0 3 * * *"},
                                   {"name": "own", "schedule": "@every 1m", "disabled": False}],
                                  job_defaults={"timezone": "Europe/Berlin", "disabled": True})
    assert [rule["labels"]["dkron_job"] for rule in defaulted["groups"][0]["rules"]] == ["own"] * 3
    with_reconcile = dkron_alert_rules(JOBS, grace="5m", alerts=ALERTS, reconcile_max_age="1h")
    assert [group["name"] for group in with_reconcile["groups"]][2:] == ["hacron-dkron-reconcile"]
    with pytest.raises(AnsibleFilterError, match="job every-five: grace must be a duration"):
        dkron_alert_rules(JOBS, alerts={"every-five": {"grace": "soonish"}})
