# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job model shared by the job modules (dkron_job, and the set module that reuses it).

One job as a module option set, the full job those options ask for, a server job reduced to
what can be compared with it, and the masked views (returned job, diff, execution output).

Dkron's ``POST /v1/jobs`` replaces the whole job, so the desired job is always complete: every
option that is not set takes Dkron's own default. Both sides are put in one normal form before
they are compared, which absorbs how Dkron 4.1.2 stores and reads a job back:

- the server-computed fields (``id``, counters, last runs, ``status``, ``next``,
  ``dependent_jobs``) and any key this model does not know are dropped;
- an empty or null ``tags``, ``metadata``, ``executor_config`` or ``processors`` is ``{}``
  (Dkron reads empty maps back as null, and processors as ``{}``);
- an empty ``concurrency`` is ``allow`` (Dkron's default, and how it behaves);
- ``starts_at`` and ``expires_at`` are RFC 3339 in UTC (Dkron reads them back in UTC);
- ``schedule``, ``timezone`` and ``displayname`` are compared as sent (Dkron stores them so).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
import time
from datetime import datetime, timezone

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_ledger import CATCHUP_PREFIX, catchup_metadata
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import (
    check_schedule,
    preview_runs,
    rfc3339_parts,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import (
    JobSpecError,
    check_executor_config,
    check_job_name,
    check_tags,
    check_timezone,
)

MASK = "********"

# The fields a user sets, in Dkron's order; the normal form of a job has exactly these keys.
JOB_FIELDS = (
    "name",
    "displayname",
    "timezone",
    "schedule",
    "owner",
    "owner_email",
    "disabled",
    "tags",
    "metadata",
    "retries",
    "parent_job",
    "processors",
    "concurrency",
    "executor",
    "executor_config",
    "ephemeral",
    "starts_at",
    "expires_at",
)

# Computed by the server; never sent, never compared.
COMPUTED_FIELDS = (
    "id",
    "success_count",
    "error_count",
    "last_success",
    "last_error",
    "status",
    "next",
    "dependent_jobs",
)

# Dkron's values for the fields a job does not set.
JOB_DEFAULTS = dict(
    displayname="",
    timezone="",
    schedule="",
    owner="",
    owner_email="",
    disabled=False,
    tags={},
    metadata={},
    retries=0,
    parent_job="",
    processors={},
    concurrency="allow",
    executor="",
    executor_config={},
    ephemeral=False,
    starts_at=None,
    expires_at=None,
)

# Options that cannot be combined (for AnsibleModule, or as a suboption list's mutually_exclusive).
JOB_MUTUALLY_EXCLUSIVE = [["command", "executor"], ["command", "executor_config"]]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ZERO_TIME = "0001-01-01T00:00:00Z"


def job_argument_spec():
    """The options of one job: a module's argument spec, or a list's suboption spec.

    Does not include ``state``, the run options or the connection options.
    """
    return dict(
        name=dict(type="str", required=True),
        schedule=dict(type="str"),
        timezone=dict(type="str"),
        displayname=dict(type="str"),
        owner=dict(type="str"),
        owner_email=dict(type="str"),
        disabled=dict(type="bool"),
        tags=dict(type="dict"),
        metadata=dict(type="dict"),
        catchup=dict(type="dict"),
        retries=dict(type="int"),
        parent_job=dict(type="str"),
        concurrency=dict(type="str", choices=["allow", "forbid"]),
        executor=dict(type="str"),
        executor_config=dict(type="dict"),
        processors=dict(type="dict"),
        ephemeral=dict(type="bool"),
        starts_at=dict(type="str"),
        expires_at=dict(type="str"),
        command=dict(type="str"),
        env=dict(type="dict"),
        secret_env=dict(type="dict", no_log=True),
    )


# --- values ------------------------------------------------------------------------------------
def normalise_time(value, field="time"):
    """An RFC 3339 time as Dkron reads it back: UTC, ``Z``, fraction without trailing zeros.

    None and empty are None. Raises JobSpecError for anything else that is not RFC 3339.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise JobSpecError("%s %r has no UTC offset; give one, e.g. 2030-01-31T02:00:00Z" % (field, str(value)))
        value = value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    parts = rfc3339_parts(text, lenient=True)
    if parts is None:
        raise JobSpecError(
            "%s %r is not a valid RFC 3339 time with a UTC offset, e.g. 2030-01-31T02:00:00Z or "
            "2030-01-31T03:00:00+01:00" % (field, text)
        )
    moment, fraction = parts
    utc = moment.astimezone(timezone.utc)
    fraction = fraction.rstrip("0")
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + ("." + fraction if fraction else "") + "Z"


def _string_map(value, field):
    """A map of string to string, or JobSpecError naming the first key whose value is not one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise JobSpecError("%s must be a mapping of strings, not %s" % (field, type(value).__name__))
    for key, item in value.items():
        if not isinstance(item, str):
            raise JobSpecError(
                "%s.%s must be a string, got %s %r: quote it in YAML" % (field, key, type(item).__name__, item)
            )
    return dict((str(key), item) for key, item in value.items())


def _processors(value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise JobSpecError("processors must be a mapping of processor name to its settings")
    return dict((str(name), _string_map(config, "processors.%s" % name)) for name, config in value.items())


def _env_pairs(value, field):
    """``env`` or ``secret_env`` checked for the shell executor's ``K=V,K2=V2`` string."""
    pairs = {}
    for key, item in (value or {}).items():
        key = str(key)
        if not _ENV_NAME.match(key):
            raise JobSpecError("%s: %r is not an environment variable name" % (field, key))
        if isinstance(item, bool) or item is None or isinstance(item, (dict, list)):
            raise JobSpecError("%s.%s must be a string" % (field, key))
        item = str(item)
        if "," in item:
            raise JobSpecError(
                "%s.%s contains a comma: the shell executor splits its env on commas, so a value cannot hold one"
                % (field, key)
            )
        pairs[key] = item
    return pairs


def env_string(env, secret_env):
    """The shell executor's ``env`` value for two dicts: ``K=V`` pairs sorted by name."""
    merged = dict(env)
    merged.update(secret_env)
    return ",".join("%s=%s" % (key, merged[key]) for key in sorted(merged))


# --- the desired job ---------------------------------------------------------------------------
def build_job(params):
    """The full job that the options ask for, in normal form; JobSpecError for bad input.

    Every check runs here, before any request: name, schedule, time zone, tags, executor config,
    times, maps. Options not set take Dkron's defaults, because a write replaces the whole job.
    """
    name = params.get("name")
    check_job_name(name)
    job = copy.deepcopy(JOB_DEFAULTS)
    job["name"] = name
    for field in ("displayname", "timezone", "schedule", "owner", "owner_email", "parent_job", "concurrency"):
        if params.get(field) is not None:
            job[field] = params[field]
    for field in ("disabled", "ephemeral"):
        if params.get(field) is not None:
            job[field] = bool(params[field])
    if params.get("retries") is not None:
        if params["retries"] < 0:
            raise JobSpecError("retries must be 0 or more, got %d" % params["retries"])
        job["retries"] = params["retries"]

    if job["parent_job"]:
        check_job_name(job["parent_job"])
        if job["parent_job"] == name:
            raise JobSpecError("parent_job: job %r cannot be its own parent" % name)
    if job["timezone"]:
        check_timezone(job["timezone"])
    check_schedule(job["schedule"], job["timezone"], parent_job=job["parent_job"] or None)

    if params.get("tags") is not None:
        check_tags(params["tags"])
        job["tags"] = _string_map(params["tags"], "tags")
    job["metadata"] = _string_map(params.get("metadata"), "metadata")
    # The catch-up policy lives in the metadata, where the catch-up service reads it; it is set
    # only through catchup, so that it is always checked.
    written = sorted(key for key in job["metadata"] if key.startswith(CATCHUP_PREFIX))
    if written:
        raise JobSpecError("metadata.%s is the catch-up policy's: set it with the catchup option" % written[0])
    job["metadata"].update(catchup_metadata(params.get("catchup"), job["schedule"], job["parent_job"] or None))
    job["processors"] = _processors(params.get("processors"))
    job["starts_at"] = normalise_time(params.get("starts_at"), "starts_at")
    job["expires_at"] = normalise_time(params.get("expires_at"), "expires_at")

    if params.get("command") is not None:
        job["executor"] = "shell"
        executor_config = {"command": params["command"], "shell": "true"}
    else:
        job["executor"] = params.get("executor") or ""
        executor_config = params.get("executor_config") or {}
        check_executor_config(executor_config, job["executor"])
        executor_config = dict(executor_config)

    env = _env_pairs(params.get("env"), "env")
    secret_env = _env_pairs(params.get("secret_env"), "secret_env")
    both = sorted(set(env) & set(secret_env))
    if both:
        raise JobSpecError("env and secret_env both set %s; give each variable once" % ", ".join(both))
    if params.get("env") is not None or params.get("secret_env") is not None:
        if job["executor"] != "shell":
            raise JobSpecError(
                "env and secret_env are for the shell executor (command, or executor: shell), not %r"
                % (job["executor"] or "no executor")
            )
        if "env" in executor_config:
            raise JobSpecError("executor_config.env and env/secret_env both set the environment; use one")
        if env or secret_env:
            executor_config["env"] = env_string(env, secret_env)
    job["executor_config"] = executor_config
    return dict((field, job[field]) for field in JOB_FIELDS)


def schedule_preview(job, count=5, now=None):
    """Next runs in the job's time zone and DST notes, or None for a job without a schedule."""
    if not job.get("schedule"):
        return None
    try:
        return preview_runs(job["schedule"], job.get("timezone") or "", count=count, now=now)
    except ValueError as exc:
        return {"next_runs": [], "notes": ["no preview: %s" % exc]}


# --- the server's job --------------------------------------------------------------------------
def normalise_job(job):
    """A job as Dkron returns it, reduced to the normal form that ``build_job`` produces."""
    if job is None:
        return None
    result = {}
    for field in JOB_FIELDS:
        value = job.get(field, JOB_DEFAULTS.get(field))
        if field in ("tags", "metadata", "executor_config"):
            value = dict(value or {})
        elif field == "processors":
            value = dict((name, dict(config or {})) for name, config in (value or {}).items())
        elif field == "concurrency":
            value = value or "allow"
        elif field in ("starts_at", "expires_at"):
            value = None if not value or value == _ZERO_TIME else normalise_time(value, field)
        elif field in ("disabled", "ephemeral"):
            value = bool(value)
        elif field == "retries":
            value = int(value or 0)
        elif value is None:
            value = ""
        result[field] = value
    return result


def changed_fields(before, after):
    """Names of the fields whose values differ between two normal-form jobs (None = absent)."""
    if before is None or after is None:
        return [] if before is after else list(JOB_FIELDS)
    return [field for field in JOB_FIELDS if before.get(field) != after.get(field)]


# --- masking -----------------------------------------------------------------------------------
class JobMasker:
    """Hides secret_env values in what a module returns: jobs, diffs and execution output.

    When the options manage the environment (``env`` or ``secret_env`` given), a variable of the
    job's ``env`` string is shown only if it is in ``env``: a server job may still hold secrets the
    options no longer name (a variable being removed), and those are masked too.
    """

    def __init__(self, params):
        self.secret_values = sorted(
            set(str(value) for value in (params.get("secret_env") or {}).values() if value not in (None, "")),
            key=len,
            reverse=True,
        )
        self.secret_keys = sorted(str(key) for key in (params.get("secret_env") or {}))
        self.manages_env = params.get("env") is not None or params.get("secret_env") is not None
        self.plain = dict((str(key), str(value)) for key, value in (params.get("env") or {}).items())

    def mask_text(self, text):
        if not isinstance(text, str):
            return text
        for value in self.secret_values:
            text = text.replace(value, MASK)
        return text

    def _mask_env(self, env):
        if not self.manages_env or not isinstance(env, str) or not env:
            return self.mask_text(env)
        pairs = []
        for entry in env.split(","):
            key, sep, value = entry.partition("=")
            if sep and not (key in self.plain and self.plain[key] == value):
                value = MASK
            pairs.append(key + sep + value)
        return ",".join(pairs)

    def mask_job(self, job):
        """A copy of a job (normal form or as the server sent it) with secrets masked."""
        if job is None:
            return None
        masked = copy.deepcopy(job)
        config = masked.get("executor_config")
        if isinstance(config, dict) and "env" in config:
            config["env"] = self._mask_env(config["env"])
        return self._mask_strings(masked)

    def _mask_strings(self, value):
        if isinstance(value, dict):
            return dict((key, self._mask_strings(item)) for key, item in value.items())
        if isinstance(value, list):
            return [self._mask_strings(item) for item in value]
        return self.mask_text(value)

    def changed_secrets(self, before, after):
        """Names of secret_env variables whose value differs between two jobs (masked alike)."""
        old, new = _env_of(before), _env_of(after)
        return sorted(key for key in self.secret_keys if key in new and old.get(key) != new[key])


def _env_of(job):
    """The shell executor's env string of a job as a dict (empty when none)."""
    env = ((job or {}).get("executor_config") or {}).get("env") or ""
    pairs = {}
    for entry in env.split(",") if isinstance(env, str) else []:
        key, sep, value = entry.partition("=")
        if sep:
            pairs[key] = value
    return pairs


def job_diff(before, after, masker):
    """Ansible's ``diff`` for one job: normal-form jobs, masked; ``{}`` stands for absent.

    A changed secret looks the same on both sides once masked, so the headers name it.
    """
    diff = dict(
        before=masker.mask_job(before) if before is not None else {},
        after=masker.mask_job(after) if after is not None else {},
    )
    secrets = masker.changed_secrets(before, after) if before is not None and after is not None else []
    if secrets:
        name = after.get("name")
        diff["before_header"] = "job %s" % name
        diff["after_header"] = "job %s (secret_env changed: %s)" % (name, ", ".join(secrets))
    return diff


# --- after a write -----------------------------------------------------------------------------
def read_back(client, name, desired, timeout=10.0, sleep=0.2):
    """Poll the answering server until its job matches ``desired`` (normal form) or time is up.

    A follower serves reads from its own store and can lag the leader's write. Returns
    ``(normal-form job, matched)``; a job that never matches means the server stored something
    other than what was sent.
    """
    deadline = time.monotonic() + timeout
    while True:
        current = normalise_job(client.get_job(name))
        if current == desired:
            return current, True
        if time.monotonic() >= deadline:
            return current, False
        time.sleep(sleep)


# --- runs --------------------------------------------------------------------------------------
def _finished(execution):
    finished = execution.get("finished_at") or ""
    return bool(finished) and not finished.startswith("0001-01-01")


def execution_groups(executions):
    """The execution groups (one per run) present in a list of execution records."""
    return set(execution.get("group") for execution in executions or [])


def run_result(executions, known_groups, retries=0):
    """The executions of the run started after ``known_groups`` were seen, once it has finished.

    Returns None while no new run is recorded or it still runs: a node's run is over when its
    latest attempt has finished and either succeeded or used up the job's retries.
    """
    new = [execution for execution in executions or [] if execution.get("group") not in known_groups]
    if not new:
        return None
    group = max(execution.get("group") or 0 for execution in new)
    ours = [execution for execution in new if execution.get("group") == group]
    latest = {}
    for execution in ours:
        node = execution.get("node_name")
        if node not in latest or (execution.get("attempt") or 0) > (latest[node].get("attempt") or 0):
            latest[node] = execution
    for execution in latest.values():
        if not _finished(execution):
            return None
        if not execution.get("success") and (execution.get("attempt") or 1) < retries + 1:
            return None
    return sorted(latest.values(), key=lambda execution: execution.get("node_name") or "")


def summarise_execution(execution, masker):
    """One execution record as the modules return it."""
    return dict(
        id=execution.get("id"),
        node=execution.get("node_name"),
        success=bool(execution.get("success")),
        output=masker.mask_text(execution.get("output") or ""),
        started_at=execution.get("started_at"),
        finished_at=execution.get("finished_at") if _finished(execution) else None,
        attempt=execution.get("attempt"),
        group=execution.get("group"),
    )
