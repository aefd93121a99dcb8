"""Benchmark: dkron_job_set on 1,000 jobs against its floor and against a loop of dkron_job.

Run on demand, not in CI: `make bench-jobs` (or `.venv/bin/python bench/job_set.py [--jobs N]`).
It starts a real three-server Dkron cluster on loopback (tests/support/dkron_loopback.py) and measures, in
this one run:

- floor: the same creates as plain POSTs from one keep-alive requests session in a Python loop;
- dkron_job_set creating every job from empty (the task's own time from the callback, and the
  whole command), in --rounds rounds alternating with the floor, each from an empty job store and
  each round starting with the other one, so that neither always meets a warmer or fuller server;
  the medians are compared;
- a rerun with no change, a rerun with 10 changed, each through ansible-playbook;
- the requests each set run makes, counted by a small forwarding proxy in a separate run;
- an Ansible loop of dkron_job over a sample of jobs, scaled to the full count.

It prints a table and the ratios the issue sets as targets.
"""

import argparse
import collections
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# A script, not a test: it sets up the import path pytest.ini gives the tests.
sys.path[:0] = [str(ROOT / ".cache" / "collections"), str(ROOT / "tests")]

from support.dkron_loopback import LoopbackCluster  # noqa: E402

ANSIBLE_ENV = dict(
    ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
    ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
    ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    ANSIBLE_LOCALHOST_WARNING="0",
)


def job(index, schedule="@every 1h"):
    return {
        "name": "bench-%04d" % index,
        "schedule": schedule,
        "timezone": "Europe/Berlin",
        "executor": "shell",
        "executor_config": {"command": "echo %d" % index, "shell": "true"},
        "tags": {"role": "worker:1"},
        "metadata": {"group": "g%d" % (index % 10)},
    }


def wipe(api_url):
    session = requests.Session()
    for existing in session.get(api_url + "/v1/jobs", timeout=60).json():
        session.delete(api_url + "/v1/jobs/" + existing["name"], timeout=30).raise_for_status()


def floor(api_url, jobs):
    """The creates as plain POSTs from one keep-alive session; seconds."""
    session = requests.Session()
    started = time.monotonic()
    for one in jobs:
        session.post(api_url + "/v1/jobs", json=one, timeout=30).raise_for_status()
    return time.monotonic() - started


def _task_seconds(task):
    duration = task["task"]["duration"]
    start, end = (datetime.fromisoformat(duration[key].replace("Z", "+00:00")) for key in ("start", "end"))
    return (end - start).total_seconds()


def playbook(workdir, name, tasks, variables):
    """Run a one-play playbook on localhost; returns (task seconds, whole seconds, results)."""
    (workdir / ("%s.json" % name)).write_text(json.dumps(variables))
    path = workdir / ("%s.yml" % name)
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "vars_files": ["%s.json" % name],
                                 "tasks": tasks}]))
    started = time.monotonic()
    completed = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(path)], cwd=ROOT,
                               env=dict(os.environ, **ANSIBLE_ENV), capture_output=True, text=True, timeout=3600,
                               check=False)
    whole = time.monotonic() - started
    try:
        output = json.loads(completed.stdout)
    except ValueError:
        sys.exit("%s printed no JSON:\n%s\n%s" % (name, completed.stdout[-3000:], completed.stderr[-3000:]))
    tasks_run = output["plays"][0]["tasks"]
    results = [task["hosts"]["localhost"] for task in tasks_run]
    failed = [result for result in results if result.get("failed")]
    if failed:
        sys.exit("%s failed: %s" % (name, json.dumps(failed[0])[:3000]))
    return sum(_task_seconds(task) for task in tasks_run), whole, results


def set_task(api_url):
    return {"hacron.dkron.dkron_job_set": {"api_url": api_url, "set_name": "bench", "jobs": "{{ jobs }}"}}


class CountingProxy:
    """Forwards HTTP to Dkron and counts the requests by method and path kind."""

    def __init__(self, target):
        self.counts = collections.Counter()
        proxy = self
        session = requests.Session()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = "list" if self.path.split("?")[0] == "/v1/jobs" and self.command == "GET" else "other"
                proxy.counts["%s %s" % (self.command, kind if self.command == "GET" else "write")] += 1
                answer = session.request(self.command, target + self.path, data=body or None,
                                         headers={"Content-Type": self.headers.get("Content-Type", "application/json")})
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=100, help="jobs in the dkron_job loop sample")
    parser.add_argument("--rounds", type=int, default=4, help="floor/create rounds, alternating which goes first")
    options = parser.parse_args()

    jobs = [job(index) for index in range(options.jobs)]
    changed = [dict(one) for one in jobs]
    for one in changed[:10]:
        one["schedule"] = "@every 2h"

    workdir = Path(tempfile.mkdtemp(prefix="hacron-bench-"))
    cluster = LoopbackCluster(workdir / "dkron", size=3).start(timeout=180)
    try:
        api_url = cluster.leader().api_url
        print("three-server Dkron on loopback ready; %d jobs, leader %s" % (options.jobs, cluster.leader().name))

        floors, creates, create_wholes = [], [], []
        for round_index in range(options.rounds):
            order = ("floor", "set") if round_index % 2 == 0 else ("set", "floor")
            for which in order:
                wipe(api_url)
                if which == "floor":
                    floors.append(floor(api_url, jobs))
                else:
                    task_seconds, whole, _results = playbook(workdir, "create", [set_task(api_url)], {"jobs": jobs})
                    creates.append(task_seconds)
                    create_wholes.append(whole)
            print("round %d (%s first): floor %.2f s, set %.2f s, ratio %.2f"
                  % (round_index + 1, order[0], floors[-1], creates[-1], creates[-1] / floors[-1]))
        floor_seconds, create, create_whole = (statistics.median(values) for values in (floors, creates, create_wholes))
        if order[-1] == "floor":  # the reruns below start from the set's own jobs
            wipe(api_url)
            playbook(workdir, "create", [set_task(api_url)], {"jobs": jobs})
        rerun, rerun_whole, (rerun_result,) = playbook(workdir, "rerun", [set_task(api_url)], {"jobs": jobs})
        ten, ten_whole, (ten_result,) = playbook(workdir, "ten", [set_task(api_url)], {"jobs": changed})
        assert rerun_result["changed"] is False and len(rerun_result["untouched"]) == options.jobs
        assert sorted(ten_result["updated"]) == [one["name"] for one in changed[:10]]

        proxy = CountingProxy(api_url)
        try:
            playbook(workdir, "count-rerun", [set_task(proxy.url)], {"jobs": changed})
            rerun_counts = dict(proxy.counts)
            proxy.counts.clear()
            playbook(workdir, "count-ten", [set_task(proxy.url)], {"jobs": jobs})
            ten_counts = dict(proxy.counts)
        finally:
            proxy.close()
        wipe(api_url)

        sample = jobs[: options.sample]
        loop_args = dict({key: "{{ item.%s }}" % key for key in sample[0]}, api_url=api_url)
        loop_task = {"hacron.dkron.dkron_job": loop_args, "loop": "{{ jobs }}"}
        loop, loop_whole, _results = playbook(workdir, "loop", [loop_task], {"jobs": sample})
        loop_scaled = loop * options.jobs / options.sample
    finally:
        cluster.stop()

    rows = [
        ("floor: plain POSTs, one session (median of %d)" % options.rounds, floor_seconds, None),
        ("dkron_job_set, create from empty (median of %d)" % options.rounds, create, create_whole),
        ("dkron_job_set, rerun, no change", rerun, rerun_whole),
        ("dkron_job_set, rerun, 10 changed", ten, ten_whole),
        ("dkron_job loop, %d jobs" % options.sample, loop, loop_whole),
        ("dkron_job loop, scaled to %d" % options.jobs, loop_scaled, None),
    ]
    print()
    print("| run | task s | whole command s |")
    print("|---|---:|---:|")
    for label, task_seconds, whole in rows:
        print("| %s | %.2f | %s |" % (label, task_seconds, "%.2f" % whole if whole else ""))
    print()
    print("create / floor, medians:        %.2f  (target <= 1.3)" % (create / floor_seconds))
    print("dkron_job loop / dkron_job_set: %.1f  (target >= 20; scaled loop over the set's create)"
          % (loop_scaled / create))
    print("requests, rerun with no change: %s  (target: 1 list, no write)" % rerun_counts)
    print("requests, rerun with 10 changed: %s" % ten_counts)


if __name__ == "__main__":
    main()
