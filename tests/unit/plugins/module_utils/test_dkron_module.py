"""Unit tests of the modules' base: one AnsibleModule, one client, Dkron's errors to fail_json."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronError
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import run_module


class SetError(Exception):
    """Stands for a module's own input error type (dkron_job_set's JobSetError)."""


def run(args, body, capsys, **options):
    """Runs a module made of body; returns its exit code and the JSON it printed."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            run_module(body, **options)
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_the_module_exits_with_what_run_returns_and_its_own_options_are_parsed(capsys):
    seen = {}

    def body(module, client):
        seen.update(url=client.api_url, retries=client.retries)
        return dict(changed=False, name=module.params["name"])

    code, result = run({"api_url": "http://192.0.2.10:8080/", "name": "backup"}, body, capsys,
                       argument_spec=dict(name=dict(type="str", required=True)), retries=1)
    assert code == 0
    assert result["name"] == "backup" and result["changed"] is False
    assert seen == {"url": "http://192.0.2.10:8080", "retries": 1}


def test_the_client_keeps_its_default_retries_unless_told(capsys):
    seen = {}
    code, _result = run({}, lambda module, client: seen.update(retries=client.retries) or {}, capsys)
    assert code == 0 and seen["retries"] == 5


def test_a_dkron_error_fails_the_module_with_the_status_and_body(capsys):
    def body(module, client):
        raise DkronError("Dkron answered POST /v1/jobs with HTTP 400: invalid schedule", method="POST",
                         url="http://127.0.0.1:8080/v1/jobs", status=400, body="invalid schedule")

    code, result = run({}, body, capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"] == "Dkron answered POST /v1/jobs with HTTP 400: invalid schedule"
    assert (result["method"], result["status"], result["body"]) == ("POST", 400, "invalid schedule")


def test_a_listed_error_type_fails_with_its_message(capsys):
    def body(module, client):
        raise SetError("two jobs named backup")

    code, result = run({}, body, capsys, errors=(SetError,))
    assert code == 1 and result["msg"] == "two jobs named backup"


def test_an_error_not_listed_is_not_swallowed():
    def body(module, client):
        raise SetError("a bug, not bad input")

    with patch_module_args({}):
        with pytest.raises(SetError):
            run_module(body)


def test_module_options_reach_the_argument_checks(capsys):
    code, result = run({"a": "1", "b": "2"}, lambda module, client: {}, capsys,
                       argument_spec=dict(a=dict(type="str"), b=dict(type="str")), mutually_exclusive=[("a", "b")])
    assert code == 1 and "mutually exclusive" in result["msg"]
