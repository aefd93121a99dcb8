# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client for Dkron's REST API (v1) that every module of this collection uses.

It wraps a ``requests`` session (keep-alive, timeouts) and retries, within a bound, the answers
that mean "try again shortly": connection errors, 5xx answers that say the cluster has no leader,
and 503 while a node is paused. Every other failure becomes one exception type, ``DkronError``,
which modules turn into ``fail_json`` with the HTTP status and body.

Dkron quirks this client absorbs (see shared/dkron-facts.md in the project):
- ``GET`` requests are answered from the answering server's local store, so a read on a follower
  can briefly lag a write; ``wait_for_job`` polls for a bounded time.
- ``DELETE`` answers 404 for any error, including "has dependent jobs", so 404 on delete is only
  "absent" when a follow-up read confirms the job is gone.
- ``POST /v1/jobs/{name}`` RUNS a job; creating and replacing is ``POST /v1/jobs``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import time
import traceback

try:
    import requests
    from requests.adapters import HTTPAdapter

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

DEFAULT_API_URL = "http://127.0.0.1:8080"


def connection_argument_spec():
    """The connection options every module takes (documented by the doc fragment ``connection``).

    Each falls back to an environment variable (DKRON_API_URL, DKRON_API_USERNAME, DKRON_API_PASSWORD,
    DKRON_API_CA_PATH), so that ad-hoc calls and scheduled runs need no credentials on the command line.
    """
    # Imported here so that this file stays importable without Ansible (the test fixture uses it).
    from ansible.module_utils.basic import env_fallback

    return dict(
        api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["DKRON_API_URL"])),
        url_username=dict(type="str", aliases=["username"], fallback=(env_fallback, ["DKRON_API_USERNAME"])),
        url_password=dict(type="str", aliases=["password"], no_log=True,
                          fallback=(env_fallback, ["DKRON_API_PASSWORD"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path", fallback=(env_fallback, ["DKRON_API_CA_PATH"])),
        timeout=dict(type="float", default=10.0),
    )


class DkronError(Exception):
    """A failed call to Dkron's API: what was asked, the HTTP status (None if none came) and body."""

    def __init__(self, message, method=None, url=None, status=None, body=None):
        super(DkronError, self).__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.status = status
        self.body = body

    def to_fail_kwargs(self):
        """Keyword arguments for ``module.fail_json``."""
        return dict(msg=self.message, method=self.method, url=self.url, status=self.status, body=self.body)


def _is_retryable(status, body):
    """Answers that mean the cluster is between leaders or the node is briefly unavailable."""
    if status == 503:
        return True
    if status is not None and status >= 500:
        text = (body or "").lower()
        return "leader" in text or "connection refused" in text or "unavailable" in text
    return False


class DkronClient:
    """Dkron's API on one server. Only server nodes serve HTTP; agents have no API."""

    def __init__(
        self,
        api_url=DEFAULT_API_URL,
        timeout=10.0,
        validate_certs=True,
        ca_path=None,
        url_username=None,
        url_password=None,
        retries=5,
        retry_wait=0.5,
        session=None,
    ):
        if not HAS_REQUESTS:
            raise DkronError("the Python library 'requests' is required")
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.retry_wait = retry_wait
        self.session = session or requests.Session()
        # One kept-alive connection pool per client; retries are ours, not urllib3's.
        self.session.mount("http://", HTTPAdapter(max_retries=0, pool_maxsize=4))
        self.session.mount("https://", HTTPAdapter(max_retries=0, pool_maxsize=4))
        # Given with each request, not set on the session: requests lets REQUESTS_CA_BUNDLE or
        # CURL_CA_BUNDLE in the environment override a session's verify, and ca_path would be lost.
        self.verify = (ca_path or True) if validate_certs else False
        if url_username is not None:
            self.session.auth = (url_username, url_password or "")
        self.session.headers.update({"Accept": "application/json"})

    @classmethod
    def from_module_params(cls, params, retries=None):
        """A client from a module's shared connection options; retries per request, if not the default."""
        client = cls(
            api_url=params["api_url"],
            timeout=params["timeout"],
            validate_certs=params["validate_certs"],
            ca_path=params.get("ca_path"),
            url_username=params.get("url_username"),
            url_password=params.get("url_password"),
        )
        if retries is not None:
            client.retries = retries
        return client

    def at(self, api_url):
        """A client for another server of the cluster, sharing this one's session and settings."""
        other = copy.copy(self)
        other.api_url = api_url.rstrip("/")
        return other

    def with_retries(self, retries):
        """This client with another number of retries per request, sharing its session."""
        other = copy.copy(self)
        other.retries = retries
        return other

    # --- transport ---------------------------------------------------------------------------
    def request(self, method, path, params=None, json=None, ok=(200,)):
        """One API call; returns the ``requests.Response`` when its status is in ``ok``."""
        url = self.api_url + path
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=json, timeout=self.timeout, verify=self.verify
                )
            except requests.exceptions.RequestException as exc:
                if attempt > self.retries:
                    raise DkronError(
                        "cannot reach Dkron at %s after %d attempts: %s" % (self.api_url, attempt, exc),
                        method=method,
                        url=url,
                    )
            else:
                if response.status_code in ok:
                    return response
                body = response.text
                if attempt > self.retries or not _is_retryable(response.status_code, body):
                    raise DkronError(
                        "Dkron answered %s %s with HTTP %d: %s"
                        % (method, path, response.status_code, body.strip() or response.reason),
                        method=method,
                        url=url,
                        status=response.status_code,
                        body=body,
                    )
            # Linear back-off: about 7.5 s in all with the defaults, enough for one election.
            time.sleep(self.retry_wait * attempt)

    def _json(self, method, path, **kwargs):
        return self.request(method, path, **kwargs).json()

    # --- cluster -----------------------------------------------------------------------------
    def agent_info(self):
        """``GET /v1``: this agent's config, serf tags and version."""
        return self._json("GET", "/v1")

    def members(self):
        """``GET /v1/members``: serf members with their ``statusText`` and tags."""
        return self._json("GET", "/v1/members")

    def leader(self):
        """The leader's member record, or None while there is no leader (HTTP 500 or 404)."""
        response = self.request("GET", "/v1/leader", ok=(200, 404, 500))
        if response.status_code != 200:
            return None
        return response.json()

    def is_leader(self):
        """Whether the answering server leads the cluster."""
        return self.request("GET", "/v1/isleader", ok=(200, 404)).status_code == 200

    # --- jobs --------------------------------------------------------------------------------
    def list_jobs(self, metadata=None, **query):
        """``GET /v1/jobs``; ``metadata`` filters by exact match on every given key."""
        params = dict(query)
        for key, value in (metadata or {}).items():
            params["metadata[%s]" % key] = value
        return self._json("GET", "/v1/jobs", params=params)

    def get_job(self, name):
        """One job as the answering server stores it, or None when it has no such job."""
        response = self.request("GET", "/v1/jobs/%s" % name, ok=(200, 404))
        return response.json() if response.status_code == 200 else None

    def put_job(self, job):
        """Create or fully replace a job. Dkron echoes the request, not the stored job."""
        return self._json("POST", "/v1/jobs", json=job, ok=(201,))

    def delete_job(self, name):
        """Delete a job; returns the deleted job, or None when it did not exist.

        Dkron answers 404 for every delete error ("has dependent jobs" too), so a 404 counts as
        "absent" only when a read confirms it; otherwise the 404 is raised with its body.
        """
        try:
            return self._json("DELETE", "/v1/jobs/%s" % name)
        except DkronError as exc:
            if exc.status == 404 and self.get_job(name) is None:
                return None
            raise

    def run_job(self, name):
        """Run a job now (``POST /v1/jobs/{name}/run``); 404 when it is missing or disabled."""
        return self._json("POST", "/v1/jobs/%s/run" % name, ok=(200, 202))

    def executions(self, name):
        """A job's execution records, newest kept 100."""
        return self._json("GET", "/v1/jobs/%s/executions" % name)

    def wait_for_job(self, name, present=True, timeout=10.0, sleep=0.2):
        """Poll this server until ``name`` is present (or absent); returns the job or None.

        Reads are served from the answering server's local store, so a follower may lag a write
        made through the leader by a Raft round; this bounds that wait.
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_job(name)
            if (job is not None) == present:
                return job
            if time.monotonic() >= deadline:
                raise DkronError(
                    "job %r still %s on %s after %.1f s"
                    % (name, "absent" if present else "present", self.api_url, timeout),
                    method="GET",
                    url="%s/v1/jobs/%s" % (self.api_url, name),
                )
            time.sleep(sleep)
