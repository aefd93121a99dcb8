# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a module runs `dkron raft ...`: Dkron's HTTP API does not show the Raft peers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  raft_container:
    description:
      - A Dkron container on the module's host in which to run C(dkron raft ...) against the
        leader's gRPC address.
    type: str
  dkron_binary:
    description:
      - Path of a C(dkron) binary on the module's host to run C(dkron raft ...) with, for Dkron
        installed without containers.
    type: path
"""
