#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_job_info
short_description: List Dkron jobs, read one job and its executions
version_added: 0.1.0
description:
  - Lists the jobs of a Dkron cluster as the answering server stores them, optionally filtered by
    metadata, name, a search text or status.
  - Reads one job by name, and with O(executions) the records of its recent runs.
  - Changes nothing.
  - Jobs are returned as Dkron stores them, with the fields Dkron computes (C(status), C(next),
    counters). Values written through the O(hacron.dkron.dkron_job#module:secret_env) option are in the
    job's C(executor_config.env) in clear text, since this module cannot tell them apart.
extends_documentation_fragment:
  - hacron.dkron.connection
  - hacron.dkron.attributes
  - hacron.dkron.attributes.info
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - Only the job with this exact name. RV(jobs) is empty when there is none.
    type: str
  query:
    description:
      - Only jobs whose name or display name contains this text.
    type: str
  metadata:
    description:
      - Only jobs whose metadata has every one of these keys with exactly this value.
    type: dict
  status:
    description:
      - Only jobs whose last run had this status; V(untriggered) is a job that never ran.
    type: str
    choices: [success, failed, partially_failed, running, untriggered]
  executions:
    description:
      - Also return the executions of the job named by O(name), newest first (Dkron keeps the last
        100 per job).
    type: bool
    default: false
notes:
  - Reads are answered from the answering server's own store, which can lag a write on the leader
    by a moment.
seealso:
  - module: hacron.dkron.dkron_job
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Every job this team manages
  hacron.dkron.dkron_job_info:
    api_url: http://cron-a.example.internal:8080
    metadata:
      team: data
  register: team_jobs

- name: Jobs whose last run failed
  hacron.dkron.dkron_job_info:
    status: failed
  register: failing

- name: One job and its recent runs
  hacron.dkron.dkron_job_info:
    name: backup
    executions: true
  register: backup

- name: The last run of the backup succeeded
  ansible.builtin.assert:
    that:
      - backup.jobs | length == 1
      - backup.executions[0].success
"""

RETURN = r"""
jobs:
  description: The matching jobs as Dkron returns them, sorted by name.
  returned: success
  type: list
  elements: dict
  sample:
    - id: backup
      name: backup
      displayname: ""
      timezone: Europe/Berlin
      schedule: "0 30 2 * * *"
      owner: ops
      owner_email: ""
      success_count: 12
      error_count: 0
      last_success: "2030-01-31T01:30:00.0211Z"
      last_error: null
      disabled: false
      tags: {role: "db:1"}
      metadata: {team: data}
      retries: 2
      dependent_jobs: null
      parent_job: ""
      processors: {}
      concurrency: forbid
      executor: shell
      executor_config: {command: /usr/local/bin/backup, shell: "true"}
      status: success
      next: "2030-02-01T01:30:00Z"
      ephemeral: false
      starts_at: null
      expires_at: null
executions:
  description: The executions of the job named by O(name), newest first; empty when it has none.
  returned: when O(executions) is true
  type: list
  elements: dict
  contains:
    id:
      description: Dkron's execution id.
      type: str
    job_name:
      description: The job's name.
      type: str
    node_name:
      description: The node that ran it.
      type: str
    success:
      description: Whether it succeeded.
      type: bool
    output:
      description: What it printed (Dkron keeps its tail).
      type: str
    started_at:
      description: When it started (UTC).
      type: str
    finished_at:
      description: When it finished (UTC); C(0001-01-01T00:00:00Z) while it runs.
      type: str
    group:
      description: Dkron's execution group, one per run (all nodes and retries of one run).
      type: int
    attempt:
      description: The attempt number; above 1 after retries.
      type: int
"""

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import run_module


def job_matches(job, metadata=None, query=None, status=None):
    """Whether a job passes the filters, as Dkron's own list filters apply them."""
    for key, value in (metadata or {}).items():
        if (job.get("metadata") or {}).get(key) != value:
            return False
    if query and query not in (job.get("name") or "") and query not in (job.get("displayname") or ""):
        return False
    if status:
        job_status = job.get("status") or ""
        if (status == "untriggered" and job_status != "") or (status != "untriggered" and job_status != status):
            return False
    return True


def execution_order(execution):
    """Newest first: Dkron's group is the run's start in nanoseconds; retries count up within it."""
    return (execution.get("group") or 0, execution.get("attempt") or 0, execution.get("node_name") or "")


def read_jobs(module, client):
    params = module.params
    metadata = dict((str(key), str(value)) for key, value in (params["metadata"] or {}).items())
    result = dict(changed=False)
    job = None
    if params["name"] is not None:
        job = client.get_job(params["name"])
        jobs = [job] if job is not None and job_matches(job, metadata, params["query"], params["status"]) else []
    else:
        query = {}
        if params["query"]:
            query["q"] = params["query"]
        if params["status"]:
            query["status"] = params["status"]
        jobs = client.list_jobs(metadata=metadata, **query)
    result["jobs"] = sorted(jobs, key=lambda job: job.get("name") or "")
    if params["executions"]:
        # The job was read above: Dkron answers 404 for the executions of a missing job.
        executions = client.executions(params["name"]) if job is not None else []
        result["executions"] = sorted(executions, key=execution_order, reverse=True)
    return result


def main():
    run_module(
        read_jobs,
        dict(
            name=dict(type="str"),
            query=dict(type="str"),
            metadata=dict(type="dict"),
            status=dict(type="str", choices=["success", "failed", "partially_failed", "running", "untriggered"]),
            executions=dict(type="bool", default=False),
        ),
        required_if=[("executions", True, ("name",))],
    )


if __name__ == "__main__":
    main()
