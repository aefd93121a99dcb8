# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base every module of this collection runs on.

``run_module(run, argument_spec)`` builds the ``AnsibleModule`` from the connection options (the
doc fragment ``connection``) and the module's own, fails cleanly when ``requests`` is missing,
makes the one client, calls ``run(module, client)`` and exits with the dict it returns. A
``DkronError`` raised anywhere in ``run`` becomes ``fail_json`` with the HTTP status and body, and
so does any exception type listed in ``errors``, with its message. Every module supports check
mode: they only read, or gate their writes on it themselves.

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
        module.fail_json(msg=str(exc))
    module.exit_json(**result)
