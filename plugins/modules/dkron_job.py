#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_job
short_description: Create, update, delete and run one Dkron job
version_added: 0.1.0
description:
  - Makes one job in a Dkron cluster match the options, or removes it, through Dkron's REST API.
  - Dkron replaces a job as a whole on every write, so the options describe the B(whole) job. An
    option that is not set takes Dkron's default, and a job that differs from it on the server is
    rewritten with that default (for example, leaving out O(tags) removes the job's tags).
  - Idempotent. The job on the server and the desired job are compared after both are put in one
    normal form, which absorbs how Dkron stores a job (empty maps read back as null, times read back
    in UTC, the fields the server computes).
  - Every option is checked before any request is made (name, schedule, time zone, tags, executor
    configuration, times); a bad value fails the task with a message about that value.
  - Can run the job at once (O(run)) and wait for the run to finish (O(wait)).
extends_documentation_fragment:
  - hacron.dkron.connection
  - hacron.dkron.attributes
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - The job's name, its identity in Dkron.
      - Lowercase letters, digits, V(_) and V(-) only.
    type: str
    required: true
  state:
    description:
      - V(present) creates the job or updates it to match the options.
      - V(absent) deletes it. Dkron refuses to delete a job that other jobs name as O(parent_job).
    type: str
    choices: [present, absent]
    default: present
  schedule:
    description:
      - When the job runs. Six fields, seconds first (C(sec min hour day-of-month month day-of-week)),
        or a descriptor such as V(@every 1h), V(@daily), V(@hourly), V(@manually) or
        V(@at 2030-01-31T02:00:00Z).
      - Five-field crontab lines are refused, as are C(L), C(W), C(#) and a year field.
      - Required with O(state=present) unless O(parent_job) is set; a child job with no schedule
        runs after its parent.
    type: str
  timezone:
    description:
      - IANA time zone the schedule is read in, for example V(Europe/Berlin).
      - If not set, the server's local time zone.
    type: str
  displayname:
    description:
      - Name shown instead of O(name) in Dkron's UI. If not set, none.
    type: str
  owner:
    description:
      - Who owns the job, free text. If not set, empty.
    type: str
  owner_email:
    description:
      - E-mail address for Dkron's notifications about the job. If not set, empty.
    type: str
  disabled:
    description:
      - Whether the job is disabled; a disabled job neither runs on schedule nor by O(run).
      - If not set, V(false).
    type: bool
  tags:
    description:
      - Node tags that select where the job runs, as C(key) to C(value) or C(value:count); every
        tag must match, and C(count) limits how many matching nodes run it.
      - Values are strings.
      - B(If not set or empty, the job runs on every alive node, servers included.)
    type: dict
  metadata:
    description:
      - Free labels of the job, string to string; M(hacron.dkron.dkron_job_info) filters on them.
    type: dict
  retries:
    description:
      - How many times a failed run is retried on the same node. If not set, V(0).
    type: int
  parent_job:
    description:
      - Name of a job this job depends on. It runs after each successful run of its parent.
      - The parent must exist before the child is created.
    type: str
  concurrency:
    description:
      - Whether a run may start while the previous one still runs.
      - If not set, V(allow).
    type: str
    choices: [allow, forbid]
  executor:
    description:
      - The executor plugin that runs the job, for example V(shell) or V(http).
      - Mutually exclusive with O(command).
    type: str
  executor_config:
    description:
      - The executor's settings, string to string (quote numbers and booleans in YAML), for
        example C(command), C(shell), C(cwd), C(timeout) for the shell executor, or C(method),
        C(url), C(expectCode) for the http executor.
      - Mutually exclusive with O(command).
    type: dict
  command:
    description:
      - Shorthand for the shell executor. Sets O(executor=shell) and O(executor_config) to
        C(command) with C(shell) V("true"), so that shell syntax works as in a crontab.
      - Mutually exclusive with O(executor) and O(executor_config).
    type: str
  env:
    description:
      - Environment variables for the shell executor, name to value, stored in the executor's
        C(env) setting as C(NAME=value) pairs.
      - Values cannot contain a comma (the shell executor splits on commas).
      - Only with the shell executor, and not together with a C(env) key in O(executor_config).
    type: dict
  secret_env:
    description:
      - Like O(env), for values that must not be shown. They are written to the job, but masked as
        C(********) in everything the module returns (the job, the diff, the output of a run).
      - Dkron stores them in clear text, and M(hacron.dkron.dkron_job_info) returns them as stored.
    type: dict
  processors:
    description:
      - Dkron processors for the run's output, processor name to its settings (string to string),
        for example the C(log) processor with C(forward) set to V("true").
    type: dict
  ephemeral:
    description:
      - Whether Dkron deletes the job after its first successful run. If not set, V(false).
    type: bool
  catchup:
    description:
      - What the catch-up service (the C(catchup) role) does when an election made the job miss
        scheduled runs. Kept in the job's metadata (C(hacron_catchup), C(hacron_catchup_window),
        C(hacron_catchup_max)), which O(metadata) may not set itself.
      - C(policy) V(none) (the default) runs nothing; V(latest) runs the job once for a gap, as
        Nomad does; V(all) runs it once per missed slot, the newest C(max) of the gap.
      - C(window), a Go duration such as V(1m) or V(15m), is required with V(latest) and V(all);
        slots older than that are not caught up. C(max), 1 or more, is required with V(all).
      - Only for a job with a repeating schedule of its own (cron fields or C(@every)), not a
        dependent job. Checked before any request.
      - A catch-up run is never started for a slot that already has a run or a catch-up record, but
        a run that Dkron lost the record of (its node died with it) cannot be told from a missed one.
    type: dict
    version_added: 0.2.0
  starts_at:
    description:
      - RFC 3339 time with a UTC offset before which the job does not run, for example
        V(2030-01-31T02:00:00Z).
    type: str
  expires_at:
    description:
      - RFC 3339 time with a UTC offset after which the job does not run.
    type: str
  run:
    description:
      - Run the job now, after creating or updating it. Always reports a change.
      - Only with O(state=present) and a job that is not disabled.
    type: bool
    default: false
  wait:
    description:
      - With O(run), wait for the run to finish on every node that runs it, and return it in RV(execution).
      - The task fails if the run fails on a node (after the job's retries).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the run with O(wait).
    type: int
    default: 120
  wait_sleep:
    description:
      - Seconds between two reads of the job's executions while waiting.
    type: float
    default: 1
attributes:
  check_mode:
    support: full
    details: Reads the job and reports what would change; writes nothing and runs nothing.
  diff_mode:
    support: full
    details: The job before and after, without the fields the server computes, with secrets masked.
notes:
  - In check mode and diff mode the module also returns RV(schedule_preview), the next runs of the
    schedule in the job's time zone.
  - A job is read back from the answering server after a write; a follower can lag the leader by a
    moment, and the module waits for the written job (up to 10 seconds).
seealso:
  - module: hacron.dkron.dkron_job_info
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: A nightly backup on one node tagged role=db, at 02:30 Berlin time
  hacron.dkron.dkron_job:
    api_url: http://cron-a.example.internal:8080
    name: backup
    schedule: "0 30 2 * * *"
    timezone: Europe/Berlin
    command: /usr/local/bin/backup --all 2>&1 | tee -a /var/log/backup.log
    env:
      BACKUP_TARGET: s3://backups/db
    secret_env:
      AWS_SECRET_ACCESS_KEY: "{{ vault_backup_key }}"
    tags:
      role: "db:1"
    retries: 2
    concurrency: forbid
    metadata:
      team: data

- name: An HTTP check every five minutes
  hacron.dkron.dkron_job:
    name: ping-api
    schedule: "@every 5m"
    executor: http
    executor_config:
      method: GET
      url: https://api.example.internal/health
      expectCode: "200"
      timeout: "10"
    tags:
      role: "web:1"

- name: Run a job now and wait for its result
  hacron.dkron.dkron_job:
    name: migrate
    schedule: "@manually"
    command: /opt/app/bin/migrate
    tags:
      role: "app:1"
    run: true
    wait: true
    wait_timeout: 600
  register: migrate

- name: Show what the run printed
  ansible.builtin.debug:
    var: migrate.execution.output

- name: Remove a job
  hacron.dkron.dkron_job:
    name: old-report
    state: absent
"""

RETURN = r"""
job:
  description:
    - The job as it is now on the server (as it would be, in check mode), in the module's normal
      form, without the fields the server computes; secrets masked. V(null) when it is absent.
  returned: success
  type: dict
  sample:
    name: backup
    displayname: ""
    timezone: Europe/Berlin
    schedule: "0 30 2 * * *"
    owner: ""
    owner_email: ""
    disabled: false
    tags: {role: "db:1"}
    metadata: {team: data}
    retries: 2
    parent_job: ""
    processors: {}
    concurrency: forbid
    executor: shell
    executor_config:
      command: /usr/local/bin/backup --all
      shell: "true"
      env: AWS_SECRET_ACCESS_KEY=********,BACKUP_TARGET=s3://backups/db
    ephemeral: false
    starts_at: null
    expires_at: null
changed_fields:
  description: Names of the job's fields that differ between the server and the options.
  returned: success
  type: list
  elements: str
  sample: [schedule]
diff:
  description: The job before and after, as in RV(job); V({}) stands for an absent job.
  returned: when diff mode is on
  type: dict
schedule_preview:
  description: The schedule's next runs in the job's time zone, with notes about daylight saving time.
  returned: in check mode or diff mode, when the job has a schedule
  type: dict
  contains:
    next_runs:
      description: The next run times, ISO 8601 with the UTC offset of the job's time zone.
      type: list
      elements: str
    notes:
      description: Notes about the schedule, such as runs skipped or repeated by a daylight saving change.
      type: list
      elements: str
  sample:
    next_runs: ["2030-03-30T02:30:00+01:00", "2030-04-01T02:30:00+02:00"]
    notes: ["2030-03-31: 02:30 does not exist in Europe/Berlin (clocks go forward)"]
execution:
  description:
    - The run started by O(run), once it finished. When several nodes ran it, the record of a node
      where it failed, if any, else the first by node name; all of them are in RV(executions).
  returned: when O(run) and O(wait) are true, not in check mode
  type: dict
  contains:
    success:
      description: Whether the run succeeded (on every node, after retries).
      type: bool
    output:
      description: What the run printed (Dkron keeps its tail), secrets masked.
      type: str
    node:
      description: The node that ran it.
      type: str
    id:
      description: Dkron's execution id.
      type: str
    started_at:
      description: When the run started (UTC).
      type: str
    finished_at:
      description: When the run finished (UTC).
      type: str
    attempt:
      description: The attempt number; above 1 after retries.
      type: int
    group:
      description: Dkron's execution group, one per run.
      type: int
  sample:
    success: true
    output: "migrated 3 tables\n"
    node: app-1
    attempt: 1
executions:
  description: Every node's record of the run, each as RV(execution).
  returned: when O(run) and O(wait) are true, not in check mode
  type: list
  elements: dict
"""

import time

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import run_module
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_job import (
    JOB_MUTUALLY_EXCLUSIVE,
    JobMasker,
    JobSpecError,
    build_job,
    changed_fields,
    execution_groups,
    job_argument_spec,
    job_diff,
    normalise_job,
    read_back,
    run_result,
    schedule_preview,
    summarise_execution,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import check_job_name


def argument_spec():
    spec = job_argument_spec()
    spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        run=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=120),
        wait_sleep=dict(type="float", default=1.0),
    )
    return spec


def desired_job(module):
    """The job the options ask for (None for state=absent); fails the module on bad input."""
    params = module.params
    try:
        if params["state"] == "absent":
            check_job_name(params["name"])
            if params["run"]:
                raise JobSpecError("run needs state=present: a job being deleted cannot be run")
            return None
        job = build_job(params)
    except JobSpecError as exc:
        module.fail_json(msg=str(exc))
    if params["run"] and job["disabled"]:
        module.fail_json(msg="run: job %r is disabled, and Dkron does not run a disabled job" % job["name"])
    return job


def run_and_wait(module, client, job, masker):
    """Run the job now; with wait, poll its executions until that run has finished."""
    params = module.params
    known = execution_groups(client.executions(job["name"]))
    client.run_job(job["name"])
    if not params["wait"]:
        return None
    deadline = time.monotonic() + params["wait_timeout"]
    while True:
        executions = client.executions(job["name"])
        finished = run_result(executions, known, retries=job["retries"])
        if finished is not None:
            return [summarise_execution(execution, masker) for execution in finished]
        if time.monotonic() >= deadline:
            module.fail_json(
                msg="the run of job %r did not finish within %d s" % (job["name"], params["wait_timeout"]),
                changed=True,
                executions=[
                    summarise_execution(execution, masker)
                    for execution in executions
                    if execution.get("group") not in known
                ],
            )
        time.sleep(params["wait_sleep"])


def apply_job(module, client):
    desired = desired_job(module)  # every check happens here, before any request
    masker = JobMasker(module.params)
    name = module.params["name"]
    result = dict(changed=False)
    before = normalise_job(client.get_job(name))
    fields = changed_fields(before, desired)
    result["changed"] = bool(fields)
    result["changed_fields"] = fields
    after = desired
    if fields and not module.check_mode:
        if desired is None:
            client.delete_job(name)
            client.wait_for_job(name, present=False)
        else:
            client.put_job(desired)
            after, matched = read_back(client, name, desired)
            if not matched:
                module.warn(
                    "job %r as read back from %s differs from what was written in %s; "
                    "the next run will report a change again"
                    % (name, client.api_url, ", ".join(changed_fields(after, desired)))
                )
    elif not fields:
        after = before
    result["job"] = masker.mask_job(after)
    if module._diff:
        result["diff"] = job_diff(before, desired, masker)
    if desired is not None and (module.check_mode or module._diff):
        preview = schedule_preview(desired)
        if preview is not None:
            result["schedule_preview"] = preview
    if module.params["run"]:
        result["changed"] = True
        if not module.check_mode:
            executions = run_and_wait(module, client, desired, masker)
            if executions is not None:
                failed = [execution for execution in executions if not execution["success"]]
                result["executions"] = executions
                result["execution"] = failed[0] if failed else executions[0]
                if failed:
                    module.fail_json(
                        msg="the run of job %r failed on %s"
                        % (name, ", ".join(execution["node"] or "?" for execution in failed)),
                        **result
                    )
    return result


def main():
    run_module(apply_job, argument_spec(), mutually_exclusive=JOB_MUTUALLY_EXCLUSIVE)


if __name__ == "__main__":
    main()
