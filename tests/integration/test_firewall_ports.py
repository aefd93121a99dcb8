"""The firewall opens Dkron's ports as the dkron role's variables set them."""

import json

import pytest

from support.ansible_runs import ROOT, run_playbook_json

pytestmark = pytest.mark.integration


def firewall_dkron_ports(tmp_path, inventory_vars):
    playbook = tmp_path / "ports.yml"
    playbook.write_text(json.dumps([{
        "hosts": "localhost",
        "gather_facts": False,
        "vars": inventory_vars,
        "vars_files": [str(ROOT / "roles" / "firewall" / "defaults" / "main.yml")],
        "tasks": [{"ansible.builtin.debug": {"msg": {
            "tcp": "{{ firewall_dkron_tcp_ports }}", "udp": "{{ firewall_dkron_udp_ports }}"}}}],
    }]))
    return run_playbook_json(playbook)["msg"]


def test_the_defaults_are_dkron_s_own(tmp_path):
    assert firewall_dkron_ports(tmp_path, {}) == {"tcp": [8946, 6868], "udp": [8946]}


def test_ports_moved_in_the_inventory_are_the_ones_opened(tmp_path):
    assert firewall_dkron_ports(tmp_path, {"dkron_serf_port": 9946, "dkron_rpc_port": 7000}) == \
        {"tcp": [9946, 7000], "udp": [9946]}
