"""playbooks/reconcile.yml against a real three-server cluster: jobs declared in an inventory.

The tests run in order on one inventory: reconcile, drift by hand seen in a check-mode report,
reconcile again, a job dropped from the inventory purged, a hand-made job left alone, a bad
declaration failing the run with a report.
"""

import json
import os
import subprocess
import time

import pytest
import yaml

from support.ansible_runs import ROOT, run_playbook
from support.jobs import delete_on_leader, leader_job, put_on_leader, shell_job

pytestmark = pytest.mark.integration

PLAYBOOK = ROOT / "playbooks" / "reconcile.yml"
DECLARED = [
    {"name": "reconcile-report", "schedule": "0 0 7 * * *", "command": "echo report"},
    {"name": "reconcile-import", "schedule": "0 0 2 * * *", "command": "echo import"},
]


@pytest.fixture(scope="module")
def site(tmp_path_factory, dkron_cluster):
    """An inventory whose one server is the controller, with jobs in its group_vars."""
    root = tmp_path_factory.mktemp("reconcile-inventory")
    (root / "hosts.yml").write_text(yaml.safe_dump(
        {"dkron": {"children": {"dkron_servers": {"hosts": {"loop-1": {"ansible_connection": "local"}}}}}}))
    (root / "group_vars").mkdir()
    report = tmp_path_factory.mktemp("reconcile-reports") / "last.json"  # not in the inventory's directory

    def declare(jobs, **settings):
        values = {
            "dkron_api_url": dkron_cluster.leader().api_url,
            "dkron_jobs_set_name": "reconcile-test",
            "dkron_jobs_purge": True,
            "dkron_reconcile_report": str(report),
            "dkron_reconcile_metrics_file": str(report.with_name("reconcile.prom")),
            "dkron_job_defaults": {"timezone": "Europe/Berlin", "tags": {"node": "server-1:1"}},
            "dkron_jobs": jobs,
        }
        values.update(settings)
        (root / "group_vars" / "all.yml").write_text(yaml.safe_dump(values))

    def reconcile(*arguments):
        completed = run_playbook(PLAYBOOK, root, arguments=arguments)
        return completed, json.loads(report.read_text()) if report.exists() else None

    return declare, reconcile, report.with_name("reconcile.prom")


def report_metrics(site):
    """The metrics file the last run wrote, checked by promtool."""
    path = site[2]
    promtool = os.path.join(os.environ.get("HACRON_CACHE") or os.path.expanduser("~/.cache/hacron"),
                            "prometheus", "usr", "bin", "promtool")
    with open(path, "rb") as handle:
        check = subprocess.run([promtool, "check", "metrics"], stdin=handle, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    return path.read_text()


def metric_values(text):
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def test_declared_jobs_are_created_and_reported(site, dkron_cluster):
    declare, reconcile, _metrics = site
    declare(DECLARED)
    run, report = reconcile()
    assert run.returncode == 0, run.stdout[-3000:]
    assert report["ok"] is True and report["check_mode"] is False
    assert sorted(report["added"]) == ["reconcile-import", "reconcile-report"]
    assert report["time"].endswith("Z")
    job = leader_job(dkron_cluster, "reconcile-report")
    assert job["timezone"] == "Europe/Berlin"
    assert job["metadata"]["managed_by"] == "hacron.dkron/reconcile-test"
    assert "Reconciled: added" in run.stdout


def test_a_change_by_hand_shows_exactly_in_a_check_mode_report(site, dkron_cluster):
    declare, reconcile, _metrics = site
    put_on_leader(dkron_cluster, shell_job("reconcile-by-hand"))
    drifted = leader_job(dkron_cluster, "reconcile-report")
    drifted["schedule"] = "0 30 7 * * *"
    put_on_leader(dkron_cluster, drifted)

    run, report = reconcile("--check")

    assert run.returncode == 0, run.stdout[-3000:]
    assert report["check_mode"] is True and report["drift"] is True
    assert report["updated"] == ["reconcile-report"] and report["added"] == [] and report["removed"] == []
    assert report["changes"]["reconcile-report"]["fields"] == {
        "schedule": {"before": "0 30 7 * * *", "after": "0 0 7 * * *"}}
    assert "reconcile-by-hand" in report["unmanaged"]
    assert ("Drift (check mode, nothing changed): would add none; would update reconcile-report; would remove none"
            in " ".join(run.stdout.split())), run.stdout
    assert leader_job(dkron_cluster, "reconcile-report")["schedule"] == "0 30 7 * * *", "check mode wrote"
    # The same drift for Prometheus (the DkronJobsDrifted alert), in a file promtool accepts.
    metrics = metric_values(report_metrics(site))
    assert metrics['hacron_reconcile_drift_jobs{change="updated"}'] == 1
    assert metrics['hacron_reconcile_drift_jobs{change="added"}'] == 0
    assert metrics["hacron_reconcile_ok"] == 1 and metrics["hacron_reconcile_check_mode"] == 1
    assert abs(metrics["hacron_reconcile_last_run_timestamp_seconds"] - time.time()) < 300


def test_reconciling_again_removes_the_drift(site, dkron_cluster):
    _declare, reconcile, _metrics = site
    run, report = reconcile()
    assert run.returncode == 0, run.stdout[-3000:]
    assert report["updated"] == ["reconcile-report"]
    assert leader_job(dkron_cluster, "reconcile-report")["schedule"] == "0 0 7 * * *"
    run, report = reconcile("--check")
    assert report["drift"] is False and sorted(report["untouched"]) == ["reconcile-import", "reconcile-report"]
    run, report = reconcile()
    assert "changed=0" in run.stdout, "a run with nothing to change reports no change"


def test_a_job_dropped_from_the_inventory_is_purged_and_a_hand_made_one_kept(site, dkron_cluster):
    declare, reconcile, _metrics = site
    declare(DECLARED[:1])
    run, report = reconcile()
    assert run.returncode == 0, run.stdout[-3000:]
    assert report["removed"] == ["reconcile-import"]
    assert leader_job(dkron_cluster, "reconcile-import") is None
    assert "reconcile-by-hand" in report["unmanaged"]
    assert leader_job(dkron_cluster, "reconcile-by-hand") is not None


def test_a_change_that_cannot_be_applied_fails_the_run_and_is_reported(site, dkron_cluster):
    declare, reconcile, _metrics = site
    declare(DECLARED[:1] + [{"name": "reconcile-orphan", "parent_job": "reconcile-missing-parent",
                             "command": "true"}])
    run, report = reconcile()
    assert run.returncode != 0
    assert report["ok"] is False
    assert "reconcile-missing-parent" in report["error"]
    assert "Fail when a change could not be applied" in run.stdout
    assert leader_job(dkron_cluster, "reconcile-orphan") is None
    assert metric_values(report_metrics(site))["hacron_reconcile_ok"] == 0  # the DkronReconcileFailed alert
    delete_on_leader(dkron_cluster, "reconcile-by-hand")
