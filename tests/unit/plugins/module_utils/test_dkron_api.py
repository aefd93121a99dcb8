"""Unit tests of the API client: the real ``requests`` stack over a scripted transport.

The scripted answers copy what Dkron 4.1.2 sends (status codes, bodies and their text), as seen
from the real binary in tests/integration.
"""

import json

import pytest
import requests
from requests.adapters import BaseAdapter

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronClient, DkronError

# GET /v1/jobs/{name} of a job created with schedule "@every 1h" (Dkron 4.1.2, trimmed of nothing).
STORED_JOB = {
    "id": "backup",
    "name": "backup",
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
    "next": "2026-11-22T09:00:00Z",
    "ephemeral": False,
    "expires_at": None,
}


class ScriptedTransport(BaseAdapter):
    """Answers requests from a list of (status, body) or exceptions, recording every request."""

    def __init__(self, answers):
        super().__init__()
        self.answers = list(answers)
        self.requests = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        response = requests.Response()
        response.status_code = status
        response.url = request.url
        response.request = request
        response.reason = "scripted"
        raw = body if isinstance(body, str) else json.dumps(body)
        response._content = raw.encode()
        return response

    def close(self):
        pass


def client_over(answers, **kwargs):
    transport = ScriptedTransport(answers)
    client = DkronClient("http://dkron.test:8080/", retry_wait=0, **kwargs)
    client.session.mount("http://", transport)
    return client, transport


def test_get_job_returns_the_stored_job_and_none_on_404():
    client, transport = client_over([(200, STORED_JOB), (404, "")])
    assert client.get_job("backup") == STORED_JOB
    assert client.get_job("missing") is None
    assert [r.url for r in transport.requests] == [
        "http://dkron.test:8080/v1/jobs/backup",
        "http://dkron.test:8080/v1/jobs/missing",
    ]


def test_list_jobs_filters_by_metadata_with_dkron_query_syntax():
    client, transport = client_over([(200, [STORED_JOB])])
    assert client.list_jobs(metadata={"managed_by": "hacron.dkron"}) == [STORED_JOB]
    assert transport.requests[0].url == "http://dkron.test:8080/v1/jobs?metadata%5Bmanaged_by%5D=hacron.dkron"


def test_put_job_posts_the_whole_job_and_expects_201():
    job = {"name": "backup", "schedule": "@every 1h"}
    client, transport = client_over([(201, job)])
    assert client.put_job(job) == job
    sent = transport.requests[0]
    assert (sent.method, sent.url) == ("POST", "http://dkron.test:8080/v1/jobs")
    assert json.loads(sent.body) == job


def test_validation_error_is_raised_at_once_with_status_and_body():
    body = "Job validation failed: name contains illegal character '!'."
    client, transport = client_over([(400, body)])
    with pytest.raises(DkronError) as caught:
        client.put_job({"name": "bad!"})
    assert caught.value.status == 400
    assert caught.value.body == body
    assert "HTTP 400" in caught.value.message
    assert len(transport.requests) == 1  # a client error is never retried
    assert caught.value.to_fail_kwargs()["status"] == 400


def test_no_leader_answers_are_retried_until_a_leader_answers():
    client, transport = client_over([(500, "No cluster leader"), (500, "no leader"), (201, {"name": "a"})])
    assert client.put_job({"name": "a"}) == {"name": "a"}
    assert len(transport.requests) == 3


def test_other_server_errors_are_not_retried():
    client, transport = client_over([(500, "raft: some other failure")])
    with pytest.raises(DkronError):
        client.put_job({"name": "a"})
    assert len(transport.requests) == 1


def test_connection_errors_are_retried_within_the_bound():
    failures = [requests.exceptions.ConnectionError("refused")] * 3
    client, transport = client_over(failures, retries=2)
    with pytest.raises(DkronError) as caught:
        client.members()
    assert caught.value.status is None
    assert "after 3 attempts" in caught.value.message
    assert len(transport.requests) == 3


def test_delete_404_is_absent_only_when_the_job_is_really_gone():
    client, _transport = client_over([(404, ""), (404, "")])
    assert client.delete_job("never-created") is None

    # "has dependent jobs" is also a 404 in Dkron: the job is still there, so it is an error.
    client, _transport = client_over([(404, '{"error":"job has dependent jobs"}'), (200, STORED_JOB)])
    with pytest.raises(DkronError) as caught:
        client.delete_job("backup")
    assert caught.value.status == 404


def test_leader_is_none_while_the_cluster_has_no_leader():
    client, _transport = client_over([(500, ""), (200, {"Name": "server-1", "statusText": "alive"})])
    assert client.leader() is None
    assert client.leader()["Name"] == "server-1"


def test_is_leader_reads_200_and_404():
    client, _transport = client_over([(200, "I am a leader"), (404, "I am a follower")])
    assert client.is_leader() is True
    assert client.is_leader() is False


def test_basic_auth_and_certificate_options_reach_each_request(monkeypatch):
    # A CA bundle in the environment (as on machines behind a TLS-inspecting proxy) must not
    # replace the cluster's CA: requests prefers it over a session's verify setting.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    sent = []
    for options, expected_verify in (({"ca_path": "/etc/ca.pem"}, "/etc/ca.pem"),
                                     ({"validate_certs": False}, False),
                                     ({}, "/etc/ssl/certs/ca-certificates.crt")):
        client = DkronClient("https://proxy.test", url_username="ops", url_password="s3cret", retry_wait=0, **options)
        transport = ScriptedTransport([(200, [])])
        transport.send = _recording(transport.send, sent)
        client.session.mount("https://", transport)
        client.members()
        request, verify = sent.pop()
        assert verify == expected_verify, options
        assert request.headers["Authorization"] == "Basic b3BzOnMzY3JldA=="  # ops:s3cret


def _recording(send, sent):
    def wrapper(request, **kwargs):
        sent.append((request, kwargs["verify"]))
        return send(request, **kwargs)
    return wrapper


def test_connection_options_fall_back_to_the_environment(monkeypatch):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import connection_argument_spec

    monkeypatch.setenv("DKRON_API_URL", "https://cron-a.example.internal")
    monkeypatch.setenv("DKRON_API_USERNAME", "admin")
    monkeypatch.setenv("DKRON_API_PASSWORD", "from-the-environment")
    monkeypatch.setenv("DKRON_API_CA_PATH", "/etc/hacron/tls/ca.crt")
    validator = ArgumentSpecValidator(connection_argument_spec())
    result = validator.validate({})
    assert result.error_messages == []
    assert result.validated_parameters["api_url"] == "https://cron-a.example.internal"
    assert result.validated_parameters["url_username"] == "admin"
    assert result.validated_parameters["url_password"] == "from-the-environment"
    assert result.validated_parameters["ca_path"] == "/etc/hacron/tls/ca.crt"
    # Given options win over the environment, and the password is one of the values to hide.
    result = validator.validate({"url_username": "other"})
    assert result.validated_parameters["url_username"] == "other"
    assert "from-the-environment" in result._no_log_values
