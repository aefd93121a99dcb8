# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a rolling update decides, as plain functions over Dkron's API answers.

- ``update_order``: agents first, then the followers, the leader last.
- ``version_skew``: refuses a rolling update across the 4.0.8/4.0.9 gRPC break.
- ``health_problems``: what stands between the cluster and "whole" (the health gate).
- ``departure_problems``: which servers still see a stopped node alive (the gate's ``departed``).
- ``raft_removal``: which Raft voters are no longer servers, and whether removing them is safe.
- ``busy_seconds`` and ``quiet_start``: when no job is due for a while (the leader's quiet window).

dkron_update (the same module_utils) asks the cluster with them; the modules dkron_update_plan,
dkron_health_gate, dkron_quiet_window and dkron_update_step are thin wrappers over it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timedelta, timezone as fixed_offset

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import job_runs
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import JobSpecError

# v4.0.9 renamed the gRPC services: nodes on either side of this line cannot talk to each other.
GRPC_BREAK = (4, 0, 9)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def version_tuple(text):
    """``(major, minor, patch)`` of a Dkron version such as ``4.1.2`` or ``v4.0.9-rc1``; None otherwise."""
    match = _VERSION.match(text or "")
    return tuple(int(part) for part in match.groups()) if match else None


def version_skew(current_versions, target):
    """Why a rolling update from ``current_versions`` (node -> version) to ``target`` is unsafe, or None."""
    target_tuple = version_tuple(target)
    other_side = sorted(
        name for name, version in current_versions.items()
        if version_tuple(version) is not None
        and (version_tuple(version) >= GRPC_BREAK) != (target_tuple >= GRPC_BREAK)
    )
    if not other_side:
        return None
    return (
        "%s run %s, and the target is %s: Dkron 4.0.9 renamed its gRPC services, so nodes on either side "
        "of 4.0.8/4.0.9 still form one cluster but every run a leader hands to a node of the other side "
        "fails (\"unknown service types.Agent\"): a rolling update would fail jobs silently"
        % (", ".join(other_side), ", ".join(sorted(set(current_versions[name] for name in other_side))), target)
    )


def member_index(members):
    """Serf members of ``GET /v1/members`` by name."""
    return dict((member["Name"], member) for member in members)


def update_order(servers, agents, pending, leader, down=()):
    """The pending nodes in update order: those down, then agents, then the followers, the leader last.

    A pending node that is down (an earlier update failed on it) goes first: restarting it costs
    no availability and makes the cluster whole again before anything else is touched.
    ``servers`` and ``agents`` are the inventory's names (a node that is down is still known by
    them); within each class the order is by name, so that a rerun is predictable.
    """
    pending = set(pending)
    first = sorted(name for name in pending if name in down and name != leader)
    agents_next = sorted(name for name in agents if name in pending and name not in first)
    followers = sorted(name for name in servers if name in pending and name != leader and name not in first)
    last = [leader] if leader in pending else []
    return first + agents_next + followers + last


def raft_peers(output):
    """The rows of ``dkron raft list-peers``: a header, then "Node ID Address State Voter" rows.

    Each row as a dict with those keys (``voter`` a bool). The ID is the node name; the Node column
    reads "(unknown)" while Raft holds an old address. The one parser: the tests import it too.
    """
    peers = []
    for line in output.splitlines()[1:]:
        columns = line.split()
        if len(columns) == 5:
            node, node_id, address, state, voter = columns
            peers.append(dict(node=node, id=node_id, address=address, state=state, voter=voter == "true"))
    return peers


def parse_raft_peers(output):
    """The voters' IDs (node names), sorted, from ``dkron raft list-peers``."""
    return sorted(peer["id"] for peer in raft_peers(output) if peer["voter"])


def health_problems(members, leader, servers, voters=None, nodes=(), version=None, excluding=()):
    """Why the cluster is not whole, as a list of sentences (empty when it is).

    Whole means: a leader; every server in ``servers`` alive in the leader's member list; the Raft
    voters exactly ``servers`` (when ``voters`` was read); every node in ``nodes`` alive and, when
    ``version`` is given, running it. Servers in ``excluding`` need not be alive.
    """
    problems = []
    if leader is None:
        problems.append("no leader")
    by_name = member_index(members)

    def status_of(name):
        member = by_name.get(name)
        return member.get("statusText") if member else "not a member"

    for name in sorted(servers):
        if status_of(name) != "alive" and name not in excluding:
            problems.append("server %s is %s" % (name, status_of(name)))
    # An excluded server is down; the leader may have dropped it from Raft meanwhile (Dkron removes
    # a server that stays failed), and then only its update brings it back: it need not be a voter.
    if voters is not None and (set(servers) - set(excluding) - set(voters) or set(voters) - set(servers)):
        problems.append("Raft voters are %s, expected %s%s" % (
            sorted(voters), sorted(servers), " (%s may be missing)" % sorted(excluding) if excluding else ""))
    for name in nodes:
        status = status_of(name)
        if status != "alive" and name not in servers:
            problems.append("%s is %s" % (name, status))
        running = (by_name.get(name, {}).get("Tags") or {}).get("version")
        if version and status == "alive" and running != version:
            problems.append("%s runs version %s, expected %s" % (name, running, version))
    return problems


def departure_problems(views, departed):
    """Which servers still count a node of ``departed`` alive, as sentences (empty when none does).

    ``views`` is each server's member list by name, or None for a server that did not answer: a
    server that does not answer counts nobody alive.
    """
    problems = []
    for server in sorted(views):
        alive = set(name for name, member in member_index(views[server] or []).items() if member.get("statusText") == "alive")
        for name in sorted(set(departed) & alive - {server}):
            problems.append("%s still sees %s alive" % (server, name))
    return problems


def quorum(voters):
    """How many of ``voters`` Raft servers must agree: a majority."""
    return voters // 2 + 1


def raft_removal(voters, servers, alive, require_stopped=True):
    """The voters to remove from Raft (those not in ``servers``), and why not, or None when it is safe.

    Safe means: the servers that stay, alive, are a quorum of the voters as they are now, so that no
    step of the removal depends on a server that is going away; and (``require_stopped``) every voter
    to remove is down, since the leader's reconcile adds a running server back. Planning before the
    servers to remove are stopped checks the quorum alone.
    """
    remove = sorted(set(voters) - set(servers))
    if not remove:
        return [], None
    staying = sorted(set(voters) & set(servers) & set(alive))
    needed = quorum(len(voters))
    if len(staying) < needed:
        return remove, ("removing %s from the %d voters would leave %d alive (%s), fewer than the %d a quorum "
                        "of %d needs: remove at most %d server(s) per run, with the others alive"
                        % (", ".join(remove), len(voters), len(staying), ", ".join(staying) or "none", needed,
                           len(voters), len(voters) - needed))
    running = sorted(set(remove) & set(alive))
    if running and require_stopped:
        return remove, ("%s %s still alive: stop Dkron there first (move the host to the removed servers' "
                        "group)" % (", ".join(running), "is" if len(running) == 1 else "are"))
    return remove, None


# --- the quiet window ----------------------------------------------------------------------------
def busy_seconds(jobs, start, horizon):
    """Due times of ``jobs`` from ``start`` for ``horizon`` seconds: ``({time: [job names]}, unknown)``.

    ``unknown`` names the ``@every`` jobs whose next run the server does not know yet (they have not
    run since the scheduler started), which the window cannot plan around.
    """
    end = start + timedelta(seconds=horizon)
    busy, unknown = {}, []
    for job in jobs:
        try:
            runs, known = job_runs(job, start, end)
        except JobSpecError:
            continue  # a schedule the server holds but this check refuses is the server's business
        if not known:
            unknown.append(job["name"])
        for run in runs:
            busy.setdefault(run, []).append(job["name"])
    return busy, sorted(unknown)


def quiet_start(busy, now, margin, settle=1.0, horizon=None):
    """The earliest time from ``now`` after which no job is due for ``margin`` seconds, or None.

    A start just after a run is as good as any other: ``settle`` seconds after it, so that the run
    has been handed to its node.
    """
    due = sorted(busy)
    candidates = [now] + [moment + timedelta(seconds=settle) for moment in due if moment + timedelta(seconds=settle) > now]
    limit = now + timedelta(seconds=horizon) if horizon is not None else None
    for candidate in sorted(candidates):
        if limit is not None and candidate > limit:
            return None
        window_end = candidate + timedelta(seconds=margin)
        if not any(candidate <= moment <= window_end for moment in due):
            return candidate
    return None


def utc_now():
    return datetime.now(fixed_offset.utc)
