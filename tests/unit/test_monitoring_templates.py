"""The monitoring role's Prometheus and Alertmanager configurations, rendered by Ansible's own
templating as the role renders them, checked by Debian's promtool and amtool (unpacked into the
cache by scripts/setup.sh): every receiver type, and the scrape targets' labels."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = Path(__file__).resolve().parents[2] / "roles" / "monitoring"
TOOLS = Path(os.environ.get("HACRON_CACHE") or os.path.expanduser("~/.cache/hacron")) / "prometheus" / "usr" / "bin"
SERVERS = ["server-2", "server-1", "server-3"]  # as an in-memory group may list them


def render(template, **overrides):
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(yaml.safe_load((ROLE / "vars" / "main.yml").read_text()))
    variables.update(
        ansible_managed="Ansible managed",
        groups={"dkron_servers": SERVERS},
        hostvars={name: {"ansible_facts": {"default_ipv4": {"address": "192.0.2.1%s" % name[-1]}}} for name in SERVERS},
        monitoring_scrape_password="a-scrape-password",
    )
    variables.update(overrides)
    # Text read from a file is not trusted as a template by ansible-core 2.19 unless told.
    text = trust_as_template((ROLE / "templates" / template).read_text())
    return Templar(loader=DataLoader(), variables=variables).template(text)


def check(tmp_path, tool, arguments, text, name):
    assert os.access(TOOLS / tool, os.X_OK), "no %s in %s: run scripts/setup.sh" % (tool, TOOLS)
    path = tmp_path / name
    path.write_text(text)
    result = subprocess.run([str(TOOLS / tool)] + arguments + [str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_prometheus_config_scrapes_every_server_through_the_proxy(tmp_path):
    text = render("prometheus.yml.j2")
    check(tmp_path, "promtool", ["check", "config", "--syntax-only"], text, "prometheus.yml")
    config = yaml.safe_load(text)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"hacron_dkron_exporter", "hacron_dkron", "prometheus"}
    exporter = jobs["hacron_dkron_exporter"]
    assert (exporter["scheme"], exporter["metrics_path"]) == ("https", "/exporter/metrics")
    assert exporter["tls_config"] == {"ca_file": "/etc/hacron/tls/ca.crt"}
    assert exporter["basic_auth"]["username"] == "prometheus" and "password" not in exporter["basic_auth"]
    # Sorted (a rerun renders the same file), and only the instance label is set on a target: the
    # exporter's own server label (which server a sample is about) must reach Prometheus unrenamed.
    assert [target["labels"] for target in exporter["static_configs"]] == [
        {"instance": name} for name in sorted(SERVERS)]
    assert [target["targets"] for target in exporter["static_configs"]] == [["192.0.2.11:443"], ["192.0.2.12:443"],
                                                                            ["192.0.2.13:443"]]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]


def test_dkron_metrics_can_be_left_out(tmp_path):
    config = yaml.safe_load(render("prometheus.yml.j2", monitoring_scrape_dkron=False))
    assert "hacron_dkron" not in {job["job_name"] for job in config["scrape_configs"]}


@pytest.mark.parametrize("receivers, smtp, kinds", [
    ([], {}, set()),
    ([{"type": "email", "to": "ops@example.com"}],
     {"smarthost": "mail.example.com:587", "from": "cron@example.com", "username": "cron", "password": "secret"},
     {"email_configs"}),
    ([{"type": "slack", "url": "https://hooks.example.com/T/B/X", "channel": "#cron"},
      {"type": "webhook", "url": "http://127.0.0.1:9099/webhook"}], {}, {"slack_configs", "webhook_configs"}),
])
def test_alertmanager_config_for_each_receiver_type(tmp_path, receivers, smtp, kinds):
    text = render("alertmanager.yml.j2", monitoring_receivers=receivers, monitoring_smtp=smtp)
    check(tmp_path, "amtool", ["check-config"], text, "alertmanager.yml")
    config = yaml.safe_load(text)
    assert config["route"]["group_by"] == ["alertname", "dkron_job"]
    (receiver,) = config["receivers"]
    assert set(receiver) - {"name"} == kinds
    for kind in kinds:
        assert all(entry["send_resolved"] is True for entry in receiver[kind])
    if smtp:
        assert config["global"]["smtp_auth_password"] == "secret"
        assert config["global"]["smtp_require_tls"] is True


def test_both_listen_on_loopback_without_a_cluster_port():
    prometheus = render("prometheus.default.j2")
    alertmanager = render("alertmanager.default.j2")
    assert "--web.listen-address=127.0.0.1:9090" in prometheus
    assert "--web.listen-address=127.0.0.1:9093" in alertmanager
    assert '--cluster.listen-address="' in alertmanager  # empty: no gossip port
