"""Alerting end to end: real Dkron, real Prometheus and Alertmanager (Debian's, on the agent), and
a webhook receiver there that records what Alertmanager sends (prepare.yml). The tests run in this
order and build on each other; each alert's delay from its cause to the notification is printed.
"""

import json
import time

from helpers import (
    ADDRESSES, AGENT, SERVERS, api, container, leader_name, peer, reconcile_timer_playbook, run_playbook, wait_for,
)

MONITOR = AGENT
RECORD = "/var/lib/hacron-recorder.jsonl"
# The scenario's jobs (molecule.yml): made-to-fail runs on server-2 or the agent, heartbeat on the
# agent alone.
FAILING_JOB = "made-to-fail"
HEARTBEAT_JOB = "heartbeat"


def notifications(path="/webhook"):
    """What Alertmanager has sent to the recorder so far, oldest first, as (received_at, payload)."""
    content = peer(MONITOR).run("cat %s", RECORD).stdout
    entries = [json.loads(line) for line in content.splitlines() if line.strip()]
    return [(entry["received_at"], entry["body"]) for entry in entries if entry["path"] == path]


def alerts_sent(alertname, status, **labels):
    """(received_at, alert) for each alert of that name and status in the webhook notifications."""
    return [(received_at, alert) for received_at, payload in notifications()
            for alert in payload["alerts"]
            if alert["labels"].get("alertname") == alertname and alert["status"] == status
            and all(alert["labels"].get(key) == value for key, value in labels.items())]


def monitor_now():
    """The monitoring host's clock: the recorder stamps with it."""
    return float(peer(MONITOR).check_output("date +%s.%N"))


def prometheus(path):
    """Prometheus's HTTP API on the monitoring host, where it listens on loopback."""
    return json.loads(peer(MONITOR).check_output("python3 -c %s %s", (
        "import sys, urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9090' + sys.argv[1],"
        " timeout=10).read().decode())"), path))


def wait_for_notification(alertname, status, since, timeout, **labels):
    """The first such alert notified after ``since``; its delay is printed."""
    found = wait_for(lambda: [sent for sent in alerts_sent(alertname, status, **labels) if sent[0] >= since],
                     timeout=timeout, interval=3, what="%s %s notified" % (alertname, status))
    print("%s %s %s notified %.0f s after its cause" % (alertname, labels or "", status, found[0][0] - since))
    return found[0]


def reconcile_timer_state():
    """What the drift test needs when it fails: the timer's runs, their figures, and what Prometheus
    holds of them."""
    host = peer(MONITOR)
    return "\n".join([
        host.run("journalctl -u hacron-reconcile.service --no-pager -o short-precise -n 60").stdout,
        host.run("cat /var/lib/hacron-reconcile-metrics/hacron_reconcile.prom").stdout,
        json.dumps(prometheus("/api/v1/query?query=hacron_reconcile_drift_jobs")["data"]["result"]),
    ])


def test_the_rendered_configuration_passes_promtool_and_amtool():
    host = peer(MONITOR)
    assert host.run("promtool check config /etc/prometheus/prometheus.yml").rc == 0
    assert host.run("promtool check rules /etc/prometheus/hacron-dkron-rules.yml").rc == 0
    assert host.run("amtool check-config /etc/prometheus/alertmanager.yml").rc == 0


def test_prometheus_and_alertmanager_listen_on_loopback_only():
    listening = peer(MONITOR).check_output("ss -Htlnp")
    for port in (9090, 9093):
        sockets = [line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(":%d" % port)]
        assert sockets == ["127.0.0.1:%d" % port], listening
    # No Alertmanager cluster port, no node exporter.
    assert ":9094" not in listening and ":9100" not in listening
    assert not peer(MONITOR).package("prometheus-node-exporter").is_installed


def test_every_server_is_scraped_through_the_proxy():
    targets = prometheus("/api/v1/targets?state=active")["data"]["activeTargets"]
    exporters = {target["labels"]["instance"]: target for target in targets
                 if target["labels"]["job"] == "hacron_dkron_exporter"}
    assert sorted(exporters) == sorted(SERVERS)
    for server, target in exporters.items():
        assert target["scrapeUrl"] == "https://%s:443/exporter/metrics" % ADDRESSES[server]
    # The reconcile's target comes up with the reconcile timer (test_drift_...), not before.
    wait_for(lambda: all(target["health"] == "up"
                         for target in prometheus("/api/v1/targets?state=active")["data"]["activeTargets"]
                         if target["labels"]["job"] != "hacron_reconcile"),
             timeout=60, interval=3, what="every target up (the exporters and Dkron's own /metrics)")


_STATUS_AS = """
import base64, ssl, sys, urllib.error, urllib.request
user, password, url = sys.argv[1:4]
context = ssl.create_default_context(cafile="/etc/hacron/tls/ca.crt")
token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
request = urllib.request.Request(url, headers={"Authorization": "Basic " + token})
try:
    print(urllib.request.urlopen(request, context=context, timeout=10).status)
except urllib.error.HTTPError as error:
    print(error.code)
"""


def test_the_metrics_user_reads_the_metrics_and_nothing_else():
    def status(path):
        url = "https://%s%s" % (ADDRESSES[SERVERS[0]], path)
        return peer(MONITOR).check_output("python3 -c %s prometheus molecule-metrics-password %s", _STATUS_AS, url)
    assert status("/exporter/metrics") == "200"
    assert status("/metrics") == "200"
    assert status("/v1/jobs") == "401"
    assert status("/ui/") == "401"


def test_the_declared_jobs_are_applied_and_run():
    run = run_playbook("playbooks/reconcile.yml")
    assert run.returncode == 0, run.stdout[-3000:]

    def both_succeeded():
        status, jobs = api(SERVERS[0], "/v1/jobs")
        succeeded = {job["name"] for job in jobs if job.get("success_count")} if status == 200 else set()
        return {FAILING_JOB, HEARTBEAT_JOB} <= succeeded
    wait_for(both_succeeded, timeout=90, interval=3, what="both declared jobs succeeded once")
    # Rules for both, and nothing notified for them yet.
    rules = prometheus("/api/v1/rules")["data"]["groups"]
    named = {(rule["name"], rule["labels"].get("dkron_job")) for group in rules for rule in group["rules"]}
    for job in (FAILING_JOB, HEARTBEAT_JOB):
        assert {("DkronJobFailed", job), ("DkronJobStale", job), ("DkronJobNeverRan", job)} <= named
    assert not [alert for _at, payload in notifications() for alert in payload["alerts"]
                if alert["labels"].get("dkron_job")]


def test_a_failing_job_is_notified_once_then_resolved():
    status, job = api(SERVERS[0], "/v1/jobs/%s" % FAILING_JOB)
    assert status == 200
    job["executor_config"] = {"command": "false"}
    broken_at = monitor_now()
    assert api(SERVERS[0], "/v1/jobs", method="POST", body=job)[0] == 201
    fired_at, alert = wait_for_notification("DkronJobFailed", "firing", broken_at, 240, dkron_job=FAILING_JOB)
    assert FAILING_JOB in alert["annotations"]["summary"]
    slack = [payload for received_at, payload in notifications("/slack") if received_at >= broken_at]
    assert any(FAILING_JOB in attachment["title"] and "FIRING" in attachment["title"]
               for payload in slack for attachment in payload["attachments"]), slack

    # The reconcile puts the declared command back; the next run succeeds.
    fixed_at = monitor_now()
    run = run_playbook("playbooks/reconcile.yml")
    assert run.returncode == 0, run.stdout[-3000:]
    wait_for_notification("DkronJobFailed", "resolved", fixed_at, 180, dkron_job=FAILING_JOB)
    assert len(alerts_sent("DkronJobFailed", "firing", dkron_job=FAILING_JOB)) == 1


def test_drift_found_by_the_scheduled_reconcile_is_notified(tmp_path_factory):
    """The reconcile timer on the monitoring host, with the same declared jobs: a job changed by hand
    is put back by its next run, which reports the drift; Prometheus scrapes the figures from the
    timer's node exporter on loopback."""
    jobs = peer(SERVERS[0]).ansible.get_variables()["dkron_jobs"]
    # A run a minute: the drift figure is the last run's, so it shows until the next run. With runs
    # 20 s apart (ci39: one run right after the other, 9 s each) it was gone before a scrape
    # (every 15 s) saw it, and nothing fired; every 15 minutes, the role's default, it shows long.
    playbook = reconcile_timer_playbook(
        tmp_path_factory.mktemp("drift-timer"), MONITOR, {"dkron_jobs": jobs},
        reconcile_timer_on_calendar="*:*:00", reconcile_timer_randomized_delay=0, reconcile_timer_metrics=True)
    try:
        run = run_playbook(str(playbook))
        assert run.returncode == 0, run.stdout[-3000:]
        wait_for(lambda: [target for target in prometheus("/api/v1/targets?state=active")["data"]["activeTargets"]
                          if target["labels"]["job"] == "hacron_reconcile" and target["health"] == "up"],
                 timeout=90, interval=3, what="the reconcile's figures scraped")
        status, job = api(SERVERS[0], "/v1/jobs/%s" % HEARTBEAT_JOB)
        assert status == 200
        job["executor_config"] = {"command": "true # changed by hand"}
        changed_at = monitor_now()
        assert api(SERVERS[0], "/v1/jobs", method="POST", body=job)[0] == 201
        try:
            # Each run is a whole ansible-playbook on the monitoring host: minutes on a loaded machine.
            wait_for_notification("DkronJobsDrifted", "firing", changed_at, 300)
            # The run that found it put the declared command back: the next one finds nothing.
            wait_for_notification("DkronJobsDrifted", "resolved", changed_at, 300)
        except AssertionError as error:
            raise AssertionError("%s\n%s" % (error, reconcile_timer_state())) from None
        assert api(SERVERS[0], "/v1/jobs/%s" % HEARTBEAT_JOB)[1]["executor_config"]["command"] == "true"
    finally:
        peer(MONITOR).run("systemctl disable --now hacron-reconcile.timer")
        peer(MONITOR).run("systemctl stop hacron-reconcile.service")


def test_a_job_whose_only_node_stops_goes_stale():
    agent = peer(AGENT)
    agent.check_output("docker stop %s", container(AGENT))
    stopped_at = monitor_now()
    try:
        wait_for_notification("DkronJobStale", "firing", stopped_at, 240, dkron_job=HEARTBEAT_JOB)
    finally:
        agent.check_output("docker start %s", container(AGENT))
    assert not alerts_sent("DkronJobStale", "firing", dkron_job=FAILING_JOB)


def test_killing_the_leader_elects_another_without_a_no_leader_notification():
    old_leader = leader_name(SERVERS[0])
    assert old_leader in SERVERS
    killed_at = monitor_now()
    peer(old_leader).check_output("docker kill %s", container(old_leader))
    others = [name for name in SERVERS if name != old_leader]
    new_leader = wait_for(lambda: leader_name(others[0]) not in (None, old_leader) and leader_name(others[0]),
                          timeout=60, interval=1, what="a new leader")
    print("new leader %s after %.1f s" % (new_leader, monitor_now() - killed_at))
    peer(old_leader).check_output("docker start %s", container(old_leader))
    # Longer than the no-leader alert's for (1m), an evaluation and a notification after it.
    time.sleep(90)
    assert not alerts_sent("DkronNoLeader", "firing")
    history = prometheus("/api/v1/query?query=max_over_time(ALERTS%7Balertname%3D%22DkronNoLeader%22%7D%5B5m%5D)")
    assert history["data"]["result"] == []


def test_a_server_stopped_for_good_is_a_failed_member_and_a_missing_voter():
    wait_for(lambda: all(leader_name(name) for name in SERVERS), timeout=90, interval=2,
             what="every server back with a leader")
    stopped = next(name for name in SERVERS if name != leader_name(SERVERS[0]))
    # Killed, as a crash or a power loss leaves it: on SIGTERM (docker stop) Dkron leaves serf
    # cleanly when it has the time, and a member that left is not failed (ci41 waited 300 s for
    # DkronMemberFailed in vain). Docker restarts no killed container under unless-stopped.
    peer(stopped).check_output("docker kill %s", container(stopped))
    stopped_at = monitor_now()
    wait_for_notification("DkronMemberFailed", "firing", stopped_at, 300)
    wait_for_notification("DkronRaftVoterMissing", "firing", stopped_at, 300, server=stopped)
    firing = {alert["labels"]["alertname"] for alert in prometheus("/api/v1/alerts")["data"]["alerts"]
              if alert["state"] == "firing"}
    assert {"DkronMemberFailed", "DkronRaftVoterMissing"} <= firing
