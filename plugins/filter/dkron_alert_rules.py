# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dkron_alert_rules
short_description: Prometheus alert rules for a declared Dkron job set and its cluster
version_added: 0.1.0
author: hacron.dkron contributors
description:
  - Per job, the stale (dead-man), failed and never-ran rules; for the cluster, no leader, a Raft
    voter missing, a member failed and an exporter that cannot be scraped. Returns a Prometheus rule
    file's content (C(groups)), to render with C(to_nice_yaml).
  - The stale threshold is the schedule's longest gap between two runs, as Dkron's scheduler
    (robfig/cron v3) runs it across daylight-saving changes, plus the job's grace.
  - C(@manually), C(@at), C(@after), disabled and dependent jobs get no stale rule.
  - Refuses a bad grace, severity or setting with an error that names it, before any rule is made.
options:
  _input:
    description: The jobs, as C(dkron_job_set) takes them (each with at least C(name)).
    type: list
    elements: dict
    required: true
  grace:
    description: Added to every job's longest gap, unless the job's own settings give one.
    type: str
    default: 5m
  alerts:
    description:
      - Settings per job name, each with C(grace), C(severity) and C(enabled) (false for no rules).
    type: dict
    default: {}
  exporter_job:
    description: The Prometheus job that scrapes the exporters.
    type: str
    default: hacron_dkron_exporter
  job_defaults:
    description:
      - Settings every job takes unless it sets them itself (the reconcile's C(dkron_job_defaults)), such
        as a common C(timezone) or C(disabled).
    type: dict
    default: {}
  reconcile_max_age:
    description:
      - With a duration, a third group of rules on the scheduled reconcile's metrics (drift found, a
        failed run, no run for longer than this). Empty, none.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Write the alert rules of the declared jobs
  ansible.builtin.copy:
    content: "{{ dkron_jobs | hacron.dkron.dkron_alert_rules(grace='10m') | to_nice_yaml(indent=2) }}"
    dest: /etc/prometheus/rules/hacron-dkron.yml
    mode: "0644"
    validate: promtool check rules %s
"""

RETURN = r"""
_value:
  description:
    - A Prometheus rule file's content, one group of job rules and one of cluster rules, and one of
      the scheduled reconcile's rules when O(reconcile_max_age) is given.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_alert_rules import (
    cluster_alert_rules,
    job_alert_rules,
    reconcile_alert_rules,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import JobSpecError


def dkron_alert_rules(jobs, grace="5m", alerts=None, exporter_job="hacron_dkron_exporter", reconcile_max_age="",
                      job_defaults=None):
    if not isinstance(jobs, list):
        raise AnsibleFilterError("dkron_alert_rules takes the list of jobs, not %s" % type(jobs).__name__)
    if not isinstance(job_defaults or {}, dict):
        raise AnsibleFilterError("dkron_alert_rules: job_defaults must be a mapping")
    # As dkron_job_set applies them: a job's own setting wins.
    jobs = [dict(job_defaults or {}, **{key: value for key, value in job.items() if value is not None})
            if isinstance(job, dict) else job for job in jobs]
    try:
        rules, _unwatched = job_alert_rules(jobs, grace=grace, alerts=alerts or {})
        cluster = cluster_alert_rules(exporter_job=exporter_job)
        reconcile = reconcile_alert_rules(reconcile_max_age) if reconcile_max_age else None
    except JobSpecError as error:
        raise AnsibleFilterError("dkron_alert_rules: %s" % error)
    groups = [{"name": "hacron-dkron-jobs", "rules": rules}, {"name": "hacron-dkron-cluster", "rules": cluster}]
    if reconcile is not None:
        groups.append({"name": "hacron-dkron-reconcile", "rules": reconcile})
    return {"groups": groups}


class FilterModule(object):
    def filters(self):
        return {"dkron_alert_rules": dkron_alert_rules}
