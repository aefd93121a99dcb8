# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module of hacron.dkron shares; a module states only where it differs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Every module. With ansible.builtin.action_common_attributes, which describes the others.
    DOCUMENTATION = r"""
attributes:
  action_group:
    description:
      - The module is in the action group V(hacron.dkron.dkron), so that C(module_defaults) for
        C(group/hacron.dkron.dkron) sets the connection options once for every module.
    support: full
    membership:
      - hacron.dkron.dkron
  platform:
    platforms: all
    details: Runs anywhere that reaches the API, usually the controller.
"""

    # The modules that only read.
    INFO = r"""
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
"""
