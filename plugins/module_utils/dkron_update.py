# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three looks a rolling update takes at a live cluster, over one client.

- ``plan_update``: which nodes are still to update, in order (agents, followers, the leader last).
- ``wait_until_whole``: the health gate, a bounded wait until the cluster is whole.
- ``wait_for_quiet``: a bounded wait until no job is due for a margin.

dkron_update_plan, dkron_health_gate and dkron_quiet_window each run one of them;
dkron_update_step runs all three before a step, in one module run. A refusal raises
``UpdateRefused``, which ``run_module`` turns into ``fail_json`` with its details.
The pure parts (orders, health problems, due times) are in dkron_rolling.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from datetime import timedelta

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_api import DkronError
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_module import RAFT_CLI_SPEC, raft_voters, run_module
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import (
    busy_seconds,
    departure_problems,
    health_problems,
    member_index,
    quiet_start,
    update_order,
    utc_now,
    version_skew,
    version_tuple,
)


# Argument specs of the options the doc fragment rolling_update documents.
PLAN_SPEC = dict(
    servers=dict(type="list", elements="str", required=True),
    agents=dict(type="list", elements="str", default=[]),
    pending=dict(type="list", elements="str", required=True),
    target_version=dict(type="str", required=True),
)
GATE_WAIT_SPEC = dict(
    server_api_urls=dict(type="dict", default={}),
    wait_timeout=dict(type="float", default=120.0),
    wait_delay=dict(type="float", default=2.0),
)


class UpdateRefused(Exception):
    """A check that stops the update; ``details`` go into the module's failure result."""

    def __init__(self, msg, **details):
        super(UpdateRefused, self).__init__(msg)
        self.details = details


def plan_update(client, servers, agents, pending, target_version, full_stop=False):
    """The plan: ``order``, ``next``, ``leader``, ``versions`` (alive members), ``strategy`` and
    ``down`` (pending nodes that are not alive members now)."""
    if version_tuple(target_version) is None:
        raise UpdateRefused("target_version %r is not a Dkron version such as 4.1.2; set dkron_version when the "
                            "image's tag is not one" % target_version)
    unknown = sorted(set(pending) - set(servers) - set(agents))
    if unknown:
        raise UpdateRefused("pending nodes %s are neither in servers nor in agents" % unknown)

    members = client.members()
    leader = client.leader()
    if leader is None:
        raise UpdateRefused("the cluster has no leader: no node is updated until it has one")

    versions = dict((m["Name"], (m.get("Tags") or {}).get("version")) for m in members
                    if m.get("statusText") == "alive")
    skew = version_skew(versions, target_version)
    strategy = "rolling"
    if skew and pending:
        if not full_stop:
            raise UpdateRefused("refused: %s. Stop the whole cluster for this upgrade instead "
                                "(dkron_update_strategy=full_stop)." % skew, versions=versions)
        strategy = "full_stop"

    down = [name for name in pending if name not in versions]
    order = update_order(servers, agents, pending, leader["Name"], down=down)
    return dict(order=order, next=order[0] if order else None, leader=leader["Name"], versions=versions,
                strategy=strategy, down=down)


def run_gate_module(run, argument_spec):
    """``run_module`` for a module that waits on the health gate: with the options of doc fragments
    raft_cli and rolling_update.gate, and UpdateRefused as a failure."""
    spec = dict(RAFT_CLI_SPEC, **GATE_WAIT_SPEC)
    spec.update(argument_spec)
    run_module(run, spec, errors=(UpdateRefused,), mutually_exclusive=[("raft_container", "dkron_binary")])


def gate_from_params(params, **checks):
    """The Gate of a module run by run_gate_module: its wait and where it reads, from the module's
    options; what it checks (servers and the rest of Gate's arguments), from ``checks``."""
    return Gate(server_api_urls=params["server_api_urls"],
                read_voters=bool(params["raft_container"] or params["dkron_binary"]),
                wait_timeout=params["wait_timeout"], wait_delay=params["wait_delay"], **checks)


class Gate(object):
    """What the health gate checks; the fields are the options of dkron_health_gate."""

    def __init__(self, servers, excluding=(), nodes=(), departed=(), version=None, server_api_urls=None,
                 read_voters=False, wait_timeout=120.0, wait_delay=2.0, context=""):
        self.servers = servers
        self.excluding = list(excluding)
        self.nodes = list(nodes)
        self.departed = list(departed)
        self.version = version
        self.server_api_urls = server_api_urls or {}
        self.read_voters = read_voters
        self.wait_timeout = wait_timeout
        self.wait_delay = wait_delay
        self.context = context


def check_once(module, client, gate):
    """One look at the cluster: (leader name, voters, problems)."""
    try:
        leader = client.leader()
        if leader is None:
            return None, None, ["no leader"]
        # The leader's own view of the members: a server cut off from the cluster would show a
        # frozen, all-alive list of its own.
        leader_url = gate.server_api_urls.get(leader["Name"])
        members = (client.at(leader_url) if leader_url else client).members()
        leader_member = member_index(members).get(leader["Name"], leader)
    except DkronError as exc:
        return None, None, [exc.message]
    voters, problem = (None, None)
    if gate.read_voters:
        voters, problem = raft_voters(module, (leader_member.get("Tags") or {}).get("rpc_addr"))
    problems = health_problems(members, leader["Name"], gate.servers, voters=voters, excluding=gate.excluding,
                               nodes=gate.nodes, version=gate.version)
    if problem:
        problems.append(problem)
    problems += nodes_disagreeing(client, gate, leader["Name"])
    if gate.departed:
        problems += departure_problems(server_views(client, gate), gate.departed)
    return leader["Name"], voters, problems


def server_views(client, gate):
    """Each server's member list by name, None where it does not answer (the departed excepted)."""
    views = {}
    for name, url in gate.server_api_urls.items():
        if name in gate.departed:
            continue
        try:
            views[name] = client.at(url).members()
        except DkronError:
            views[name] = None
    return views


def nodes_disagreeing(client, gate, leader):
    """Servers among the gate's nodes that answer with another leader than the cluster's (or none)."""
    problems = []
    for name in gate.nodes:
        url = gate.server_api_urls.get(name)
        if url is None:
            continue
        try:
            seen = client.at(url).leader()
        except DkronError as exc:
            problems.append("%s does not answer: %s" % (name, exc.message))
            continue
        if (seen or {}).get("Name") != leader:
            problems.append("%s sees leader %s, not %s" % (name, (seen or {}).get("Name"), leader))
    return problems


def check_pauses(longest, first=0.5, brisk=5.0):
    """The pauses between a wait's checks: ``first`` for about ``brisk`` seconds, then ``longest``.
    Most waits last a second or two (a restarted node, an election): pauses of ``longest`` would
    overshoot them by up to that much, and a long wait need not check more often than that."""
    for _number in range(int(brisk / first)):
        yield min(first, longest)
    while True:
        yield longest


def wait_until_whole(module, client, gate):
    """Wait up to ``gate.wait_timeout`` (no wait in check mode) until the cluster is whole:
    ``dict(leader, waited, problems=[], voters when read)``, or UpdateRefused naming every problem."""
    # Few retries per request: the gate's own loop is the wait.
    client = client.with_retries(1)
    started = time.monotonic()
    deadline = started + (0 if module.check_mode else gate.wait_timeout)
    pauses = check_pauses(gate.wait_delay)
    while True:
        leader, voters, problems = check_once(module, client, gate)
        waited = round(time.monotonic() - started, 1)
        if not problems:
            result = dict(leader=leader, waited=waited, problems=[])
            if voters is not None:
                result["voters"] = voters
            return result
        if time.monotonic() >= deadline:
            break
        time.sleep(next(pauses))
    prefix = gate.context + ": " if gate.context else ""
    raise UpdateRefused("%sthe cluster is not whole after %.0f s: %s" % (prefix, waited, "; ".join(problems)),
                        problems=problems, waited=waited, leader=leader)


def _quiet_moment(client, margin, settle, remaining):
    """``(now, quiet moment or None, busy seconds, unknown-phase jobs)`` from the jobs as they are now,
    looking ``remaining`` seconds ahead for the moment."""
    now = utc_now()
    horizon = max(remaining, 0) + margin + settle + 1
    busy, unknown = busy_seconds(client.list_jobs(), now, horizon)
    start = quiet_start(busy, now, margin, settle=settle, horizon=remaining)
    return now, start, busy, unknown


def wait_for_quiet(client, margin, settle=1.0, wait_timeout=120.0, check_mode=False):
    """Wait until a moment after which no job is due for ``margin`` seconds (no wait in check mode):
    ``dict(waited, quiet_from, next_due, unknown_phase)``, or UpdateRefused at once when no such
    moment comes within ``wait_timeout``. The jobs are read again after each sleep."""
    started = time.monotonic()
    while True:
        remaining = wait_timeout - (time.monotonic() - started)
        now, start, busy, unknown = _quiet_moment(client, margin, settle, remaining)
        if start is None:
            frequent = sorted(set(name for names in busy.values() for name in names))
            raise UpdateRefused("no %.0f s without a due job within %.0f s; jobs due in that time: %s. Lower the "
                                "margin or raise the wait" % (margin, wait_timeout, frequent))
        if check_mode or start <= now + timedelta(seconds=0.2):
            break
        time.sleep((start - now).total_seconds())

    after = sorted(moment for moment in busy if moment > start)
    next_due = dict(at=after[0].isoformat(), jobs=sorted(busy[after[0]])) if after else None
    return dict(waited=round(time.monotonic() - started, 1), quiet_from=start.isoformat(), next_due=next_due,
                unknown_phase=unknown)
