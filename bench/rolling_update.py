"""Benchmark: a rolling update's total time against the sum of single-node restart-to-healthy times.

Run on demand, not in CI: `make bench-rolling` (or `.venv/bin/python bench/rolling_update.py`).
It recreates the lab's hosts (anything on them is lost), converges them on Dkron 4.1.1, then, in
each of a few rounds (--rounds, 3):
- restarts each node alone and times it until the cluster is whole again (the health gate);
- runs playbooks/rolling_update.yml to the other version (4.1.2, then back to 4.1.1, ...) and times
  the whole run.
All figures come from this one run; the ratio is the update's overhead over bare restarts (probes,
gates before and after each step, quiet windows; no job is scheduled, so those are short), and its
median over the rounds is the figure to quote.
"""

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

from converge_lab import INVENTORY, run

# A script, not a test: it sets up the import path pytest.ini gives the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.ansible_runs import update_report  # noqa: E402

SERVERS = ["lab-server-1", "lab-server-2", "lab-server-3"]
ADDRESSES = {"lab-server-1": "172.30.0.11", "lab-server-2": "172.30.0.12", "lab-server-3": "172.30.0.13"}
NODES = ["lab-agent-1"] + SERVERS
# The update's one-off image staging (roles/dkron/tasks/image_source.yml, every host at once, before
# the first step): reported on its own line, apart from the steps that restart nodes.
STAGING_TASKS = (
    "hacron.dkron.dkron : Create the directory for image archives",
    "hacron.dkron.dkron : Copy the image archive to the host",
    "hacron.dkron.dkron : Load the image from the archive",
    "hacron.dkron.dkron : Remove the loaded archive",
)
LOG = Path(__file__).resolve().parent.parent / ".cache" / "logs" / "bench-rolling-update.log"
ARCHIVE = "{{ hacron_cache_dir }}/images/dkron-%s.tar"


def on_version(version):
    return ["-e", "dkron_image=hacron/dkron:%s" % version, "-e", "dkron_image_archive=%s" % (ARCHIVE % version)]


def restart_to_healthy(node):
    """Seconds from a restart of ``node``'s container until the gate sees the cluster whole."""
    gate_host = next(server for server in SERVERS if server != node)
    started = time.monotonic()
    run("ansible", "-i", INVENTORY, node, "-m", "community.docker.docker_container",
        "-a", "name=dkron state=started restart=true")
    # The same gate as the update's: the node alive in the leader's view, the voters, and a
    # restarted server answering with the same leader.
    # The other servers are reached through their API proxies, as the update's checks reach them.
    gate = {"api_url": "http://127.0.0.1:8080", "servers": SERVERS, "nodes": [node], "raft_container": "dkron",
            "server_api_urls": {name: "https://%s" % address for name, address in ADDRESSES.items()},
            "url_username": "admin", "url_password": "lab-only-password", "ca_path": "/etc/hacron/tls/ca.crt"}
    run("ansible", "-i", INVENTORY, gate_host, "-m", "hacron.dkron.dkron_health_gate", "-a", json.dumps(gate))
    return time.monotonic() - started


def task_times(output):
    """Every task of ansible.posix.profile_tasks' summary: (seconds, task) pairs, slowest first."""
    rows = re.findall(r"^(.+?) -+ (\d+\.\d+)s$", output, re.M)
    return sorted(((float(seconds), task.strip()) for task, seconds in rows), reverse=True)


def rolling_update(version):
    """One timed rolling update to ``version``: (seconds, staging seconds, order, leaders, task times)."""
    total, output = run("ansible-playbook", "-i", INVENTORY, "playbooks/rolling_update.yml", *on_version(version),
                        env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                             "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"})
    LOG.parent.mkdir(parents=True, exist_ok=True)
    LOG.write_text(output)
    order, leaders = update_report(output, r"lab-(?:server|agent)-\d+")
    times = task_times(output)
    staged = dict((task, seconds) for seconds, task in times if task in STAGING_TASKS)
    # None of them where the image is on the hosts already (--reuse-lab, or a later round).
    if staged and len(staged) != len(STAGING_TASKS):
        sys.exit("no time in profile_tasks' summary for %s: renamed in image_load.yml?"
                 % ", ".join(sorted(set(STAGING_TASKS) - set(staged))))
    return total, sum(staged.values()), order, leaders, times


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse-lab", action="store_true",
                        help="keep the lab's hosts (a rerun): only converge them back on 4.1.1")
    # The figures move by a third from one run to the next on a shared machine: the medians count.
    parser.add_argument("--rounds", type=int, default=3,
                        help="the single restarts and an update, this many times in turn, 4.1.1 -> 4.1.2 -> 4.1.1 ...")
    return parser.parse_args()


def main():
    options = arguments()
    rounds = options.rounds
    if not options.reuse_lab:
        run("ansible-playbook", "-i", INVENTORY, "playbooks/lab.yml", "-e", "lab_state=absent")
        run("ansible-playbook", "-i", INVENTORY, "playbooks/lab.yml")
    run("ansible-playbook", "-i", INVENTORY, "site.yml", *on_version("4.1.1"))

    ratios, updates, restart_sums = [], [], []
    for number in range(rounds):
        source, target = ("4.1.1", "4.1.2") if number % 2 == 0 else ("4.1.2", "4.1.1")
        singles = dict((node, restart_to_healthy(node)) for node in NODES)
        restarts = sum(singles.values())
        total, staging, order, leaders, times = rolling_update(target)
        ratios.append((total - staging) / restarts)
        updates.append(total - staging)
        restart_sums.append(restarts)
        print("round %d: single restarts %s: sum %.1f s" % (
            number + 1, ", ".join("%s %.1f" % (node, seconds) for node, seconds in singles.items()), restarts))
        print("  rolling update %s -> %s: %.1f s (%s), order %s, the leader at each step %s" % (
            source, target, total,
            "of which the one-off image staging %.1f s" % staging if staging else "no staging: the image was on the hosts",
            ", ".join(order), ", ".join(leaders)))
        print("  update without the staging / sum of restarts: %.2f" % ratios[-1])
    print("median over %d rounds: update %.1f s, sum of restarts %.1f s, ratio %.2f (target <= 1.5)"
          % (rounds, statistics.median(updates), statistics.median(restart_sums), statistics.median(ratios)))
    in_tasks = sum(seconds for seconds, task in times)
    print("last update: the tasks' sum (ansible.posix.profile_tasks) %.1f s, so %.1f s outside tasks (start, plays,"
          " includes)" % (in_tasks, total - in_tasks))
    print("its slowest tasks (the whole run in %s):" % LOG)
    for seconds, task in times[:25]:
        print("  %6.1f s  %s" % (seconds, task))


if __name__ == "__main__":
    main()
