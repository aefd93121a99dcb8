"""Benchmark: converge time of the lab from bare hosts, and of a second (no-change) run.

Run on demand, not in CI: `make bench-converge` (or `.venv/bin/python bench/converge_lab.py`).
It recreates the lab's hosts, so anything on them is lost. It prints wall times, the tasks changed
per run, and the ratio of the median no-change run to the first, all measured in this one run.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INVENTORY = "inventories/lab"


def run(*command, env=None):
    """Run a command from the checkout's root; returns (seconds, output). Fails loudly."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", **(env or {}))
    env["PATH"] = "%s:%s" % (ROOT / ".venv" / "bin", env["PATH"])
    started = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        sys.exit("%s failed (rc %d):\n%s" % (" ".join(command), completed.returncode, completed.stdout[-4000:]))
    return elapsed, completed.stdout


def changed_tasks(output):
    """Sum of changed=N over the play recap."""
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # One no-change run moves by a fifth from one to the next on a shared machine: the median counts.
    parser.add_argument("--no-change-runs", type=int, default=3, help="converges after the first, each timed")
    arguments = parser.parse_args()
    run("ansible-playbook", "-i", INVENTORY, "playbooks/lab.yml", "-e", "lab_state=absent")
    run("ansible-playbook", "-i", INVENTORY, "playbooks/lab.yml")
    first, first_output = run("ansible-playbook", "-i", INVENTORY, "site.yml")
    print("converge from bare hosts: %6.1f s, %d tasks changed" % (first, changed_tasks(first_output)), flush=True)
    again = []
    for _run in range(arguments.no_change_runs):
        seconds, output = run("ansible-playbook", "-i", INVENTORY, "site.yml")
        again.append(seconds)
        print("no-change converge:       %6.1f s, %d tasks changed" % (seconds, changed_tasks(output)), flush=True)
    median = statistics.median(again)
    print("median no-change / first: %6.2f (median %.1f s)" % (median / first, median))


if __name__ == "__main__":
    main()
