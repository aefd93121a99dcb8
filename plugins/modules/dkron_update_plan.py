#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_update_plan
short_description: The order of a Dkron rolling update, the leader last
version_added: 0.2.0
description:
  - Asks the cluster live who leads and which version every member runs, and returns the nodes
    still to update in the order a rolling update must take them, agents first, then the
    followers, the leader last.
  - A pending node that is down (an earlier update failed on it) comes first, so that a rerun
    repairs it before anything else is touched.
  - Called again before each step, it sees a leadership change; a leader not yet updated always
    comes last.
  - Refuses a rolling update across the 4.0.8/4.0.9 line, where Dkron renamed its gRPC services and
    old and new nodes cannot talk to each other, unless O(full_stop=true) is chosen.
  - Changes nothing.
extends_documentation_fragment:
  - hacron.dkron.rolling_update
  - hacron.dkron.connection
  - hacron.dkron.attributes
  - hacron.dkron.attributes.info
  - ansible.builtin.action_common_attributes
options:
  full_stop:
    description:
      - Allow an update across the 4.0.8/4.0.9 line by stopping every node first. The plan then says
        O(full_stop); the playbook stops all pending nodes and starts them on the new version.
    type: bool
    default: false
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Which node is next
  hacron.dkron.dkron_update_plan:
    api_url: http://cron-a.example.internal:8080
    servers: [cron-a, cron-b, cron-c]
    agents: [worker-1]
    pending: [cron-a, cron-c, worker-1]
    target_version: 4.1.2
  register: plan

- name: Show it
  ansible.builtin.debug:
    msg: "{{ plan.order }} (leader {{ plan.leader }})"
"""

RETURN = r"""
order:
  description: The pending nodes in update order.
  returned: success
  type: list
  elements: str
  sample: [worker-1, cron-c, cron-a]
next:
  description: The first node of RV(order), or V(null) when nothing is pending.
  returned: success
  type: str
leader:
  description: The leader when asked.
  returned: success
  type: str
versions:
  description: The Dkron version of every member, by node name.
  returned: success
  type: dict
  sample: {cron-a: 4.1.1, cron-b: 4.1.2}
strategy:
  description: V(rolling), or V(full_stop) when O(full_stop) was needed and allowed.
  returned: success
  type: str
"""

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import run_module
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_update import PLAN_SPEC, UpdateRefused, plan_update


def plan(module, client):
    params = module.params
    result = plan_update(client, params["servers"], params["agents"], params["pending"], params["target_version"],
                         full_stop=params["full_stop"])
    result.pop("down")
    return dict(result, changed=False)


def main():
    run_module(
        plan,
        dict(PLAN_SPEC, full_stop=dict(type="bool", default=False)),
        errors=(UpdateRefused,),
    )


if __name__ == "__main__":
    main()
