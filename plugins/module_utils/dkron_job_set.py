# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A declared set of jobs against the server's jobs: the plan, its order, and applying it.

The set owns the jobs that carry its ownership marker in their metadata
(``managed_by: hacron.dkron/<set name>``). Purge deletes only those; a job without the marker was
made by someone else (by hand, another tool, another set) and is reported, never deleted.

Writes follow the job tree: a parent is written before its children (Dkron refuses a child whose
parent does not exist) and deleted after them (Dkron refuses to delete a parent with children).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronError
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_job import (
    JobMasker,
    build_job,
    changed_fields,
    job_diff,
    normalise_job,
    schedule_preview,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import JobSpecError

MARKER_KEY = "managed_by"
MARKER_PREFIX = "hacron.dkron/"


def marker(set_name):
    return MARKER_PREFIX + set_name


class JobSetError(ValueError):
    """Bad input for the set as a whole (duplicates, a job's own bad option); nothing was sent."""


class Change:
    """One planned write: ``add``, ``update`` or ``remove`` of one job."""

    def __init__(self, action, name, before, after, masker, fields=()):
        self.action = action
        self.name = name
        self.before = before
        self.after = after
        self.masker = masker
        self.fields = list(fields)

    def diff(self):
        return job_diff(self.before, self.after, self.masker)


def desired_jobs(jobs, defaults, set_name):
    """The set's jobs in normal form, each with the set's marker, keyed by name, in input order.

    ``defaults`` fills every option a job leaves unset. Returns ``(present, absent, maskers)``:
    jobs to keep, names to delete, and each job's masker. Raises JobSetError naming the job.
    """
    present, absent, maskers = {}, [], {}
    seen = set()
    for index, entry in enumerate(jobs):
        params = dict((key, value) for key, value in (defaults or {}).items() if value is not None)
        params.update((key, value) for key, value in entry.items() if value is not None)
        name = params.get("name")
        label = "jobs[%d] (%s)" % (index, name)
        if name in seen:
            raise JobSetError("%s: the set declares job %r more than once" % (label, name))
        seen.add(name)
        if params.pop("state", "present") == "absent":
            absent.append(name)
            continue
        metadata = dict(params.get("metadata") or {})
        if MARKER_KEY in metadata:
            raise JobSetError(
                "%s: metadata.%s is the set's ownership marker; the module sets it" % (label, MARKER_KEY)
            )
        metadata[MARKER_KEY] = marker(set_name)
        params["metadata"] = metadata
        try:
            present[name] = build_job(params)
        except JobSpecError as exc:
            raise JobSetError("%s: %s" % (label, exc))
        maskers[name] = JobMasker(params)
    return present, absent, maskers


def parents_first(names, parent_of):
    """``names`` ordered so that a job comes after its parent when both are in ``names``."""
    order, placed = [], set()
    wanted = set(names)

    def place(name, path):
        if name in placed:
            return
        if name in path:
            raise JobSetError("jobs %s form a parent_job cycle" % " -> ".join(path + [name]))
        parent = parent_of.get(name)
        if parent in wanted:
            place(parent, path + [name])
        placed.add(name)
        order.append(name)

    for name in names:
        place(name, [])
    return order


def plan(present, absent, maskers, server_jobs, set_name, purge):
    """What to write, in order, and how the other jobs stand.

    Returns ``(changes, report)``: changes are adds and updates parents first, then removes children
    first; report holds ``untouched``, ``unmanaged`` (server jobs the set neither declares nor owns)
    and ``stale`` (jobs the set owns but no longer declares, left in place without purge).
    """
    current = dict((job["name"], normalise_job(job)) for job in server_jobs)
    missing_parents = sorted(
        "%s (parent of %s)" % (job["parent_job"], name)
        for name, job in present.items()
        if job["parent_job"] and job["parent_job"] not in present and job["parent_job"] not in current
    )
    if missing_parents:
        raise JobSetError("parent_job names a job that is neither in the set nor on the server: %s"
                          % ", ".join(missing_parents))

    writes, untouched = [], []
    parent_of = dict((name, job["parent_job"]) for name, job in present.items())
    for name in parents_first(list(present), parent_of):
        before, after = current.get(name), present[name]
        if before is None:
            writes.append(Change("add", name, None, after, maskers[name]))
        else:
            fields = changed_fields(before, after)
            if fields:
                writes.append(Change("update", name, before, after, maskers[name], fields))
            else:
                untouched.append(name)

    owned = marker(set_name)
    # The set's own jobs that it no longer declares: purge deletes them, else they are reported.
    stale = sorted(
        name for name, job in current.items()
        if name not in present and name not in absent and job["metadata"].get(MARKER_KEY) == owned
    )
    to_remove = [name for name in absent if name in current] + (stale if purge else [])
    server_parent_of = dict((name, job["parent_job"]) for name, job in current.items())
    removes = [
        Change("remove", name, current[name], None, JobMasker({}))
        for name in reversed(parents_first(to_remove, server_parent_of))
    ]
    unmanaged = sorted(
        name for name, job in current.items()
        if name not in present and name not in absent and job["metadata"].get(MARKER_KEY) != owned
    )
    return writes + removes, dict(untouched=sorted(untouched), unmanaged=unmanaged, stale=[] if purge else stale)


def apply(client, changes):
    """Send the changes in order; stop at the first failure.

    Returns ``(applied, failed, not_applied)``: the changes done, the one that failed with its
    error (or None), and the changes never tried.
    """
    applied = []
    for index, change in enumerate(changes):
        try:
            if change.action == "remove":
                client.delete_job(change.name)
            else:
                client.put_job(change.after)
        except DkronError as exc:
            return applied, (change, exc), changes[index + 1:]
        applied.append(change)
    return applied, None, []


def summary(changes):
    """``added``, ``updated`` and ``removed`` job names of a list of changes."""
    result = dict(added=[], updated=[], removed=[])
    for change in changes:
        result[{"add": "added", "update": "updated", "remove": "removed"}[change.action]].append(change.name)
    return result


def previews(changes, count=3):
    """Schedule previews of the jobs being added or updated (check and diff mode)."""
    return dict(
        (change.name, schedule_preview(change.after, count=count))
        for change in changes
        if change.action != "remove" and change.after.get("schedule")
    )
