#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_health_gate
short_description: Wait until a Dkron cluster is whole, or fail naming what is not
version_added: 0.2.0
description:
  - Waits, for a bounded time, until the cluster has a leader, the leader sees every server alive,
    the Raft voters are exactly the servers, and the given nodes are alive on the given version
    (and, for servers among them in O(server_api_urls), answer with the same leader).
  - The member list is read from the leader's point of view when O(server_api_urls) says where the
    leader answers. A node cut off from the cluster still answers for itself; only the others can
    tell.
  - Raft voters are read with C(dkron raft list-peers) against the leader, inside a Dkron container on
    the host the module runs on (O(raft_container)) or with a C(dkron) binary there
    (O(dkron_binary)); Dkron's HTTP API does not show them. When neither is set, the voters are not
    checked.
  - On timeout it fails with every check that did not pass, and O(context) in front.
  - Changes nothing.
extends_documentation_fragment:
  - hacron.dkron.connection
  # Before attributes: of two fragments that set the same attribute, the first one wins.
  - hacron.dkron.rolling_update.gate
  - hacron.dkron.attributes
  - hacron.dkron.raft_cli
  - ansible.builtin.action_common_attributes
options:
  servers:
    description: Node names of every Dkron server; all must be alive and Raft voters.
    type: list
    elements: str
    required: true
  excluding:
    description:
      - Servers that need not be alive now, such as a node about to be updated that is already
        down after a failed earlier update; stopping it costs no quorum. They need not be Raft
        voters either, since the leader drops a server that stays failed and its update brings it back.
    type: list
    elements: str
    default: []
  nodes:
    description: Further nodes (servers or agents) that must be alive, such as the one just updated.
    type: list
    elements: str
    default: []
  departed:
    description:
      - Stopped nodes that no server in O(server_api_urls) may still count alive. In overlay mode a
        node re-created too early, at its new address, meets serf's name-conflict resolution while
        its peers still count the old one alive.
      - A server that does not answer counts as seeing nobody alive.
    type: list
    elements: str
    default: []
  version:
    description: The Dkron version every node in O(nodes) must run.
    type: str
  context:
    description: Put in front of the failure message, such as V(after updating cron-b).
    type: str
    default: ""
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: The cluster is whole and cron-b runs 4.1.2
  hacron.dkron.dkron_health_gate:
    api_url: http://127.0.0.1:8080
    servers: [cron-a, cron-b, cron-c]
    nodes: [cron-b]
    version: 4.1.2
    raft_container: dkron
    context: after updating cron-b
"""

RETURN = r"""
leader:
  description: The leader when the gate passed.
  returned: success
  type: str
voters:
  description: The Raft voters when the gate passed (absent when they were not read).
  returned: when raft_container or dkron_binary is set
  type: list
  elements: str
waited:
  description: Seconds waited.
  returned: always
  type: float
problems:
  description: What was not right at the last check (empty on success).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_update import (
    gate_from_params,
    run_gate_module,
    wait_until_whole,
)


def gate(module, client):
    params = module.params
    checks = gate_from_params(params, servers=params["servers"], excluding=params["excluding"], nodes=params["nodes"],
                              departed=params["departed"], version=params["version"], context=params["context"])
    return dict(wait_until_whole(module, client, checks), changed=False)


def main():
    run_gate_module(
        gate,
        dict(
            servers=dict(type="list", elements="str", required=True),
            excluding=dict(type="list", elements="str", default=[]),
            nodes=dict(type="list", elements="str", default=[]),
            departed=dict(type="list", elements="str", default=[]),
            version=dict(type="str"),
            context=dict(type="str", default=""),
        ),
    )


if __name__ == "__main__":
    main()
