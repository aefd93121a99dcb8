"""The reconcile timer on a control host (here the agent's host): installed by its role, it fires once
and leaves its report where an operator finds it; a second run of the role changes nothing."""

import json
import subprocess

import pytest
import yaml

from helpers import ADDRESSES, AGENT, ROOT, SERVERS, api, peer, run_playbook, wait_for

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
    work = tmp_path_factory.mktemp("reconcile-timer")
    subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(work), str(ROOT)],
                   check=True, capture_output=True, text=True, cwd=ROOT)
    archive = next(work.glob("hacron-dkron-*.tar.gz"))
    inventory = work / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"dkron_servers": {"hosts": {SERVERS[0]: {}}}}))
    (inventory / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        # Through the proxy, trusting the CA that the api_proxy role put on every cluster host.
        "dkron_api_url": "https://%s" % ADDRESSES[SERVERS[0]],
        "dkron_api_username": "molecule",
        "dkron_api_password": "molecule-lab-password",
        "dkron_api_controller_ca": "/etc/hacron/tls/ca.crt",
        "dkron_jobs_set_name": "timer-test",
        "dkron_jobs": [{"name": JOB, "schedule": "@manually", "command": "true"}],
    }))
    playbook = work / "timer.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Reconcile timer on the control host",
        "hosts": AGENT,
        "become": True,
        "gather_facts": False,
        "roles": [{"role": "hacron.dkron.reconcile_timer",
                   "reconcile_timer_collection_archive": str(archive),
                   "reconcile_timer_inventory_src": str(inventory),
                   "reconcile_timer_on_calendar": "*:*:0/20",
                   "reconcile_timer_randomized_delay": 0}],
    }]))
    return playbook


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
        journal = control_host.check_output("journalctl -u hacron-reconcile.service --no-pager")
        assert "Reconciled:" in journal

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
