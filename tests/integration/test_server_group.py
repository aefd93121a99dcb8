"""playbooks/server_group.yml names the cluster's groups from the inventory, not from the hosts a
run is limited to: under --limit, the roles still see every server (the exporter's expected
servers, Prometheus's targets)."""

import json
import re

import pytest
import yaml

from support.ansible_runs import ROOT, run_playbook

pytestmark = pytest.mark.integration

LOCAL = {"ansible_connection": "local"}


def groups_seen(tmp_path, arguments=()):
    """The in-memory groups as the first host of the run sees them after server_group.yml."""
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"dkron": {"children": {
        # One server group renamed on its hosts: each host is judged by its own settings.
        "cron_servers": {"hosts": {name: LOCAL for name in ("server-1", "server-2", "server-3")},
                         "vars": {"dkron_server_group": "cron_servers"}},
        "dkron_agents": {"hosts": {"agent-1": LOCAL}},
    }}}))
    playbook = tmp_path / "groups.yml"
    playbook.write_text(yaml.safe_dump([
        {"ansible.builtin.import_playbook": str(ROOT / "playbooks" / "server_group.yml")},
        {"name": "Show the groups", "hosts": "all", "gather_facts": False, "tasks": [
            {"name": "Groups", "ansible.builtin.debug": {"msg": "GROUPS {{ {'servers': groups['_dkron_servers'], "
                                                                "'agents': groups['_dkron_agents']} | to_json }}"},
             "run_once": True}]},
    ]))
    completed = run_playbook(playbook, inventory, arguments=arguments)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    found = re.search(r"GROUPS (\{.*\})", completed.stdout)
    assert found, completed.stdout
    return json.loads(found.group(1))


def test_groups_hold_every_host_of_the_inventory(tmp_path):
    assert groups_seen(tmp_path) == {"servers": ["server-1", "server-2", "server-3"], "agents": ["agent-1"]}


def test_a_limit_does_not_shrink_the_groups(tmp_path):
    assert groups_seen(tmp_path, ["--limit", "server-2"]) == {
        "servers": ["server-1", "server-2", "server-3"], "agents": ["agent-1"]}
