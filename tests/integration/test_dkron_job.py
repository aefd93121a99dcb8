"""dkron_job against a real three-server Dkron cluster on loopback, called ad hoc as a user would.

The module talks to a follower (whose reads lag the leader's writes); what it did is checked on
the servers themselves through the API client.
"""

import json
import os
import socket
import subprocess
import threading
import time

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronClient
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_job import JOB_FIELDS, normalise_job
from support.ansible_runs import BIN, ROOT, run_module, run_tasks

pytestmark = pytest.mark.integration

MODULE = "hacron.dkron.dkron_job"
DIFF = {"ANSIBLE_DIFF_ALWAYS": "1"}


def run_job_module(api_url, check=False, diff=False, **options):
    """The module with ``options`` as JSON arguments; returns its result."""
    args = dict(options, api_url=api_url)
    return run_module(MODULE, json.dumps(args), env=DIFF if diff else None, check=check)


def stored(cluster, name):
    """The job as every server stores it, once they agree (bounded), in normal form; None when absent."""
    clients = [DkronClient(server.api_url) for server in cluster.servers]
    deadline = time.monotonic() + 10
    while True:
        jobs = [normalise_job(client.get_job(name)) for client in clients]
        if all(job == jobs[0] for job in jobs):
            return jobs[0]
        assert time.monotonic() < deadline, "servers disagree on job %s: %s" % (name, jobs)
        time.sleep(0.2)


def differing(diff):
    before, after = diff["before"], diff["after"]
    return sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))


@pytest.fixture(scope="module")
def api(dkron_cluster):
    """A follower's API URL: the harder case, its reads lag writes made through the leader."""
    return dkron_cluster.followers()[0].api_url


@pytest.fixture(scope="module")
def parents(dkron_cluster):
    """Two parent jobs for the parent_job lifecycle; removed after their children."""
    client = DkronClient(dkron_cluster.leader().api_url)
    for name in ("lc-parent-a", "lc-parent-b"):
        client.put_job({"name": name, "schedule": "@manually", "executor": "shell", "executor_config": {"command": "true"}})
        client.wait_for_job(name)
    yield
    for name in ("lc-parent-a", "lc-parent-b"):
        client.delete_job(name)


# A job that never runs by itself (@manually) and only on server-1.
BASE = dict(schedule="@manually", command="true", tags={"node": "server-1:1"})

# field, first value, second value, the job field that changes, base options the field replaces.
LIFECYCLE = [
    ("schedule", "@every 1h", "0 30 2 * * *", "schedule", ()),
    ("timezone", "Europe/Berlin", "America/New_York", "timezone", ()),
    ("displayname", "Nightly", "Nightly backup", "displayname", ()),
    ("owner", "ops", "dba", "owner", ()),
    ("owner_email", "ops@example.com", "dba@example.com", "owner_email", ()),
    ("disabled", True, False, "disabled", ()),
    ("tags", {"node": "server-1:1"}, {"node": "server-2"}, "tags", ()),
    ("metadata", {"team": "a"}, {"team": "b", "tier": "1"}, "metadata", ()),
    ("retries", 1, 3, "retries", ()),
    ("parent_job", "lc-parent-a", "lc-parent-b", "parent_job", ()),
    ("concurrency", "forbid", "allow", "concurrency", ()),
    ("executor", "shell", "http", "executor", ("command",)),
    (
        "executor_config",
        {"command": "true", "shell": "true"},
        {"command": "echo x", "shell": "true", "timeout": "30s"},
        "executor_config",
        ("command",),
    ),
    ("processors", {"log": {"forward": "true"}}, {"log": {"forward": "false"}}, "processors", ()),
    ("ephemeral", True, False, "ephemeral", ()),
    ("starts_at", "2030-01-02T03:04:05+01:00", "2031-06-01T00:00:00Z", "starts_at", ()),
    ("expires_at", "2031-01-02T03:04:05.5+02:00", "2032-01-01T00:00:00Z", "expires_at", ()),
    ("command", "echo one", "echo two", "executor_config", ("command",)),
    ("env", {"GREETING": "hello"}, {"GREETING": "hello", "PLACE": "world"}, "executor_config", ()),
    ("secret_env", {"TOKEN": "lifecycle-secret-1"}, {"TOKEN": "lifecycle-secret-2"}, "executor_config", ()),
]


def lifecycle_name(field):
    return "lc-%s" % field.replace("_", "-")


def lifecycle_arguments(api_url, field, value, replaces):
    """dkron_job's arguments for the lifecycle job of ``field`` set to ``value``."""
    arguments = dict((key, value) for key, value in BASE.items() if key not in replaces)
    if field == "executor":
        arguments["executor_config"] = {"command": "true"}
    if field == "executor_config":
        arguments["executor"] = "shell"
    arguments.update({field: value, "name": lifecycle_name(field), "api_url": api_url})
    return arguments


@pytest.fixture(scope="module")
def lifecycle(dkron_cluster, api, parents):
    """Every field's job taken through create, rerun, change (with diff), delete, delete again.

    Each step is one playbook with a task per field (an Ansible start per field and step cost
    minutes); after a step, what every server stores. Returns {field: {step: (result, stored)}}.
    """
    def step_arguments(step, field, first, second, replaces):
        if step in ("deleted", "gone"):
            return {"name": lifecycle_name(field), "state": "absent", "api_url": api}
        return lifecycle_arguments(api, field, second if step == "changed" else first, replaces)

    record = {row[0]: {} for row in LIFECYCLE}
    for step in ("created", "again", "changed", "deleted", "gone"):
        calls = [step_arguments(step, field, first, second, replaces) for field, first, second, _job_field, replaces in LIFECYCLE]
        results = run_tasks(MODULE, calls, env=DIFF if step == "changed" else None)
        for (field, *_values), result in zip(LIFECYCLE, results):
            record[field][step] = (result, stored(dkron_cluster, lifecycle_name(field)))
    return record


@pytest.mark.parametrize("field, first, second, job_field, replaces", LIFECYCLE, ids=[row[0] for row in LIFECYCLE])
def test_every_field_create_rerun_change_delete(lifecycle, field, first, second, job_field, replaces):
    steps = lifecycle[field]
    created, on_server = steps["created"]
    assert created.get("failed") is not True, created
    assert created["changed"] is True, created
    assert on_server is not None
    if field not in ("command", "env", "secret_env"):
        assert created["job"][field] == on_server[field]
    if field == "secret_env":
        assert on_server["executor_config"]["env"] == "TOKEN=lifecycle-secret-1"
        assert created["job"]["executor_config"]["env"] == "TOKEN=********"
    else:
        assert created["job"] == on_server

    again = steps["again"][0]
    assert again.get("failed") is not True, again
    assert again["changed"] is False, again
    assert again["changed_fields"] == []

    changed, after = steps["changed"]
    assert changed.get("failed") is not True, changed
    assert changed["changed"] is True, changed
    assert changed["changed_fields"] == [job_field]
    if field == "secret_env":
        # Both values are masked alike; the diff's header names the secret that changed.
        assert differing(changed["diff"]) == []
        assert "secret_env changed: TOKEN" in changed["diff"]["after_header"]
        assert "lifecycle-secret" not in json.dumps(changed)
    else:
        assert differing(changed["diff"]) == [job_field]
    assert set(changed["diff"]["before"]) == set(JOB_FIELDS)
    assert after[job_field] != on_server[job_field]
    assert changed["job"][job_field] == changed["diff"]["after"][job_field]

    deleted, stored_after_delete = steps["deleted"]
    assert deleted["changed"] is True, deleted
    assert deleted["job"] is None
    assert stored_after_delete is None

    gone, stored_after_second_delete = steps["gone"]
    assert gone["changed"] is False, gone
    assert stored_after_second_delete is None


def test_values_are_stored_as_given_or_as_dkron_reads_them_back(dkron_cluster, api):
    result = run_job_module(
        api,
        name="lc-values",
        schedule="0 30 2 * * *",
        timezone="Europe/Berlin",
        command="echo hi",
        starts_at="2030-01-02T03:04:05+01:00",
        tags={"node": "server-1:1"},
    )
    try:
        assert result["changed"] is True
        raw = DkronClient(dkron_cluster.leader().api_url).get_job("lc-values")
        assert raw["starts_at"] == "2030-01-02T02:04:05Z"
        assert raw["executor"] == "shell"
        assert raw["executor_config"] == {"command": "echo hi", "shell": "true"}
        assert raw["concurrency"] == "allow"
        assert raw["metadata"] is None  # sent as {}, read back as null: the normal form absorbs it
        assert result["job"]["metadata"] == {}
    finally:
        run_job_module(api, name="lc-values", state="absent")


def test_ad_hoc_key_value_call(dkron_cluster, api):
    result = run_module(MODULE, "name=adhoc-backup schedule='@every 1h' command='echo hi' api_url=%s" % api)
    try:
        assert result.get("failed") is not True, result
        assert result["changed"] is True
        assert stored(dkron_cluster, "adhoc-backup")["executor_config"] == {"command": "echo hi", "shell": "true"}
        assert run_module(MODULE, "name=adhoc-backup schedule='@every 1h' command='echo hi' api_url=%s" % api)["changed"] is False
    finally:
        run_job_module(api, name="adhoc-backup", state="absent")


def test_check_mode_writes_nothing(dkron_cluster, api):
    name = "lc-check"
    options = dict(BASE, metadata={"v": "1"})
    would_create = run_job_module(api, check=True, diff=True, name=name, **options)
    assert would_create["changed"] is True
    assert would_create["diff"]["before"] == {}
    assert would_create["job"]["metadata"] == {"v": "1"}
    time.sleep(1)
    assert stored(dkron_cluster, name) is None

    assert run_job_module(api, name=name, **options)["changed"] is True
    try:
        would_change = run_job_module(api, check=True, name=name, **{**options, "metadata": {"v": "2"}})
        assert would_change["changed"] is True
        assert would_change["changed_fields"] == ["metadata"]
        would_run = run_job_module(api, check=True, name=name, run=True, wait=True, **options)
        assert would_run["changed"] is True
        assert "execution" not in would_run
        would_delete = run_job_module(api, check=True, name=name, state="absent")
        assert would_delete["changed"] is True
        time.sleep(1)
        assert stored(dkron_cluster, name)["metadata"] == {"v": "1"}
        assert DkronClient(api).executions(name) == []
    finally:
        run_job_module(api, name=name, state="absent")


def test_check_and_diff_mode_preview_the_schedule(api):
    result = run_job_module(
        api, check=True, name="lc-preview", schedule="0 30 2 * * *", timezone="Europe/Berlin", command="true"
    )
    preview = result["schedule_preview"]
    assert len(preview["next_runs"]) == 5
    assert all(run.endswith(("+01:00", "+02:00")) for run in preview["next_runs"])
    assert all("T02:30:00" in run for run in preview["next_runs"])
    assert "schedule_preview" not in run_job_module(api, name="lc-preview", state="absent")


def test_run_now_and_wait_returns_the_execution(dkron_cluster, api):
    name = "lc-run"
    result = run_job_module(
        api,
        name=name,
        schedule="@manually",
        command="echo run-output-$GREETING",
        env={"GREETING": "hello"},
        tags={"node": "server-2:1"},
        run=True,
        wait=True,
        wait_timeout=60,
        wait_sleep=0.3,
    )
    try:
        assert result.get("failed") is not True, result
        assert result["changed"] is True
        execution = result["execution"]
        assert execution["success"] is True
        assert execution["output"] == "run-output-hello\n"
        assert execution["node"] == "server-2"
        assert [e["node"] for e in result["executions"]] == ["server-2"]
        recorded = DkronClient(api).executions(name)
        assert [e["id"] for e in recorded] == [execution["id"]]

        # The job is unchanged, but a run is an action: changed, and a second execution.
        again = run_job_module(
            api, name=name, schedule="@manually", command="echo run-output-$GREETING", env={"GREETING": "hello"},
            tags={"node": "server-2:1"}, run=True, wait=True, wait_timeout=60, wait_sleep=0.3,
        )
        assert again["changed"] is True
        assert again["changed_fields"] == []
        assert again["execution"]["id"] != execution["id"]
    finally:
        run_job_module(api, name=name, state="absent")


def test_a_failed_run_fails_the_task_with_the_execution(api):
    name = "lc-run-fail"
    try:
        result = run_job_module(
            api, name=name, schedule="@manually", command="echo broken; exit 3", tags={"node": "server-3:1"},
            run=True, wait=True, wait_timeout=60, wait_sleep=0.3,
        )
        assert result["failed"] is True
        assert "failed on server-3" in result["msg"]
        assert result["execution"]["success"] is False
        assert "broken" in result["execution"]["output"]
        assert "exit status 3" in result["execution"]["output"]
    finally:
        run_job_module(api, name=name, state="absent")


def test_a_disabled_job_cannot_be_run(api):
    result = run_job_module(api, name="lc-disabled-run", disabled=True, run=True, **BASE)
    assert result["failed"] is True
    assert "disabled" in result["msg"]
    assert DkronClient(api).get_job("lc-disabled-run") is None


SECRET = "sup3r-s3cret-Zq9"


def test_secret_env_never_appears_in_the_result_or_diff(dkron_cluster, api):
    name = "lc-secret"
    options = dict(
        name=name,
        schedule="@manually",
        command="echo token=$TOKEN",
        env={"PLAIN": "visible-value"},
        secret_env={"TOKEN": SECRET},
        tags={"node": "server-1:1"},
    )
    try:
        result = run_job_module(api, diff=True, run=True, wait=True, wait_timeout=60, wait_sleep=0.3, **options)
        assert result.get("failed") is not True, result
        # The secret did reach the job and its run...
        assert DkronClient(api).get_job(name)["executor_config"]["env"] == "PLAIN=visible-value,TOKEN=%s" % SECRET
        # ...and is masked everywhere in what the module returned.
        assert SECRET not in json.dumps(result)
        assert result["execution"]["output"] == "token=********\n"
        assert result["job"]["executor_config"]["env"] == "PLAIN=visible-value,TOKEN=********"
        assert result["diff"]["after"]["executor_config"]["env"] == "PLAIN=visible-value,TOKEN=********"

        # A changed secret: the old value is on the server, and masked in the diff's before.
        changed = run_job_module(api, diff=True, **{**options, "secret_env": {"TOKEN": "an0ther-s3cret"}})
        assert changed["changed"] is True, changed
        assert changed["changed_fields"] == ["executor_config"]
        assert SECRET not in json.dumps(changed) and "an0ther-s3cret" not in json.dumps(changed)
    finally:
        run_job_module(api, name=name, state="absent")


def test_secret_env_never_appears_in_verbose_output(dkron_cluster, api):
    """-vvv and --diff with the default callback: everything ansible prints, stdout and stderr."""
    name = "lc-secret-verbose"
    args = dict(
        name=name, schedule="@manually", command="echo token=$TOKEN", secret_env={"TOKEN": SECRET},
        tags={"node": "server-1:1"}, run=True, wait=True, wait_timeout=60, wait_sleep=0.3, api_url=api,
    )
    command = [str(BIN / "ansible"), "localhost", "-m", MODULE, "-a", json.dumps(args), "-vvv", "--diff"]
    try:
        completed = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
            env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                     ANSIBLE_LOCALHOST_WARNING="0"),
        )
        printed = completed.stdout + completed.stderr
        assert completed.returncode == 0, printed
        assert "token=********" in printed  # the run's output was printed, masked
        assert SECRET not in printed
        assert DkronClient(api).get_job(name)["executor_config"]["env"] == "TOKEN=%s" % SECRET
    finally:
        run_job_module(api, name=name, state="absent")


class ConnectionRecorder:
    """A loopback TCP listener that records every connection and answers HTTP 404 to it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.requests.append(conn.recv(65536).decode(errors="replace").split("\r\n", 1)[0])
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def recorder():
    listener = ConnectionRecorder()
    yield listener
    listener.close()


@pytest.mark.parametrize(
    "options, words",
    [
        (dict(name="Bad_Name", schedule="@daily", command="true"), ["Bad_Name"]),
        (dict(name="bad-schedule", schedule="30 2 * * *", command="true"), ["30 2 * * *"]),
        (dict(name="bad-tz", schedule="@daily", timezone="Mars/Olympus", command="true"), ["Mars/Olympus"]),
        (dict(name="bad-tags", schedule="@daily", command="true", tags={"node": "server-1:many"}), ["server-1:many"]),
        (dict(name="bad-config", schedule="@daily", executor="shell", executor_config={"command": "true", "timeout": 30}), ["timeout"]),
        (dict(name="bad-time", schedule="@daily", command="true", starts_at="2030-01-02"), ["starts_at"]),
        (dict(name="bad-env", schedule="@daily", command="true", env={"A": "x,y"}), ["env.A"]),
    ],
    ids=["name", "schedule", "timezone", "tags", "executor_config", "starts_at", "env"],
)
def test_bad_input_fails_before_any_request(recorder, options, words):
    result = run_module(MODULE, json.dumps(dict(options, api_url=recorder.url, timeout=1)))
    assert result["failed"] is True
    for word in words:
        assert word in result["msg"], result["msg"]
    time.sleep(0.3)
    assert recorder.connections == 0, recorder.requests


def test_the_recorder_sees_a_request_from_good_input(recorder):
    """The control for the test above: valid input does reach the listener."""
    result = run_module(MODULE, json.dumps(dict(name="good", schedule="@daily", command="true", api_url=recorder.url, timeout=1)))
    assert result["failed"] is True  # the listener is no Dkron
    assert recorder.connections >= 1
    assert recorder.requests[0] == "GET /v1/jobs/good HTTP/1.1"
