"""The playbooks that call the API from the controller check the inventory's settings they read
(playbooks/vars/argument_specs.yml) before any call: a wrong one fails the run there, naming it."""

import re

import pytest
import yaml

from support.ansible_runs import ROOT, run_playbook

pytestmark = pytest.mark.integration

# Nothing listens here: a run that got past the check would fail on the connection instead.
UNREACHABLE = "https://127.0.0.1:9"


def inventory(tmp_path, server_group="dkron_servers", parent="dkron", **settings):
    """An inventory of one server in ``server_group``, under the group ``parent`` (None: no parent)."""
    servers = {server_group: {"hosts": {"server-1": {"ansible_connection": "local"}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({parent: {"children": servers}} if parent else servers))
    (tmp_path / "group_vars").mkdir(exist_ok=True)
    (tmp_path / "group_vars" / "all.yml").write_text(yaml.safe_dump(settings))
    return tmp_path


def run(tmp_path, playbook, server_group="dkron_servers", parent="dkron", **settings):
    completed = run_playbook(ROOT / "playbooks" / playbook, inventory(tmp_path, server_group, parent, **settings))
    return completed.returncode, " ".join(completed.stdout.split())


def test_status_without_an_api_url_names_it(tmp_path):
    rc, out = run(tmp_path, "status.yml")
    assert rc != 0
    assert "missing required arguments: dkron_api_url" in out, out
    assert "PLAY [Dkron cluster status]" not in out


def test_reconcile_with_a_purge_that_is_no_boolean_changes_nothing(tmp_path):
    rc, out = run(tmp_path, "reconcile.yml", dkron_api_url=UNREACHABLE, dkron_jobs_purge="sometimes",
                  dkron_jobs=[{"name": "never-sent", "schedule": "@manually", "command": "true"}])
    assert rc != 0
    assert "dkron_jobs_purge" in out and "bool" in out, out
    assert "PLAY [Reconcile the Dkron jobs with the inventory]" not in out


def test_reconcile_with_jobs_that_are_no_list_changes_nothing(tmp_path):
    rc, out = run(tmp_path, "reconcile.yml", dkron_api_url=UNREACHABLE, dkron_jobs="never-sent")
    assert rc != 0
    assert "dkron_jobs" in out and "list" in out, out
    assert "PLAY [Reconcile the Dkron jobs with the inventory]" not in out


def test_settings_of_the_right_types_pass_the_check(tmp_path):
    rc, out = run(tmp_path, "reconcile.yml", dkron_api_url=UNREACHABLE, dkron_jobs_purge=True,
                  dkron_api_username="admin", dkron_api_password="a-test-password",
                  dkron_jobs=[{"name": "never-sent", "schedule": "@manually", "command": "true"}],
                  dkron_reconcile_report=str(tmp_path / "report.json"))
    # Past the check, the run reaches the API, which does not answer here.
    assert "PLAY [Reconcile the Dkron jobs with the inventory]" in out, out
    assert rc != 0 and "a-test-password" not in out


# An inventory whose servers are in a group of its own name, given as dkron_server_group: the check
# reads that group's first server (no dkron_servers group exists), and the playbook goes on to the API.
def test_a_server_group_of_another_name_is_checked_and_used(tmp_path):
    rc, out = run(tmp_path, "status.yml", server_group="cron_servers", dkron_server_group="cron_servers")
    assert rc != 0
    assert "missing required arguments: dkron_api_url" in out, out

    rc, out = run(tmp_path, "status.yml", server_group="cron_servers", dkron_server_group="cron_servers",
                  dkron_api_url=UNREACHABLE)
    assert re.search(r"TASK \[The settings are valid \(api\)\] \** ok: \[server-1\]", out), out
    assert "PLAY [Dkron cluster status]" in out and "cannot reach Dkron at %s" % UNREACHABLE in out, out
    assert rc != 0


# The reconcile timer's inventory lists the servers alone, with no group dkron above them (CI run 9:
# the servers' group was then never named and reconcile.yml failed on it).
def test_an_inventory_of_the_servers_alone_is_checked_and_used(tmp_path):
    rc, out = run(tmp_path, "reconcile.yml", parent=None, dkron_api_url=UNREACHABLE,
                  dkron_jobs=[{"name": "never-sent", "schedule": "@manually", "command": "true"}],
                  dkron_reconcile_report=str(tmp_path / "report.json"))
    assert re.search(r"TASK \[The settings are valid \(reconcile\)\] \** ok: \[server-1\]", out), out
    assert "cannot reach Dkron at %s" % UNREACHABLE in out, out
    assert rc != 0
