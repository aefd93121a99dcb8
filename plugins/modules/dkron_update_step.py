#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_update_step
short_description: Between two steps of a Dkron rolling update, check the last node, pick the next and wait until it may go
version_added: 0.2.0
description:
  - What a rolling update does between two nodes, in one module run. With O(updated), it first waits
    until the cluster is whole again with that node alive on O(target_version) (the gate after its
    step, as M(hacron.dkron.dkron_health_gate) with O(hacron.dkron.dkron_health_gate#module:nodes)).
    Then it asks the cluster
    which pending node is next (as M(hacron.dkron.dkron_update_plan), the leader last), checks
    that the cluster is whole without that node (as M(hacron.dkron.dkron_health_gate)), and waits
    until no job is due for O(quiet_margin) seconds (as M(hacron.dkron.dkron_quiet_window)).
  - The same checks as the three modules, run one after the other; the roles use this one between
    steps, so each step costs one module run besides its node instead of four. The gate after the
    last step is M(hacron.dkron.dkron_health_gate).
  - Pending nodes that are down (not alive members) are not waited for, since their own steps bring
    them in. They are returned in RV(down), for the gate after the step.
  - Refuses a rolling update across the 4.0.8/4.0.9 line, as M(hacron.dkron.dkron_update_plan) does
    when not told to stop the whole cluster.
  - When nothing is pending it returns RV(next) V(null) and checks nothing else (but O(updated)).
  - Changes nothing.
extends_documentation_fragment:
  - hacron.dkron.connection
  - hacron.dkron.rolling_update
  # Before attributes: of two fragments that set the same attribute, the first one wins.
  - hacron.dkron.rolling_update.gate
  - hacron.dkron.attributes
  - hacron.dkron.raft_cli
  - ansible.builtin.action_common_attributes
options:
  updated:
    description:
      - The node the step before re-created. Before anything else the module waits, for up to
        O(wait_timeout) seconds, until the cluster is whole with it alive on O(target_version);
        pending nodes that are down are not waited for. Run the module on a server other than this
        node, which may still be starting.
    type: str
  quiet_margin:
    description: Seconds without a due job that must follow the moment the module returns.
    type: float
    default: 8
  quiet_timeout:
    description: Longest wait for that moment, in seconds.
    type: float
    default: 120
notes:
  - The module host's clock is compared with the servers' schedules; keep the clocks synchronised.
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Pick the next node, check the cluster and wait for a quiet moment
  hacron.dkron.dkron_update_step:
    api_url: http://127.0.0.1:8080
    servers: [cron-a, cron-b, cron-c]
    agents: [worker-1]
    pending: [cron-a, worker-1]
    target_version: 4.1.2
    raft_container: dkron
    quiet_margin: 8
  register: step

- name: Check cron-c back on 4.1.2, then pick the next node
  hacron.dkron.dkron_update_step:
    api_url: http://127.0.0.1:8080
    servers: [cron-a, cron-b, cron-c]
    pending: [cron-a]
    updated: cron-c
    target_version: 4.1.2
    raft_container: dkron
"""

RETURN = r"""
next:
  description: The node to update now, or V(null) when nothing is pending.
  returned: success
  type: str
order:
  description: The pending nodes in update order, RV(next) first.
  returned: success
  type: list
  elements: str
leader:
  description: The leader when asked.
  returned: success
  type: str
versions:
  description: The Dkron version of every alive member, by node name.
  returned: success
  type: dict
updated_whole:
  description: Seconds waited for the cluster to be whole again with O(updated).
  returned: when O(updated) is set
  type: float
down:
  description: Pending nodes that are not alive members now.
  returned: success
  type: list
  elements: str
voters:
  description: The Raft voters when the cluster was found whole (absent when they were not read).
  returned: when RV(next) is set and raft_container or dkron_binary is
  type: list
  elements: str
waited_whole:
  description: Seconds waited for the cluster to be whole.
  returned: when RV(next) is set
  type: float
waited_quiet:
  description: Seconds waited for the quiet moment.
  returned: when RV(next) is set
  type: float
next_due:
  description: The first due time after the quiet stretch and the jobs due then.
  returned: when RV(next) is set
  type: dict
"""

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_update import (
    PLAN_SPEC,
    gate_from_params,
    plan_update,
    run_gate_module,
    wait_for_quiet,
    wait_until_whole,
)


def between_steps(module, client):
    params = module.params
    after, down = None, []
    if params["updated"]:
        # The gate after the step before; the pending nodes that are down are not waited for.
        alive = set(member["Name"] for member in client.members() if member.get("statusText") == "alive")
        down = [name for name in params["pending"] if name not in alive]
        gate = gate_from_params(params, servers=params["servers"], nodes=[params["updated"]],
                                excluding=sorted(set(down) - {params["updated"]}), version=params["target_version"],
                                context="after updating %s" % params["updated"])
        after = wait_until_whole(module, client, gate)
    plan = plan_update(client, params["servers"], params["agents"], params["pending"], params["target_version"])
    result = dict(changed=False, next=plan["next"], order=plan["order"], leader=plan["leader"],
                  versions=plan["versions"], down=plan["down"])
    if after is not None:
        result["updated_whole"] = after["waited"]
    if plan["next"] is None:
        return result

    # The node itself may be down already (an earlier run failed on it): that costs no quorum.
    # A cluster found whole just now, no server excused, is whole without any one node.
    if after is not None and not down and not plan["down"]:
        whole = dict(after, waited=0.0)
    else:
        gate = gate_from_params(params, servers=params["servers"],
                                excluding=sorted(set([plan["next"]] + plan["down"])),
                                context="before updating %s" % plan["next"])
        whole = wait_until_whole(module, client, gate)
    if "voters" in whole:
        result["voters"] = whole["voters"]
    quiet = wait_for_quiet(client, params["quiet_margin"], wait_timeout=params["quiet_timeout"],
                           check_mode=module.check_mode)
    result.update(waited_whole=whole["waited"], waited_quiet=quiet["waited"], next_due=quiet["next_due"])
    return result


def main():
    run_gate_module(
        between_steps,
        dict(PLAN_SPEC, updated=dict(type="str"), quiet_margin=dict(type="float", default=8.0),
             quiet_timeout=dict(type="float", default=120.0)),
    )


if __name__ == "__main__":
    main()
