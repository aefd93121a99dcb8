"""Helpers shared by the verifier's tests: other hosts of the scenario, and Dkron's API."""

import functools
import json
import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import testinfra
import yaml

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import parse_raft_peers
from support import ansible_runs
from support.topology import molecule_groups

ROOT = Path(__file__).resolve().parents[3]
# The scenario's prefix and network, from the environment as .config/molecule/config.yml reads them
# (scenarios that run side by side get their own prefix and /24), and its hosts by group, from the
# inventory molecule wrote for it.
PREFIX = os.environ.get("HACRON_MOLECULE_PREFIX", "molecule")
NET = os.environ.get("HACRON_MOLECULE_NET", "172.31.0")
GROUPS = molecule_groups()
SERVERS = GROUPS["dkron_servers"]
AGENT = GROUPS.get("dkron_agents", [None])[0]


def _address(name):
    """The address the scenarios give a host: <net>.1N for server-N, <net>.2N for agent-N."""
    kind, index = name.rsplit("-", 2)[-2:]
    return "%s.%d" % (NET, (10 if kind == "server" else 20) + int(index))


ADDRESSES = {name: _address(name) for hosts in GROUPS.values() for name in hosts}

_API_CALL = """
import json, sys, urllib.request, urllib.error
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
request = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                                 headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=10) as answer:
        print(json.dumps({"status": answer.status, "body": answer.read().decode()}))
except urllib.error.HTTPError as error:
    print(json.dumps({"status": error.code, "body": error.read().decode()}))
except OSError as error:
    print(json.dumps({"status": None, "body": str(error)}))
"""


def peer(name):
    """Another host of the scenario, through molecule's inventory."""
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))


def api(server, path, method="GET", body=None):
    """Call Dkron's API on ``server`` from that host itself, where it listens on loopback only.

    Returns (status, decoded JSON body or text); status is None when nothing answered.
    """
    host = peer(server)
    url = "http://127.0.0.1:8080%s" % path
    payload = json.dumps(body) if body is not None else ""
    answer = json.loads(host.check_output("python3 -c %s %s %s %s", _API_CALL, method, url, payload))
    try:
        return answer["status"], json.loads(answer["body"])
    except ValueError:
        return answer["status"], answer["body"]


def wait_for(check, timeout, interval=1.0, what="condition"):
    """Poll ``check`` until it returns a truthy value; bounded by ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("%s not met within %d s (last: %r)" % (what, timeout, last))


@functools.lru_cache(maxsize=None)
def network_mode():
    """The scenario's dkron_network_mode (host unless its inventory says overlay)."""
    return peer(SERVERS[0]).ansible.get_variables().get("dkron_network_mode", "host")


def container(name):
    """The Dkron container's name on host ``name`` (unique in the Swarm in overlay mode)."""
    return "dkron-%s" % name if network_mode() == "overlay" else "dkron"


def rpc_address(name):
    """Where Dkron's gRPC listens on ``name``: its container on the overlay, else the host."""
    return container(name) if network_mode() == "overlay" else ADDRESSES[name]


def overlay_ip(name):
    """The address the container on ``name`` has on the overlay network."""
    networks = json.loads(peer(name).check_output(
        "docker inspect --format '{{json .NetworkSettings.Networks}}' %s", container(name)))
    return networks["hacron-dkron"]["IPAddress"]


def leader_name(server):
    status, body = api(server, "/v1/leader")
    return body.get("Name") if status == 200 and isinstance(body, dict) else None


def voters(server=SERVERS[0]):
    listing = peer(server).run(
        "docker exec %s dkron raft list-peers --rpc-addr %s:6868", container(server), rpc_address(server))
    return parse_raft_peers(listing.stdout) if listing.rc == 0 else []


def run_site(*inventories, tags=None):
    """Run site.yml on the scenario's hosts, with further inventory sources layered over it; only
    the roles named in tags when given (site.yml tags each role with its name)."""
    arguments = ["--tags", ",".join(tags)] if tags else []
    for inventory in inventories:
        arguments += ["-i", str(inventory)]
    return run_playbook("site.yml", *arguments)


# Only the summary after the recap: the tests read the task lines, which stay as they are.
PROFILE_ENV = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_SUMMARY_ONLY": "true",
               "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "25"} if os.environ.get("HACRON_PROFILE_TASKS") == "1" else {}


def run_playbook(playbook, *arguments):
    """Run a playbook of this project on the scenario's hosts; further ansible-playbook arguments.
    Each run's output is also kept in .cache/logs/playbooks/ (with HACRON_PROFILE_TASKS=1, ending
    with its slowest tasks), to see where a scenario's time goes."""
    started = time.strftime("%H%M%S")
    # Plain text: the tests read the output (molecule's environment forces colours on).
    run = ansible_runs.run_playbook(ROOT / playbook, os.environ["MOLECULE_INVENTORY_FILE"], timeout=900,
                                    arguments=arguments, env=dict(ANSIBLE_FORCE_COLOR="0", **PROFILE_ENV))
    logs = ROOT / ".cache" / "logs" / "playbooks"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / ("%s-%s-%s.log" % (PREFIX, started, Path(playbook).stem))).write_text(
        "# %s\n%s\n%s" % (" ".join(arguments), run.stdout, run.stderr))
    return run


def cluster_views(servers):
    """What each server sees (leader, members and their status, the last executions): for failure messages."""
    lines = []
    for server in servers:
        members = api(server, "/v1/members")[1]
        seen = ["%s=%s@%s" % (m.get("Name"), m.get("statusText"), m.get("Addr")) for m in members] \
            if isinstance(members, list) else members
        lines.append("%s: leader %s, members %s" % (server, leader_name(server), seen))
        logs = peer(server).run("docker logs --tail 15 %s 2>&1", container(server)).stdout
        lines.append("%s: last log lines:\n%s" % (server, logs))
    return "\n".join(lines)


def failed_tasks(stdout):
    """The failed tasks of an ansible-playbook run's output, with their task headers, and its recap."""
    blocks = stdout.split("\nTASK ")
    failed = ["TASK " + block for block in blocks if "fatal:" in block or "FAILED!" in block]
    return "\n".join(failed) + "\n" + stdout[stdout.rfind("PLAY RECAP"):]


def update_report(stdout):
    """The update report's nodes in the order taken and the leader at each step
    (ansible_runs.update_report), for this scenario's hosts."""
    return ansible_runs.update_report(stdout, re.escape(PREFIX) + r"-(?:server|agent)-\d+")


def assert_leader_last(order, leaders):
    """No node was taken while it led, but the last one. (The last one need not have led: when
    leadership moves to a node already updated, the old leader is a follower by its turn.)"""
    assert len(order) == len(leaders) == len(set(order)), (order, leaders)
    assert all(node != leader for node, leader in zip(order[:-1], leaders[:-1])), (order, leaders)


def alive_members(server):
    """Names of the members ``server`` sees alive, sorted."""
    status, members = api(server, "/v1/members")
    return sorted(m["Name"] for m in members if m.get("statusText") == "alive") if status == 200 else []


def started_at():
    """When each node's Dkron container last started (RFC 3339 strings, comparable as text)."""
    return {name: peer(name).check_output("docker inspect --format '{{.State.StartedAt}}' dkron")
            for name in SERVERS + [AGENT]}


def containers():
    """Each node's Dkron container as (id, Docker's restart count). The roles re-create a container
    to change it (a new id); Docker's restart policy brings a crashed Dkron back in the same one."""
    states = {}
    for name in SERVERS + [AGENT]:
        container_id, restarts = peer(name).check_output(
            "docker inspect --format '{{.Id}} {{.RestartCount}}' %s", container(name)).split()
        states[name] = (container_id, int(restarts))
    return states


def recreated(before, after):
    """The nodes whose container was re-created between two containers() readings. Dkron crashes
    that Docker restarted in between are printed with the container's last log lines: not the
    playbook's doing, but worth seeing."""
    for name in sorted(after):
        if after[name][0] == before[name][0] and after[name][1] > before[name][1]:
            logs = peer(name).run("docker logs --tail 15 %s 2>&1", container(name)).stdout
            print("\nDkron on %s crashed and Docker restarted it (%d times):\n%s"
                  % (name, after[name][1] - before[name][1], logs))
    return sorted(name for name in after if after[name][0] != before[name][0])


def versions(server=SERVERS[0]):
    """The Dkron version of every alive member, as ``server`` sees them."""
    status, members = api(server, "/v1/members")
    assert status == 200, members
    return {member["Name"]: member["Tags"]["version"] for member in members if member["statusText"] == "alive"}


# Run on a host, or in a throwaway container: how each TCP port of one address answers, and UDP
# datagrams sent to the others. A dropped SYN times out; a port with no listener is refused. The
# ports are tried at once, so that the timeouts of dropped ones do not add up.
PROBE = """
import json, socket, sys, threading
address, tcp_ports, udp_ports = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
answers = {}
def try_port(port):
    probe = socket.socket()
    probe.settimeout(3)
    try:
        probe.connect((address, port))
        answers[port] = "open"
    except ConnectionRefusedError:
        answers[port] = "refused"
    except socket.timeout:
        answers[port] = "no answer"
    except OSError as error:
        answers[port] = "error %s" % error.errno
    finally:
        probe.close()
threads = [threading.Thread(target=try_port, args=(port,)) for port in tcp_ports]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
for port in udp_ports:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(b"hacron firewall probe", (address, port))
    sender.close()
print(json.dumps(answers))
"""


def probe_arguments(address, tcp_ports, udp_ports=()):
    return [address, json.dumps(list(tcp_ports)), json.dumps(list(udp_ports))]


def probe_from_host(name, address, tcp_ports, udp_ports=()):
    arguments = " ".join(shlex.quote(argument) for argument in probe_arguments(address, tcp_ports, udp_ports))
    answers = json.loads(peer(name).check_output("python3 -c %s %s" % (shlex.quote(PROBE), arguments)))
    return {int(port): answer for port, answer in answers.items()}


def reconcile_timer_playbook(work, control_host, inventory_vars, **role_vars):
    """A playbook that applies the reconcile_timer role to ``control_host``, with the collection
    built from the checkout and an inventory of its own: the first server, reached through its proxy
    as the scenario's API user, trusting the CA the api_proxy role put on every host, and
    ``inventory_vars`` (the jobs). ``role_vars`` are the role's settings."""
    subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(work), str(ROOT)],
                   check=True, capture_output=True, text=True, cwd=ROOT)
    archive = next(work.glob("hacron-dkron-*.tar.gz"))
    inventory = work / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"dkron_servers": {"hosts": {SERVERS[0]: {}}}}))
    (inventory / "group_vars" / "all.yml").write_text(yaml.safe_dump(dict({
        "dkron_api_url": "https://%s" % ADDRESSES[SERVERS[0]],
        "dkron_api_username": "molecule",
        "dkron_api_password": "molecule-lab-password",
        "dkron_api_controller_ca": "/etc/hacron/tls/ca.crt",
    }, **inventory_vars)))
    playbook = work / "timer.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Reconcile timer on the control host",
        "hosts": control_host,
        "become": True,
        "gather_facts": False,
        "roles": [dict({"role": "hacron.dkron.reconcile_timer",
                        "reconcile_timer_collection_archive": str(archive),
                        "reconcile_timer_inventory_src": str(inventory)}, **role_vars)],
    }]))
    return playbook
