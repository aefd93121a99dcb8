# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base every module of this collection runs on.

``run_module(run, argument_spec)`` builds the ``AnsibleModule`` from the connection options (the
doc fragment ``connection``) and the module's own, fails cleanly when ``requests`` is missing,
makes the one client, calls ``run(module, client)`` and exits with the dict it returns. A
``DkronError`` raised anywhere in ``run`` becomes ``fail_json`` with the HTTP status and body, and
so does any exception type listed in ``errors``, with its message and its ``details`` (a dict) if
it has one. Every module supports check mode: they only read, or gate their writes on it themselves.

A module is then its documentation, its argument spec and its ``run``. Input checks belong at the
start of ``run``: the client makes no request until ``run`` asks it to.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    DkronClient,
    DkronError,
    connection_argument_spec,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import parse_raft_peers


# The options of doc fragment raft_cli: where `dkron raft ...` runs.
RAFT_CLI_SPEC = dict(raft_container=dict(type="str"), dkron_binary=dict(type="path"))


def raft_cli(module, rpc_address, *args):
    """``dkron raft <args> --rpc-addr <rpc_address>`` in O(raft_container) or with O(dkron_binary):
    ``(rc, stdout, stderr)``."""
    params = module.params
    dkron = [params["dkron_binary"]] if params["dkron_binary"] else ["docker", "exec", params["raft_container"], "dkron"]
    return module.run_command(dkron + ["raft"] + list(args) + ["--rpc-addr", rpc_address])


def raft_voters(module, rpc_address):
    """The voters' IDs (node names) as the Raft at ``rpc_address`` knows them: ``(voters, None)``, or
    ``(None, problem)``."""
    rc, out, err = raft_cli(module, rpc_address, "list-peers")
    if rc != 0:
        return None, "dkron raft list-peers failed (rc %d): %s" % (rc, (err or out).strip())
    return parse_raft_peers(out), None


def leader_rpc_address(members, leader_name):
    """The leader's gRPC address from its serf tags (``rpc_addr``), or None."""
    for member in members:
        if member.get("Name") == leader_name:
            return (member.get("Tags") or {}).get("rpc_addr")
    return None


def run_module(run, argument_spec=None, retries=None, errors=(), **module_options):
    """Run one module: ``run(module, client)`` returns the result to exit with.

    retries: the client's retries per request (None: the client's default); a module that waits
    in a loop of its own wants few. module_options: further ``AnsibleModule`` keywords
    (``mutually_exclusive``, ``required_if``).
    """
    spec = connection_argument_spec()
    spec.update(argument_spec or {})
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **module_options)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    client = DkronClient.from_module_params(module.params, retries=retries)
    try:
        result = run(module, client)
    except DkronError as exc:
        module.fail_json(**exc.to_fail_kwargs())
    except errors as exc:
        module.fail_json(msg=str(exc), **getattr(exc, "details", {}))
    module.exit_json(**result)
