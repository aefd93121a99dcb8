#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_quiet_window
short_description: Wait until no Dkron job is due for a while
version_added: 0.2.0
description:
  - Reads every job once, works out from the schedules when each is due next, and waits until a
    moment after which no job is due for O(margin) seconds. Stopping a node then, the gap it makes
    falls between runs. Dkron does not catch up a run that fell into a leader election.
  - Cron schedules are evaluated in each job's time zone (a job without one in UTC, the containers'
    zone). C(@every) jobs are due at the next run time the server stored after their last run; one
    that has not run since the scheduler started has no known phase and is reported in
    RV(unknown_phase), not waited for.
  - Just before returning it reads the jobs again, so a job added during the wait is taken into
    account.
  - When no such moment comes within O(wait_timeout) the module fails at once, naming the jobs that
    are due too often, rather than waiting in vain.
  - Changes nothing; in check mode it computes the moment and does not wait.
extends_documentation_fragment:
  - hacron.dkron.connection
  - hacron.dkron.attributes
  - ansible.builtin.action_common_attributes
options:
  margin:
    description: Seconds without a due job that must follow the moment the module returns.
    type: float
    default: 8
  settle:
    description: Seconds to wait after a run is due before that moment counts as quiet, so that the
      run has been handed to its node.
    type: float
    default: 1
  wait_timeout:
    description: Longest wait, in seconds.
    type: float
    default: 120
attributes:
  check_mode:
    support: full
    details: Computes the moment and does not wait.
  diff_mode:
    support: none
notes:
  - The controller's (or the module host's) clock is compared with the servers' schedules; keep the
    clocks synchronised.
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Wait until no job is due for 8 s
  hacron.dkron.dkron_quiet_window:
    api_url: http://cron-a.example.internal:8080
    margin: 8
"""

RETURN = r"""
waited:
  description: Seconds waited.
  returned: success
  type: float
quiet_from:
  description: The moment (UTC, RFC 3339) from which no job is due for O(margin) seconds.
  returned: success
  type: str
next_due:
  description: The first due time after the quiet stretch and the jobs due then.
  returned: success
  type: dict
  sample: {at: "2026-11-22T10:00:00+00:00", jobs: [backup]}
unknown_phase:
  description: C(@every) jobs whose next run the server does not know yet.
  returned: success
  type: list
  elements: str
"""

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import run_module
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_update import UpdateRefused, wait_for_quiet


def wait(module, client):
    params = module.params
    result = wait_for_quiet(client, params["margin"], settle=params["settle"], wait_timeout=params["wait_timeout"],
                            check_mode=module.check_mode)
    return dict(result, changed=False)


def main():
    run_module(
        wait,
        dict(
            margin=dict(type="float", default=8.0),
            settle=dict(type="float", default=1.0),
            wait_timeout=dict(type="float", default=120.0),
        ),
        errors=(UpdateRefused,),
    )


if __name__ == "__main__":
    main()
