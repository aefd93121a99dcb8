"""Unit tests of the job model: normal form, desired job, diff, masking, run completion.

Every server payload here is what a real Dkron 4.1.2 (the loopback cluster of tests/integration)
answered, copied unchanged: GET /v1/jobs/{name} and GET /v1/jobs/{name}/executions.
"""

import copy

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_job import (
    COMPUTED_FIELDS,
    JOB_FIELDS,
    JOB_MUTUALLY_EXCLUSIVE,
    MASK,
    JobMasker,
    JobSpecError,
    build_job,
    changed_fields,
    env_string,
    job_argument_spec,
    job_diff,
    normalise_job,
    normalise_time,
    run_result,
    summarise_execution,
)

# POSTed with every field set (starts_at "2030-01-02T03:04:05+01:00", expires_at
# "2031-01-02T03:04:05+02:00", plus an unknown key "unknownkey": 1), then read back.
FULL_STORED = {
    "id": "full",
    "name": "full",
    "displayname": "Full job",
    "timezone": "Europe/Berlin",
    "schedule": "0 30 2 * * *",
    "owner": "ops",
    "owner_email": "ops@example.com",
    "success_count": 0,
    "error_count": 0,
    "last_success": None,
    "last_error": None,
    "disabled": True,
    "tags": {"node": "server-1:1"},
    "metadata": {"team": "a"},
    "retries": 2,
    "dependent_jobs": None,
    "parent_job": "",
    "processors": {"log": {"forward": "true"}},
    "concurrency": "forbid",
    "executor": "shell",
    "executor_config": {"command": "echo hi", "env": "A=1,B=2", "shell": "true"},
    "status": "",
    "next": "2030-01-02T02:04:05Z",
    "ephemeral": True,
    "starts_at": "2030-01-02T02:04:05Z",
    "expires_at": "2031-01-02T01:04:05Z",
}

# POSTed as {"name": "mini", "schedule": "@every 1h", "executor": "shell",
# "executor_config": {"command": "true"}}: no concurrency, no maps.
MINI_STORED = {
    "id": "mini",
    "name": "mini",
    "displayname": "",
    "timezone": "",
    "schedule": "@every 1h",
    "owner": "",
    "owner_email": "",
    "success_count": 0,
    "error_count": 0,
    "last_success": None,
    "last_error": None,
    "disabled": False,
    "tags": None,
    "metadata": None,
    "retries": 0,
    "dependent_jobs": None,
    "parent_job": "",
    "processors": {},
    "concurrency": "allow",
    "executor": "shell",
    "executor_config": {"command": "true"},
    "status": "",
    "next": "2026-11-22T12:45:15Z",
    "ephemeral": False,
    "starts_at": None,
    "expires_at": None,
}

# POSTed with empty maps, null times and "concurrency": "" (stored as sent, not as "allow").
EMPTY_STORED = {
    "id": "empty",
    "name": "empty",
    "displayname": "",
    "timezone": "",
    "schedule": "@every 1h",
    "owner": "",
    "owner_email": "",
    "success_count": 0,
    "error_count": 0,
    "last_success": None,
    "last_error": None,
    "disabled": False,
    "tags": None,
    "metadata": None,
    "retries": 0,
    "dependent_jobs": None,
    "parent_job": "",
    "processors": {},
    "concurrency": "",
    "executor": "",
    "executor_config": None,
    "status": "",
    "next": "2026-11-22T12:45:16Z",
    "ephemeral": False,
    "starts_at": None,
    "expires_at": None,
}

# The job that build_job made of NIGHTLY_PARAMS, POSTed, and read back from a follower after one run.
NIGHTLY_PARAMS = dict(
    name="nightly",
    schedule="0 30 2 * * *",
    timezone="Europe/Berlin",
    command="echo $GREETING; echo $TOKEN | wc -c",
    env={"GREETING": "hello"},
    secret_env={"TOKEN": "s3cr3t-value"},
    tags={"node": "server-2:1"},
    metadata={"team": "a"},
    concurrency="forbid",
    retries=1,
    starts_at="2030-01-02T03:04:05.120+01:00",
)
NIGHTLY_STORED = {
    "id": "nightly",
    "name": "nightly",
    "displayname": "",
    "timezone": "Europe/Berlin",
    "schedule": "0 30 2 * * *",
    "owner": "",
    "owner_email": "",
    "success_count": 1,
    "error_count": 0,
    "last_success": "2026-11-22T11:50:04.504736686Z",
    "last_error": None,
    "disabled": False,
    "tags": {"node": "server-2:1"},
    "metadata": {"team": "a"},
    "retries": 1,
    "dependent_jobs": None,
    "parent_job": "",
    "processors": {},
    "concurrency": "forbid",
    "executor": "shell",
    "executor_config": {
        "command": "echo $GREETING; echo $TOKEN | wc -c",
        "env": "GREETING=hello,TOKEN=s3cr3t-value",
        "shell": "true",
    },
    "status": "success",
    "next": "2030-01-02T02:04:05.12Z",
    "ephemeral": False,
    "starts_at": "2030-01-02T02:04:05.12Z",
    "expires_at": None,
}

# GET /v1/jobs/runme/executions while the run was going, and once it had finished.
EXECUTION_RUNNING = {
    "id": "1795347932413666902-server-2",
    "job_name": "runme",
    "started_at": "2026-11-22T11:45:32.413666902Z",
    "finished_at": "0001-01-01T00:00:00Z",
    "success": False,
    "node_name": "server-2",
    "group": 1795347932406190533,
    "attempt": 1,
    "output_truncated": False,
}
EXECUTION_DONE = {
    "id": "1795347932413666902-server-2",
    "job_name": "runme",
    "started_at": "2026-11-22T11:45:32.413666902Z",
    "finished_at": "2026-11-22T11:45:33.42072026Z",
    "success": True,
    "output": "out-\ndone\n",
    "node_name": "server-2",
    "group": 1795347932406190533,
    "attempt": 1,
    "output_truncated": False,
}
# A run of a job with empty tags: every server ran it, and it failed ("exit 3") on all three.
EXECUTIONS_ALL_FAILED = [
    {
        "id": "1795347938852342199-server-2",
        "job_name": "runall",
        "started_at": "2026-11-22T11:45:38.852342199Z",
        "finished_at": "2026-11-22T11:45:38.85568091Z",
        "success": False,
        "output": "exit status 3\nall\n",
        "node_name": "server-2",
        "group": 1795347938840294558,
        "attempt": 1,
        "output_truncated": False,
    },
    {
        "id": "1795347938851851549-server-3",
        "job_name": "runall",
        "started_at": "2026-11-22T11:45:38.851851549Z",
        "finished_at": "2026-11-22T11:45:38.863185512Z",
        "success": False,
        "output": "exit status 3\nall\n",
        "node_name": "server-3",
        "group": 1795347938840294558,
        "attempt": 1,
        "output_truncated": False,
    },
    {
        "id": "1795347938851517924-server-1",
        "job_name": "runall",
        "started_at": "2026-11-22T11:45:38.851517924Z",
        "finished_at": "2026-11-22T11:45:38.856602738Z",
        "success": False,
        "output": "exit status 3\nall\n",
        "node_name": "server-1",
        "group": 1795347938840294558,
        "attempt": 1,
        "output_truncated": False,
    },
]


def params(**values):
    """Module parameters as AnsibleModule hands them over: every option present, unset = None."""
    result = dict((name, None) for name in job_argument_spec())
    result.update(values)
    return result


def nightly(**changes):
    """NIGHTLY_PARAMS as module parameters, with some options changed."""
    values = dict(NIGHTLY_PARAMS)
    values.update(changes)
    return params(**values)


FULL_PARAMS = params(
    name="full",
    displayname="Full job",
    timezone="Europe/Berlin",
    schedule="0 30 2 * * *",
    owner="ops",
    owner_email="ops@example.com",
    disabled=True,
    tags={"node": "server-1:1"},
    metadata={"team": "a"},
    retries=2,
    processors={"log": {"forward": "true"}},
    concurrency="forbid",
    executor="shell",
    executor_config={"command": "echo hi", "shell": "true", "env": "A=1,B=2"},
    ephemeral=True,
    starts_at="2030-01-02T03:04:05+01:00",
    expires_at="2031-01-02T03:04:05+02:00",
)


# --- normal form ---------------------------------------------------------------------------------
def test_normal_form_keeps_exactly_the_user_fields():
    normal = normalise_job(FULL_STORED)
    assert list(normal) == list(JOB_FIELDS)
    assert not set(COMPUTED_FIELDS) & set(normal)
    assert normal["starts_at"] == "2030-01-02T02:04:05Z"
    assert normal["processors"] == {"log": {"forward": "true"}}


def test_normal_form_of_null_maps_and_default_concurrency():
    normal = normalise_job(MINI_STORED)
    assert normal["tags"] == {}
    assert normal["metadata"] == {}
    assert normal["processors"] == {}
    assert normal["concurrency"] == "allow"
    empty = normalise_job(EMPTY_STORED)
    assert empty["executor_config"] == {}
    assert empty["concurrency"] == "allow"  # stored as "" when sent as ""; Dkron treats it as allow


def test_unknown_keys_and_computed_fields_do_not_count():
    noisy = dict(NIGHTLY_STORED, success_count=40, status="failed", next="2031-01-01T00:00:00Z", extra="x")
    assert normalise_job(noisy) == normalise_job(NIGHTLY_STORED)


def test_normalise_absent_job_is_none():
    assert normalise_job(None) is None


@pytest.mark.parametrize(
    "given, expected",
    [
        ("2030-01-02T03:04:05+01:00", "2030-01-02T02:04:05Z"),
        ("2031-01-02T03:04:05+02:00", "2031-01-02T01:04:05Z"),
        ("2030-01-02T03:04:05.120+01:00", "2030-01-02T02:04:05.12Z"),
        ("2030-01-02T02:04:05.000000000Z", "2030-01-02T02:04:05Z"),
        ("2026-11-22T11:45:33.42072026Z", "2026-11-22T11:45:33.42072026Z"),
        ("2030-01-02 03:04:05-0130", "2030-01-02T04:34:05Z"),
        ("2030-01-01T00:30:00+01:00", "2029-12-31T23:30:00Z"),
        ("", None),
        (None, None),
    ],
)
def test_times_are_read_as_dkron_reads_them_back(given, expected):
    assert normalise_time(given) == expected


@pytest.mark.parametrize("bad", ["2030-01-02", "2030-01-02T03:04:05", "tomorrow", "2030-13-02T03:04:05Z"])
def test_times_without_offset_or_invalid_are_refused(bad):
    with pytest.raises(JobSpecError, match="starts_at"):
        normalise_time(bad, "starts_at")


# --- desired job ---------------------------------------------------------------------------------
def test_desired_full_job_equals_what_the_server_reads_back():
    assert build_job(FULL_PARAMS) == normalise_job(FULL_STORED)


def test_desired_job_with_command_env_and_secret_equals_the_server_read_back():
    desired = build_job(nightly())
    assert desired["executor"] == "shell"
    assert desired["executor_config"] == {
        "command": "echo $GREETING; echo $TOKEN | wc -c",
        "shell": "true",
        "env": "GREETING=hello,TOKEN=s3cr3t-value",
    }
    assert desired == normalise_job(NIGHTLY_STORED)
    assert changed_fields(normalise_job(NIGHTLY_STORED), desired) == []


def test_unset_options_take_dkron_defaults_so_a_write_resets_them():
    desired = build_job(params(name="mini", schedule="@every 1h", executor="shell", executor_config={"command": "true"}))
    assert desired == normalise_job(MINI_STORED)
    # The full job on the server has tags, metadata... which the options above do not set.
    full_with_mini_options = build_job(
        params(name="full", schedule="@every 1h", executor="shell", executor_config={"command": "true"})
    )
    assert set(changed_fields(normalise_job(FULL_STORED), full_with_mini_options)) == {
        "displayname", "timezone", "schedule", "owner", "owner_email", "disabled", "tags", "metadata",
        "retries", "processors", "concurrency", "executor_config", "ephemeral", "starts_at", "expires_at",
    }


def test_env_string_is_sorted_and_merged():
    assert env_string({"B": "2", "A": "1"}, {"C": "3"}) == "A=1,B=2,C=3"
    assert build_job(params(name="x", schedule="@daily", command="env", secret_env={"T": "v"}))["executor_config"] == {
        "command": "env",
        "shell": "true",
        "env": "T=v",
    }


def test_empty_env_sets_no_env_key():
    job = build_job(params(name="x", schedule="@daily", command="env", env={}))
    assert "env" not in job["executor_config"]


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(executor="http", executor_config={"url": "http://x"}, env={"A": "1"}), "shell executor"),
        (dict(command="env", env={"A": "1,2"}), "comma"),
        (dict(command="env", env={"1A": "x"}), "environment variable name"),
        (dict(command="env", env={"A": "1"}, secret_env={"A": "2"}), "both set A"),
        (dict(executor="shell", executor_config={"command": "env", "env": "A=1"}, env={"B": "2"}), "executor_config.env"),
        (dict(command="true", metadata={"team": 5}), "metadata.team must be a string"),
        (dict(command="true", processors={"log": {"forward": True}}), "processors.log.forward"),
        (dict(command="true", retries=-1), "retries"),
        (dict(command="true", expires_at="next year"), "expires_at"),
        (dict(command="true", parent_job="x"), "own parent"),
        (dict(command="true", catchup={"policy": "latest", "window": "soon"}), "not a positive Go duration"),
        (dict(command="true", metadata={"hacron_catchup": "all"}), "set it with the catchup option"),
    ],
)
def test_bad_options_are_refused_with_a_message_about_them(options, message):
    with pytest.raises(JobSpecError, match=message):
        build_job(params(name="x", schedule="@daily", **options))


def test_argument_spec_works_as_a_list_suboption_spec():
    spec = dict(
        jobs=dict(type="list", elements="dict", options=job_argument_spec(), mutually_exclusive=JOB_MUTUALLY_EXCLUSIVE)
    )
    validator = ArgumentSpecValidator(spec)
    good = validator.validate({"jobs": [{"name": "a", "schedule": "@daily", "command": "true", "secret_env": {"T": "hush"}}]})
    assert good.error_messages == []
    assert good.validated_parameters["jobs"][0]["executor"] is None
    assert "hush" in good._no_log_values
    bad = validator.validate({"jobs": [{"name": "a", "command": "true", "executor": "http"}]})
    assert any("mutually exclusive" in message for message in bad.error_messages)


# --- diff and masking ----------------------------------------------------------------------------
def test_changed_fields_name_only_what_differs():
    before = normalise_job(NIGHTLY_STORED)
    after = build_job(nightly(schedule="0 45 2 * * *"))
    assert changed_fields(before, after) == ["schedule"]
    assert changed_fields(None, after) == list(JOB_FIELDS)
    assert changed_fields(before, None) == list(JOB_FIELDS)
    assert changed_fields(None, None) == []


def test_secret_is_masked_in_the_job_and_the_diff_but_plain_env_is_shown():
    job_params = nightly(secret_env={"TOKEN": "n3w-s3cr3t"})
    masker = JobMasker(job_params)
    before = normalise_job(NIGHTLY_STORED)
    after = build_job(job_params)
    assert changed_fields(before, after) == ["executor_config"]
    diff = job_diff(before, after, masker)
    text = repr(diff)
    assert "s3cr3t-value" not in text and "n3w-s3cr3t" not in text
    assert diff["before"]["executor_config"]["env"] == "GREETING=hello,TOKEN=" + MASK
    assert diff["after"]["executor_config"]["env"] == "GREETING=hello,TOKEN=" + MASK
    assert masker.mask_job(NIGHTLY_STORED)["executor_config"]["env"] == "GREETING=hello,TOKEN=" + MASK
    assert NIGHTLY_STORED["executor_config"]["env"].endswith("s3cr3t-value")  # not masked in place


def test_a_variable_dropped_from_secret_env_stays_masked_in_the_before():
    masker = JobMasker(nightly(secret_env={}))
    before = masker.mask_job(normalise_job(NIGHTLY_STORED))
    assert before["executor_config"]["env"] == "GREETING=hello,TOKEN=" + MASK


def test_secret_value_is_masked_wherever_it_appears():
    masker = JobMasker(nightly())
    job = dict(normalise_job(NIGHTLY_STORED), displayname="uses s3cr3t-value")
    assert masker.mask_job(job)["displayname"] == "uses " + MASK
    assert masker.mask_text("token=s3cr3t-value\n") == "token=%s\n" % MASK


def test_without_env_options_the_env_string_is_not_touched():
    masker = JobMasker(FULL_PARAMS)
    assert masker.mask_job(FULL_STORED)["executor_config"]["env"] == "A=1,B=2"


def test_diff_of_an_absent_job_is_an_empty_dict():
    masker = JobMasker(nightly())
    diff = job_diff(None, build_job(nightly()), masker)
    assert diff["before"] == {}
    assert diff["after"]["name"] == "nightly"
    assert job_diff(normalise_job(MINI_STORED), None, masker)["after"] == {}


# --- runs ----------------------------------------------------------------------------------------
def test_a_run_is_not_over_while_it_runs_and_is_returned_once_done():
    assert run_result([], set()) is None
    assert run_result([EXECUTION_RUNNING], set()) is None
    assert run_result([EXECUTION_DONE], set()) == [EXECUTION_DONE]


def test_runs_seen_before_are_not_ours():
    assert run_result([EXECUTION_DONE], {EXECUTION_DONE["group"]}) is None
    newer = dict(EXECUTION_RUNNING, id="later-server-2", group=EXECUTION_DONE["group"] + 1)
    assert run_result([EXECUTION_DONE, newer], {EXECUTION_DONE["group"]}) is None


def test_a_failed_run_waits_for_its_retries():
    failed = EXECUTIONS_ALL_FAILED[0]
    assert run_result([failed], set(), retries=1) is None
    retried = dict(failed, id="retry-server-2", attempt=2, success=True, output="ok\n")
    assert run_result([failed, retried], set(), retries=1) == [retried]
    assert run_result([failed], set(), retries=0) == [failed]


def test_every_node_of_a_run_is_returned_sorted():
    done = run_result(copy.deepcopy(EXECUTIONS_ALL_FAILED), set())
    assert [execution["node_name"] for execution in done] == ["server-1", "server-2", "server-3"]


def test_execution_summary_masks_secrets_in_the_output():
    masker = JobMasker(nightly())
    summary = summarise_execution(dict(EXECUTION_DONE, output="token s3cr3t-value\n"), masker)
    assert summary == {
        "id": "1795347932413666902-server-2",
        "node": "server-2",
        "success": True,
        "output": "token %s\n" % MASK,
        "started_at": "2026-11-22T11:45:32.413666902Z",
        "finished_at": "2026-11-22T11:45:33.42072026Z",
        "attempt": 1,
        "group": 1795347932406190533,
    }
    assert summarise_execution(EXECUTION_RUNNING, masker)["finished_at"] is None


def test_a_changed_secret_is_named_in_the_diff_headers_only():
    job_params = nightly(secret_env={"TOKEN": "n3w-s3cr3t"})
    diff = job_diff(normalise_job(NIGHTLY_STORED), build_job(job_params), JobMasker(job_params))
    assert diff["after_header"] == "job nightly (secret_env changed: TOKEN)"
    assert diff["before"] == diff["after"]
    same = job_diff(normalise_job(NIGHTLY_STORED), build_job(nightly()), JobMasker(nightly()))
    assert "after_header" not in same


def test_the_catch_up_policy_is_kept_in_the_metadata_beside_the_user_s():
    job = build_job(params(name="x", schedule="@every 10s", command="true", metadata={"team": "ops"},
                           catchup={"policy": "all", "window": "15m", "max": 3}))
    assert job["metadata"] == {"team": "ops", "hacron_catchup": "all", "hacron_catchup_window": "15m",
                               "hacron_catchup_max": "3"}
    assert build_job(params(name="x", schedule="@every 10s", command="true", catchup={"policy": "none"}))["metadata"] == {}
