# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options the rolling update's modules share (argument specs: module_utils/dkron_update.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # What the update plans over: dkron_update_plan and dkron_update_step (PLAN_SPEC).
    DOCUMENTATION = r"""
options:
  servers:
    description: Node names of every Dkron server (the inventory's server group).
    type: list
    elements: str
    required: true
  agents:
    description: Node names of every Dkron agent.
    type: list
    elements: str
    default: []
  pending:
    description: The nodes still to update (for example those whose container would change).
    type: list
    elements: str
    required: true
  target_version:
    description: The Dkron version the update installs, such as V(4.1.2).
    type: str
    required: true
"""

    # The health gate's wait: dkron_health_gate and dkron_update_step (GATE_WAIT_SPEC).
    GATE = r"""
options:
  server_api_urls:
    description:
      - The API URL of each server, by node name. When given, the member list is read from the
        leader itself; otherwise from the server at O(api_url).
    type: dict
    default: {}
  wait_timeout:
    description: Seconds to wait for the cluster to be whole.
    type: float
    default: 120
  wait_delay:
    description:
      - The pause between two checks, in seconds, after the first five seconds of a wait, which
        check every half second. So a wait of a second or two (a restarted node, an election) ends
        soon after it could, and a long one checks no more often than this.
    type: float
    default: 2
attributes:
  check_mode:
    support: full
    details: The module only reads; in check mode it checks once and does not wait.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Runs on a Dkron host when O(raft_container) is set, anywhere that reaches the API otherwise.
"""
