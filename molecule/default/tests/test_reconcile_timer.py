"""The reconcile timer on a control host (here the agent's host): installed by its role, it fires once
and leaves its report where an operator finds it; a second run of the role changes nothing."""

import json

import pytest

from helpers import AGENT, SERVERS, api, peer, reconcile_timer_playbook, run_playbook, wait_for

JOB = "timer-declared"


# The control host needs Debian 13's ansible-core (2.19); Debian 12 has 2.14. The overlay scenario
# runs on Debian 13.
pytestmark = pytest.mark.scenario("overlay")


@pytest.fixture(scope="module")
def control_host():
    host = peer(AGENT)
    assert host.system_info.codename == "trixie", "the reconcile timer's test needs a Debian 13 control host"
    return host


@pytest.fixture(scope="module")
def timer_playbook(tmp_path_factory):
    """A playbook applying the role to the control host, with a built collection and an inventory."""
    return reconcile_timer_playbook(
        tmp_path_factory.mktemp("reconcile-timer"), AGENT,
        {"dkron_jobs_set_name": "timer-test", "dkron_jobs": [{"name": JOB, "schedule": "@manually", "command": "true"}]},
        reconcile_timer_on_calendar="*:*:0/20", reconcile_timer_randomized_delay=0, reconcile_timer_metrics=True)


def test_the_timer_fires_and_leaves_its_report(control_host, timer_playbook):
    api(SERVERS[0], "/v1/jobs/%s" % JOB, "DELETE")
    control_host.run("rm -f /var/lib/hacron-reconcile/last.json")
    try:
        run = run_playbook(str(timer_playbook))
        assert run.returncode == 0, run.stdout[-3000:]
        assert control_host.service("hacron-reconcile.timer").is_enabled

        report_file = control_host.file("/var/lib/hacron-reconcile/last.json")
        wait_for(lambda: report_file.exists, timeout=120, interval=3, what="the timer's first report")
        report = json.loads(report_file.content_string)
        assert report["ok"] is True, report
        assert JOB in report["added"] + report["untouched"], report
        status, job = api(SERVERS[0], "/v1/jobs/%s" % JOB)
        assert status == 200 and job["metadata"]["managed_by"] == "hacron.dkron/timer-test"
        # The report is written before the run ends: its summary follows in the journal.
        wait_for(lambda: "Reconciled:" in control_host.check_output("journalctl -u hacron-reconcile.service --no-pager"),
                 timeout=60, interval=2, what="the run's summary in the journal")

        # The run's figures, served by the node exporter on loopback alone, for the drift alerts.
        metrics = control_host.check_output(
            "python3 -c %s", "import urllib.request; print(urllib.request.urlopen("
            "'http://127.0.0.1:9100/metrics', timeout=10).read().decode())")
        assert "\nhacron_reconcile_ok 1\n" in metrics
        assert 'hacron_reconcile_drift_jobs{change="updated"} 0' in metrics
        assert "\nhacron_reconcile_last_run_timestamp_seconds " in metrics
        assert "node_cpu_seconds_total" not in metrics  # the runs' figures, nothing about the host
        listening = [line.split()[3] for line in control_host.check_output("ss -Htln").splitlines()]
        assert [address for address in listening if address.endswith(":9100")] == ["127.0.0.1:9100"]

        again = run_playbook(str(timer_playbook))
        assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]

        # Two runs never overlap: while another holds the lock, a start is skipped, not failed.
        # The timer is stopped first, and a run it started is let finish.
        control_host.check_output("systemctl stop hacron-reconcile.timer")
        wait_for(lambda: control_host.run("systemctl is-active hacron-reconcile.service").stdout.strip() == "inactive",
                 timeout=60, what="the timer's run to finish")
        lock = "/var/lib/hacron-reconcile/reconcile.lock"
        control_host.check_output("systemd-run --unit hold-reconcile-lock flock %s sleep 60", lock)
        wait_for(lambda: control_host.run("flock --nonblock %s true", lock).rc != 0, timeout=10, what="the lock held")
        report_time = report_file.mtime
        start = control_host.run("systemctl start hacron-reconcile.service")
        assert start.rc == 0, start.stderr
        assert control_host.check_output("systemctl show -P ExecMainStatus hacron-reconcile.service") == "75"
        assert report_file.mtime == report_time, "a run went ahead despite the lock"
        control_host.run("systemctl stop hold-reconcile-lock")
    finally:
        control_host.run("systemctl disable --now hacron-reconcile.timer")
        control_host.run("systemctl stop hacron-reconcile.service hold-reconcile-lock")
        api(SERVERS[0], "/v1/jobs/%s" % JOB, "DELETE")
