#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_server_removal
short_description: Remove from Raft the Dkron servers taken out of the cluster, keeping its quorum
version_added: 0.2.0
description:
  - Reads the Raft voters with C(dkron raft list-peers) against the leader. Every voter not in
    O(servers) is removed with C(dkron raft remove-peer), one at a time, and the module then waits
    until the voters are exactly the servers that stay.
  - A server that is stopped or gone stays a voter otherwise, so the quorum keeps counting a dead
    member, and one more failure stops the cluster.
  - Refuses, changing nothing, when the servers that stay, alive, are fewer than a quorum of the
    voters as they are now (the message gives the numbers), or when a voter to remove is still alive
    after O(wait_timeout) (the leader would add it back at its next reconcile).
  - On a failure halfway, RV(removed) lists the peers that were removed and RV(remaining) those
    that were not.
extends_documentation_fragment:
  - hacron.dkron.connection
  - hacron.dkron.attributes
  - hacron.dkron.raft_cli
  - ansible.builtin.action_common_attributes
options:
  servers:
    description: Node names of the servers that stay; each must be a voter now or become one.
    type: list
    elements: str
    required: true
  require_stopped:
    description:
      - Refuse while a voter to remove is still alive. V(false) checks the quorum alone, to plan a
        removal before the servers to remove are stopped; use it in check mode.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a leader whose Raft answers and for the servers to remove to be no
        longer alive (one bound for both), and again for the voters to be exactly O(servers) after
        the removal.
    type: float
    default: 60
  wait_delay:
    description: Seconds between checks of the voters.
    type: float
    default: 2
attributes:
  check_mode:
    support: full
    details: Reports what it would remove, or why it would refuse, and removes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Runs on a Dkron host (O(raft_container) or O(dkron_binary) is needed there).
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Remove cron-d and cron-e, taken out of the inventory's servers, from Raft
  hacron.dkron.dkron_server_removal:
    api_url: http://127.0.0.1:8080
    servers: [cron-a, cron-b, cron-c]
    raft_container: dkron
"""

RETURN = r"""
removed:
  description: The peers removed (in check mode, those that would be).
  returned: always
  type: list
  elements: str
remaining:
  description: The peers still to remove when the module failed halfway (empty on success).
  returned: always
  type: list
  elements: str
voters:
  description: The Raft voters at the end.
  returned: success
  type: list
  elements: str
"""

import time

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronError
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import (
    RAFT_CLI_SPEC,
    leader_rpc_address,
    raft_cli,
    raft_voters,
    run_module,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import raft_removal


def alive_names(members):
    return [member["Name"] for member in members if member.get("statusText") == "alive"]


def leader_and_voters(module, client, deadline):
    """The leader's gRPC address, the members and the Raft voters, waited for until ``deadline``.

    The servers taken out may have held the leadership: just after their containers are removed the
    one asked answers with no leader, or with the dead one (whose list-peers fails), until an
    election ends. A single try made this task fail in one CI run (its message was not kept), with
    a leadership held by a removed server the likeliest cause the code leaves.
    """
    while True:
        problem = None
        try:
            leader = client.leader()
            if leader is None:
                problem = "the cluster has no leader"
            else:
                members = client.members()
                rpc_address = leader_rpc_address(members, leader["Name"])
                voters, problem = raft_voters(module, rpc_address)
                if not problem:
                    return rpc_address, members, voters
        except DkronError as exc:
            problem = str(exc)
        if time.monotonic() >= deadline:
            module.fail_json(msg="%s after %.0f s: no peer is removed" % (problem, module.params["wait_timeout"]),
                             removed=[], remaining=[])
        time.sleep(module.params["wait_delay"])


def remove_servers(module, client):
    params = module.params
    if not (params["raft_container"] or params["dkron_binary"]):
        module.fail_json(msg="set raft_container or dkron_binary: the Raft peers are read and removed with the dkron CLI")
    if not params["require_stopped"] and not module.check_mode:
        module.fail_json(msg="require_stopped=false plans only: run it in check mode", removed=[], remaining=[])
    deadline = time.monotonic() + params["wait_timeout"]
    rpc_address, members, voters = leader_and_voters(module, client, deadline)
    remove, refusal = raft_removal(voters, params["servers"], alive_names(members), require_stopped=False)
    if refusal:  # the quorum: no waiting changes it
        module.fail_json(msg="refused, nothing removed: " + refusal, removed=[], remaining=remove, voters=voters)
    # A server stopped a moment ago is still counted alive for a few seconds: wait for that, bounded.
    while True:
        remove, refusal = raft_removal(voters, params["servers"], alive_names(members),
                                       require_stopped=params["require_stopped"])
        if not refusal or module.check_mode or time.monotonic() >= deadline:
            break
        time.sleep(params["wait_delay"])
        # Asked again in full: the leadership may have moved off a server that has just died.
        rpc_address, members, voters = leader_and_voters(module, client, deadline)
    if refusal:
        module.fail_json(msg="refused, nothing removed: " + refusal, removed=[], remaining=remove, voters=voters)
    if not remove or module.check_mode:
        return dict(changed=bool(remove), removed=remove, remaining=[], voters=voters)

    removed = []
    for name in remove:
        rc, out, err = raft_cli(module, rpc_address, "remove-peer", "--peer-id", name)
        if rc != 0:
            module.fail_json(msg="dkron raft remove-peer %s failed (rc %d): %s; removed before it: %s"
                                 % (name, rc, (err or out).strip(), removed or "none"),
                             removed=removed, remaining=remove[len(removed):])
        removed.append(name)

    expected = sorted(set(voters) - set(remove))
    deadline = time.monotonic() + params["wait_timeout"]
    while True:
        now, problem = raft_voters(module, rpc_address)
        if now == expected or time.monotonic() >= deadline:
            break
        time.sleep(params["wait_delay"])
    if now != expected:
        module.fail_json(msg="removed %s, but after %.0f s the voters are %s, expected %s%s"
                             % (", ".join(removed), params["wait_timeout"], now, expected,
                                ": " + problem if problem else ""),
                         removed=removed, remaining=[])
    return dict(changed=True, removed=removed, remaining=[], voters=now)


def main():
    run_module(
        remove_servers,
        dict(
            RAFT_CLI_SPEC,
            servers=dict(type="list", elements="str", required=True),
            require_stopped=dict(type="bool", default=True),
            wait_timeout=dict(type="float", default=60.0),
            wait_delay=dict(type="float", default=2.0),
        ),
        retries=1,
        mutually_exclusive=[("raft_container", "dkron_binary")],
    )


if __name__ == "__main__":
    main()
