"""site.yml refuses bad inventories before it changes, or even contacts, any host.

The hosts in these inventories are Docker containers that do not exist. The first play that
connects to hosts is "Check the hosts"; a refusal must come before it starts.
"""

import pytest
import yaml

from support.ansible_runs import ROOT, run_playbook

pytestmark = pytest.mark.integration

HOST_PLAY = "PLAY [Check the hosts]"
PROXY_USERS = [{"name": "admin", "password": "a-preflight-password"}]


def write_inventory(tmp_path, servers, agents=(), host_vars=None):
    host_vars = dict(host_vars or {})
    nowhere = {"ansible_connection": "community.docker.docker", "ansible_host": "hacron-preflight-nowhere"}
    inventory = {
        "dkron": {
            "vars": dict(nowhere, **dict({"dkron_image": "hacron/dkron:4.1.2", "api_proxy_users": PROXY_USERS},
                                         **host_vars)),
            "children": {
                "dkron_servers": {"hosts": {name: None for name in servers}},
                "dkron_agents": {"hosts": {name: None for name in agents}},
            },
        }
    }
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def site(tmp_path, *args, **kwargs):
    result = run_playbook(ROOT / "site.yml", write_inventory(tmp_path, *args, **kwargs))
    return result.returncode, result.stdout


def test_no_servers(tmp_path):
    rc, out = site(tmp_path, servers=[], agents=["a1"])
    assert rc != 0
    assert "The inventory has no servers" in " ".join(out.split()), out
    assert HOST_PLAY not in out


def test_host_in_both_groups_is_named(tmp_path):
    rc, out = site(tmp_path, servers=["s1", "s2", "s3"], agents=["s2"])
    assert rc != 0
    assert "Hosts both servers and agents: s2" in " ".join(out.split()), out
    assert HOST_PLAY not in out


def test_even_number_of_servers_is_refused(tmp_path):
    rc, out = site(tmp_path, servers=["s1", "s2"])
    assert rc != 0
    assert "dkron_servers has 2 hosts" in out
    assert HOST_PLAY not in out


def test_even_number_of_servers_passes_with_the_override(tmp_path):
    rc, out = site(tmp_path, servers=["s1", "s2"], host_vars={"dkron_allow_even_servers": True})
    # The Dkron checks pass; the run goes on to the hosts and fails there (they do not exist).
    assert rc != 0
    assert "dkron_servers has 2 hosts" not in out
    assert HOST_PLAY in out


def test_no_image(tmp_path):
    rc, out = site(tmp_path, servers=["s1"], host_vars={"dkron_image": ""})
    assert rc != 0
    assert "dkron_image is empty" in out
    assert HOST_PLAY not in out


def test_missing_image_archive(tmp_path):
    missing = tmp_path / "no-such-archive.tar"
    rc, out = site(tmp_path, servers=["s1"], host_vars={"dkron_image_archive": str(missing)})
    assert rc != 0
    assert "which is no file on the controller" in out
    assert str(missing) in out
    assert HOST_PLAY not in out


def test_overlay_mode_without_its_swarm_network(tmp_path):
    rc, out = site(tmp_path, servers=["s1"], host_vars={"dkron_network_mode": "overlay"})
    assert rc != 0
    assert "swarm_overlay_networks does not list hacron-dkron" in out
    assert HOST_PLAY not in out


def test_overlay_mode_with_its_swarm_network_passes(tmp_path):
    overlay = {"dkron_network_mode": "overlay", "swarm_overlay_networks": [{"name": "hacron-dkron", "subnet": "10.231.0.0/24"}]}
    rc, out = site(tmp_path, servers=["s1"], host_vars=overlay)
    assert rc != 0  # the hosts do not exist; the point is that the Dkron checks let the run go on
    assert "swarm_overlay_networks does not list" not in out
    assert HOST_PLAY in out


def test_unknown_network_mode(tmp_path):
    rc, out = site(tmp_path, servers=["s1"], host_vars={"dkron_network_mode": "bridge"})
    assert rc != 0
    assert "dkron_network_mode is bridge; it must be host or overlay" in out
    assert HOST_PLAY not in out


def test_no_proxy_users(tmp_path):
    # Dkron authenticates nobody: without a user the proxy could not let anyone in.
    rc, out = site(tmp_path, servers=["s1"], host_vars={"api_proxy_users": []})
    assert rc != 0
    assert "api_proxy_users is empty" in out
    assert HOST_PLAY not in out


def test_unusable_proxy_users_are_named_without_their_passwords(tmp_path):
    users = [{"name": "ad:min", "password": "long-enough-password"}, {"name": "bob", "password": "short-pw"},
             {"name": "carol", "password": "a-good-long-password"}]
    rc, out = site(tmp_path, servers=["s1"], host_vars={"api_proxy_users": users})
    assert rc != 0
    assert 'api_proxy_users or api_proxy_metrics_users "ad:min", "bob": each user needs' in " ".join(out.split()), out
    assert "carol" not in " ".join(out.split()).split("each user needs", maxsplit=1)[0].rsplit("api_proxy_users or", 1)[-1]
    for user in users:
        assert user["password"] not in out
    assert HOST_PLAY not in out


def test_a_provided_certificate_needs_its_key_and_ca(tmp_path):
    cert = tmp_path / "server.crt"
    cert.write_text("not checked here")
    rc, out = site(tmp_path, servers=["s1"], host_vars={"api_proxy_tls_cert_src": str(cert)})
    assert rc != 0
    assert "Set api_proxy_tls_cert_src, api_proxy_tls_key_src and api_proxy_tls_ca_src together" in out
    assert HOST_PLAY not in out


BUILD = {"dkron_build_image": True, "dkron_build_base_image": "hacron/python-base:bookworm"}


@pytest.mark.parametrize("settings, message", [
    ({"dkron_build_os_packages": ["jq", "curl; rm -rf /"]},
     "dkron_build_os_packages ['curl; rm -rf /']: each entry must be one Debian package name"),
    ({"dkron_build_pip_requirements": ["humanize==4.11.0", "--extra-index-url http://elsewhere"]},
     "dkron_build_pip_requirements ['--extra-index-url http://elsewhere']: each entry must be one requirement"),
    ({"dkron_build_ca_certificates": ["/nonexistent/proxy-ca.crt"]},
     "/nonexistent/proxy-ca.crt (dkron_build_base_image_archive or dkron_build_ca_certificates) is no file"),
    ({"dkron_build_where": "everywhere"}, "dkron_build_where once or each_host (it is everywhere)"),
    ({"dkron_build_image_name": "Hacron/Custom:1"}, "(it is Hacron/Custom:1)"),
])
def test_bad_custom_image_settings_are_named(tmp_path, settings, message):
    rc, out = site(tmp_path, servers=["s1"], host_vars=dict(BUILD, **settings))
    assert rc != 0
    assert message in " ".join(out.split()), out[-2000:]
    assert HOST_PLAY not in out


def test_bad_extra_volume_is_named(tmp_path):
    rc, out = site(tmp_path, servers=["s1"], host_vars={"dkron_extra_volumes": ["/srv/jobs:/srv/jobs:ro", "jobs:/jobs"]})
    assert rc != 0
    assert "dkron_extra_volumes ['jobs:/jobs']" in out
    assert HOST_PLAY not in out


def test_usable_custom_image_settings_pass(tmp_path):
    settings = dict(BUILD, dkron_build_os_packages=["jq", "tzdata=2025b-0+deb12u1"],
                    dkron_build_pip_requirements=["humanize==4.11.0", "requests[socks]>=2.31; python_version >= '3.8'"],
                    dkron_extra_volumes=["/srv/jobs:/srv/jobs:ro"])
    rc, out = site(tmp_path, servers=["s1"], host_vars=settings)
    assert rc != 0  # the hosts do not exist; the checks let the run go on to them
    assert HOST_PLAY in out


def test_a_host_both_in_the_cluster_and_taken_out_of_it_is_named(tmp_path):
    path = write_inventory(tmp_path, servers=["s1", "s2", "s3"])
    inventory = yaml.safe_load(path.read_text())
    inventory["dkron_removed"] = {"hosts": {"s3": None}}
    path.write_text(yaml.safe_dump(inventory))
    result = run_playbook(ROOT / "site.yml", path)
    assert result.returncode != 0
    assert "Hosts taken out of the cluster (dkron_removed_group) and still in dkron: s3" in " ".join(result.stdout.split())
    assert HOST_PLAY not in result.stdout


# Alerting: the monitoring settings are refused by name before any host is contacted.
MONITORING = {"dkron_monitoring_hosts": ["s1"], "monitoring_scrape_password": "a-scrape-password",
              "api_proxy_metrics_users": [{"name": "prometheus", "password": "a-scrape-password"}]}


def test_a_monitoring_host_outside_the_inventory_is_refused(tmp_path):
    rc, out = site(tmp_path, servers=["s1"], host_vars=dict(MONITORING, dkron_monitoring_hosts=["monitor-9"]))
    assert rc != 0
    assert "dkron_monitoring_hosts names monitor-9, which the inventory does not have" in " ".join(out.split()), out
    assert HOST_PLAY not in out


def test_a_receiver_without_an_address_is_refused_without_printing_urls(tmp_path):
    receivers = [{"type": "webhook", "url": "https://alerts.example.com/hook-SECRET-TOKEN"},
                 {"type": "slack", "channel": "#cron"}]
    rc, out = site(tmp_path, servers=["s1"], host_vars=dict(MONITORING, monitoring_receivers=receivers))
    assert rc != 0
    assert "monitoring_receivers #2 (slack)" in " ".join(out.split()), out
    assert "SECRET-TOKEN" not in out
    assert HOST_PLAY not in out


def test_an_email_receiver_needs_a_mail_server(tmp_path):
    receivers = [{"type": "email", "to": "ops@example.com"}]
    rc, out = site(tmp_path, servers=["s1"], host_vars=dict(MONITORING, monitoring_receivers=receivers))
    assert rc != 0
    assert "monitoring_smtp needs smarthost" in " ".join(out.split()), out
    assert HOST_PLAY not in out


@pytest.mark.parametrize("settings, named", [
    ({"monitoring_alert_grace": "ten minutes"}, "the alert grace must be a duration such as 5m or 1h30m, not 'ten minutes'"),
    ({"dkron_jobs": [{"name": "nightly", "schedule": "@daily", "command": "true"}],
      "monitoring_job_alerts": {"nightly": {"grace": "soon"}}},
     "job nightly: grace must be a duration such as 5m or 1h30m, not 'soon'"),
    ({"monitoring_job_alerts": {"not-declared": {"grace": "5m"}}},
     "alert settings name jobs that are not declared: not-declared"),
    ({"monitoring_group_wait": "half a minute"}, "monitoring_group_wait is half a minute, which is no duration"),
])
def test_a_grace_or_interval_that_is_not_a_duration_is_refused(tmp_path, settings, named):
    rc, out = site(tmp_path, servers=["s1"], host_vars=dict(MONITORING, **settings))
    assert rc != 0
    assert named in " ".join(out.split()), out
    assert HOST_PLAY not in out


def test_monitoring_without_a_scrape_password_is_refused(tmp_path):
    rc, out = site(tmp_path, servers=["s1"], host_vars=dict(MONITORING, monitoring_scrape_password=""))
    assert rc != 0
    assert "monitoring_scrape_password is empty or shorter than 12 characters" in " ".join(out.split()), out
    assert HOST_PLAY not in out


def test_good_monitoring_settings_pass_the_preflight(tmp_path):
    receivers = [{"type": "slack", "url": "https://hooks.example.com/T/B/X"}]
    rc, out = site(tmp_path, servers=["s1"], host_vars=dict(MONITORING, monitoring_receivers=receivers))
    # The checks pass; the run goes on to the hosts and fails there (they do not exist).
    assert rc != 0
    assert HOST_PLAY in out
