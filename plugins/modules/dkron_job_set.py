#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkron_job_set
short_description: Make a Dkron cluster's jobs match a declared set, in one call
version_added: 0.1.0
description:
  - Takes the whole desired set of jobs, reads the cluster's jobs with one list request, then
    creates, updates and (with O(purge)) deletes jobs so that the cluster matches the set.
  - Jobs are written parents before children, and deleted children before parents.
  - The set marks the jobs it writes with an ownership marker in their metadata,
    C(managed_by=hacron.dkron/<set name>). Purge deletes only jobs that carry this set's marker;
    jobs made by hand, by other tools or by other sets are reported in RV(unmanaged) and never deleted.
  - Every job is checked before any request is made (name, schedule, time zone, tags, executor
    configuration, times, parents); a bad job fails the task, naming the job, and nothing is sent.
  - Writes stop at the first failure. The task then fails and says which changes were applied
    (RV(added), RV(updated), RV(removed)), which one failed (RV(failure)) and which were not tried
    (RV(not_applied)).
extends_documentation_fragment:
  - hacron.dkron.connection
  - hacron.dkron.attributes
  - ansible.builtin.action_common_attributes
options:
  jobs:
    description:
      - The desired jobs. Each takes the options of M(hacron.dkron.dkron_job) that describe a job
        (O(hacron.dkron.dkron_job#module:name), C(schedule), C(timezone), C(displayname), C(owner),
        C(owner_email), C(disabled), C(tags), C(metadata), C(catchup), C(retries), C(parent_job), C(concurrency),
        C(executor), C(executor_config), C(command), C(env), C(processors), C(ephemeral),
        C(starts_at), C(expires_at)), with the same meaning and checks, and C(state)
        (V(present), the default, or V(absent) to delete the job).
      - As with M(hacron.dkron.dkron_job), each job is described whole; an option that is not set
        (here or in O(job_defaults)) takes Dkron's default.
      - Secret environment values go in O(secret_env), not in the jobs.
    type: list
    elements: dict
    required: true
  job_defaults:
    description:
      - Options applied to every job of O(jobs) that does not set them itself, for example a
        common C(timezone), C(owner) or C(tags).
    type: dict
    default: {}
  secret_env:
    description:
      - Secret environment variables per job, job name to a map of variable to value. Like the
        C(env) of a job, for values that must not be shown; they are masked as C(********) in
        everything the module returns.
    type: dict
    default: {}
  set_name:
    description:
      - Name of this set, written into each job's ownership marker. Give separate sets (one per
        team or application) different names, so that one set's purge never deletes another's jobs.
    type: str
    default: default
  purge:
    description:
      - Delete jobs that carry this set's ownership marker but are not in O(jobs).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reads the jobs once and reports what would change; writes nothing.
  diff_mode:
    support: full
    details: Each changed job before and after, without the fields the server computes, secrets masked.
notes:
  - The list request is answered by the server at O(api_url) from its own store; right after
    writes made through another server it can lag by a moment.
  - The jobs written are not read back one by one (that would double the requests); Dkron's answer
    to each write is checked.
seealso:
  - module: hacron.dkron.dkron_job
  - module: hacron.dkron.dkron_job_info
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Build one nightly import job per data group
  ansible.builtin.set_fact:
    import_jobs: >-
      {{ import_jobs | default([]) + [{'name': 'import-' ~ item, 'schedule': '0 0 2 * * *',
                                       'command': '/opt/pipeline/import ' ~ item}] }}
  loop: "{{ data_groups }}"  # e.g. [sales, stock, web]; a new group gets its job on the next run

- name: Make the cluster's pipeline jobs exactly these
  hacron.dkron.dkron_job_set:
    api_url: http://cron-a.example.internal:8080
    set_name: pipeline
    purge: true  # a group dropped from data_groups loses its job
    job_defaults:
      timezone: Europe/Berlin
      owner: data-team
      tags: {role: "worker:1"}
      concurrency: forbid
    jobs: "{{ import_jobs + [{'name': 'report', 'schedule': '0 0 6 * * *', 'command': '/opt/pipeline/report'}] }}"

- name: A small set written out
  hacron.dkron.dkron_job_set:
    jobs:
      - name: backup
        schedule: "0 30 2 * * *"
        command: /usr/local/bin/backup
        tags: {role: "db:1"}
      - name: backup-verify
        parent_job: backup
        command: /usr/local/bin/backup --verify
        tags: {role: "db:1"}
      - name: old-job
        state: absent
    secret_env:
      backup:
        AWS_SECRET_ACCESS_KEY: "{{ vault_backup_key }}"
  register: jobs

- name: Say what changed
  ansible.builtin.debug:
    msg: "added {{ jobs.added }}, updated {{ jobs.updated }}, removed {{ jobs.removed }}"
"""

RETURN = r"""
added:
  description: Names of the jobs created (that would be, in check mode), in the order written.
  returned: always
  type: list
  elements: str
updated:
  description: Names of the jobs rewritten because they differed.
  returned: always
  type: list
  elements: str
removed:
  description: Names of the jobs deleted, by O(purge) or C(state=absent).
  returned: always
  type: list
  elements: str
untouched:
  description: Names of the set's jobs that already matched.
  returned: success
  type: list
  elements: str
unmanaged:
  description: Jobs on the server that are not in the set and do not carry its marker; left alone.
  returned: success
  type: list
  elements: str
stale:
  description:
    - Jobs that carry this set's marker but are no longer in O(jobs), left in place because
      O(purge) is off. With O(purge) they are removed instead, and this list is empty.
  returned: success
  type: list
  elements: str
changes:
  description:
    - Per changed job, what happens to it and which fields differ, with their values before and
      after (secrets masked). An added or removed job lists no fields.
  returned: success
  type: dict
  sample:
    report:
      action: update
      fields:
        schedule: {before: "0 0 6 * * *", after: "0 0 7 * * *"}
failure:
  description: The change that failed, with Dkron's error.
  returned: when a write failed
  type: dict
  contains:
    name:
      description: The job's name.
      type: str
    action:
      description: V(add), V(update) or V(remove).
      type: str
    error:
      description: The error, with Dkron's HTTP status and answer.
      type: str
not_applied:
  description: Changes planned after the one that failed and not tried, as C(action name).
  returned: when a write failed
  type: list
  elements: str
schedule_preview:
  description: For each job added or updated, its next runs and daylight saving notes.
  returned: in check mode or diff mode
  type: dict
"""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_job import (
    JOB_MUTUALLY_EXCLUSIVE,
    job_argument_spec,
)
from ansible_collections.hacron.dkron.plugins.module_utils import dkron_job_set as job_set
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import run_module


ARGUMENT_SPEC = dict(
    jobs=dict(type="list", elements="dict", required=True),
    job_defaults=dict(type="dict", default={}),
    secret_env=dict(type="dict", default={}, no_log=True),
    set_name=dict(type="str", default="default"),
    purge=dict(type="bool", default=False),
)


def _job_validators():
    """Validators for one job of the set and for the defaults (the same options, name optional)."""
    job_spec = job_argument_spec()
    job_spec.pop("secret_env")  # secrets come from the set's own no_log option
    job_spec["state"] = dict(type="str", choices=["present", "absent"], default="present")
    defaults_spec = dict((key, dict(value)) for key, value in job_spec.items() if key not in ("name", "state"))
    return (
        ArgumentSpecValidator(job_spec, mutually_exclusive=JOB_MUTUALLY_EXCLUSIVE),
        ArgumentSpecValidator(defaults_spec, mutually_exclusive=JOB_MUTUALLY_EXCLUSIVE),
    )


def validated_jobs(module):
    """The jobs and defaults typed and checked like dkron_job's options; fails the module otherwise."""
    job_validator, defaults_validator = _job_validators()
    checked = defaults_validator.validate(module.params["job_defaults"])
    if checked.error_messages:
        module.fail_json(msg="job_defaults: %s" % "; ".join(checked.error_messages))
    defaults = checked.validated_parameters
    jobs = []
    for index, entry in enumerate(module.params["jobs"]):
        checked = job_validator.validate(entry)
        if checked.error_messages:
            module.fail_json(msg="jobs[%d] (%s): %s" % (index, entry.get("name"), "; ".join(checked.error_messages)))
        jobs.append(checked.validated_parameters)
    names = set(job["name"] for job in jobs)
    strays = sorted(set(module.params["secret_env"]) - names)
    if strays:
        module.fail_json(msg="secret_env names jobs that are not in the set: %s" % ", ".join(strays))
    for job in jobs:
        job["secret_env"] = module.params["secret_env"].get(job["name"])
    return jobs, defaults


def change_report(change):
    before = change.masker.mask_job(change.before) if change.before else {}
    after = change.masker.mask_job(change.after) if change.after else {}
    return dict(
        action=change.action,
        fields=dict((field, dict(before=before.get(field), after=after.get(field))) for field in change.fields),
    )


def apply_job_set(module, client):
    # Every check happens before the first request.
    jobs, defaults = validated_jobs(module)
    params = module.params
    present, absent, maskers = job_set.desired_jobs(jobs, defaults, params["set_name"])
    changes, report = job_set.plan(present, absent, maskers, client.list_jobs(), params["set_name"], params["purge"])

    result = dict(changed=bool(changes), changes=dict((c.name, change_report(c)) for c in changes), **report)
    if module._diff:
        result["diff"] = [dict(change.diff(), before_header=change.name, after_header=change.name) for change in changes]
    if module.check_mode or module._diff:
        result["schedule_preview"] = job_set.previews(changes)
    if module.check_mode:
        result.update(job_set.summary(changes))
        return result

    applied, failure, not_applied = job_set.apply(client, changes)
    result.update(job_set.summary(applied))
    result["changed"] = bool(applied)
    if failure:
        change, error = failure
        result["failure"] = dict(name=change.name, action=change.action, error=str(error))
        result["not_applied"] = ["%s %s" % (c.action, c.name) for c in not_applied]
        module.fail_json(
            msg="%s of job %r failed after %d of %d changes were applied (%s); not tried: %s. %s"
            % (change.action, change.name, len(applied), len(changes),
               ", ".join("%s %s" % (c.action, c.name) for c in applied) or "none",
               ", ".join(result["not_applied"]) or "none", error),
            **result
        )
    return result


def main():
    run_module(apply_job_set, ARGUMENT_SPEC, errors=(job_set.JobSetError,))


if __name__ == "__main__":
    main()
