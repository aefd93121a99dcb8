#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_cluster_info
short_description: Members, leader and versions of a Dkron cluster
version_added: 0.1.0
description:
  - Reads the cluster as the answering Dkron server sees it, with its serf members and their
    status, the leader, whether the answering server leads, and the Dkron version of each member.
  - Changes nothing.
extends_documentation_fragment:
  - hacron.dkron.connection
  - hacron.dkron.attributes
  - hacron.dkron.attributes.info
  - ansible.builtin.action_common_attributes
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Read the cluster
  hacron.dkron.dkron_cluster_info:
    api_url: http://cron-a.example.internal:8080
  register: cluster

- name: Every member is alive and there is a leader
  ansible.builtin.assert:
    that:
      - cluster.leader is not none
      - cluster.members | rejectattr('status', 'eq', 'alive') | list | length == 0
"""

RETURN = r"""
answering_node:
  description: Node name of the server that answered.
  returned: success
  type: str
  sample: cron-a
answering_node_is_leader:
  description: Whether the server that answered leads the cluster.
  returned: success
  type: bool
leader:
  description: Node name of the leader, or V(null) while the cluster has none.
  returned: success
  type: str
  sample: cron-b
members:
  description: The cluster's serf members, sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Node name (also the Raft server ID of a server).
      type: str
    status:
      description: Serf status, one of V(alive), V(leaving), V(left), V(failed).
      type: str
    server:
      description: Whether the member is a server (holds the job store and serves the API).
      type: bool
    version:
      description: The member's Dkron version.
      type: str
    address:
      description: The member's serf address, C(host:port).
      type: str
    rpc_address:
      description: The member's gRPC and Raft address, C(host:port).
      type: str
    datacenter:
      description: The member's datacenter.
      type: str
    region:
      description: The member's region.
      type: str
    tags:
      description: The member's user tags, without the tags Dkron sets for itself.
      type: dict
  sample:
    - name: cron-a
      status: alive
      server: true
      version: 4.1.2
      address: 192.0.2.11:8946
      rpc_address: 192.0.2.11:6868
      datacenter: dc1
      region: global
      tags: {zone: a}
"""

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import run_module

# Serf tags Dkron sets on every member itself; the rest are the user's.
DKRON_INTERNAL_TAGS = frozenset(["dc", "expect", "port", "region", "role", "rpc_addr", "server", "version"])


def summarise_member(member):
    """One serf member of GET /v1/members as this module returns it."""
    tags = member.get("Tags") or {}
    return dict(
        name=member["Name"],
        status=member.get("statusText"),
        server=tags.get("server") == "true",
        version=tags.get("version"),
        address="%s:%s" % (member.get("Addr"), member.get("Port")),
        rpc_address=tags.get("rpc_addr"),
        datacenter=tags.get("dc"),
        region=tags.get("region"),
        tags=dict((key, value) for key, value in tags.items() if key not in DKRON_INTERNAL_TAGS),
    )


def read_cluster(module, client):
    agent = client.agent_info()
    members = client.members()
    leader = client.leader()
    return dict(
        changed=False,
        answering_node=agent["agent"]["name"],
        answering_node_is_leader=client.is_leader(),
        leader=leader["Name"] if leader else None,
        members=sorted((summarise_member(member) for member in members), key=lambda m: m["name"]),
    )


def main():
    run_module(read_cluster)


if __name__ == "__main__":
    main()
