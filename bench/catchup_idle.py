"""Benchmark: what the catch-up service (roles/catchup/files/hacron_dkron_catchup.py) costs while
nothing happens, on the service and on the Dkron servers it asks.

Run on demand, not in CI: `make bench-catchup` (or `.venv/bin/python bench/catchup_idle.py
[--jobs N] [--seconds S] [--baseline REV]`). It starts three real Dkron servers on loopback, stores
--jobs jobs (@every 1h: they do not run), then, in this one run, runs one service per server for
--seconds, first the version at git revision --baseline (when given), then the working tree's, and
prints the CPU seconds per minute each spent: the services and the Dkron servers, measured first with
no service at all, so that what the services add (to their own and to Dkron's) is the difference;
with the ratio of the working tree's to the baseline's. The CPU time is read from /proc, so the figures are the
processes' own, not the machine's load.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / ".cache" / "collections"), str(ROOT / "tests"), str(ROOT / "bench")]

from job_set import job  # noqa: E402
from support.dkron_loopback import LoopbackCluster  # noqa: E402

SERVICE = Path("roles/catchup/files/hacron_dkron_catchup.py")


def cpu_seconds(pid):
    """User plus system CPU seconds of a process, from /proc/PID/stat."""
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(cluster, script, workdir, seconds):
    """CPU seconds per minute of the services and of the Dkron servers while the services run."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / ".cache" / "collections"))
    services = [subprocess.Popen([sys.executable, str(script), "--api-url", server.api_url, "--server", server.name,
                                  "--report", str(workdir / ("%s.json" % server.name))],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)
                for server in cluster.servers] if script else []
    try:
        time.sleep(5)  # past the start: imports, and the leader's catch-up after "its election"
        dkron = [server.process.pid for server in cluster.servers]
        before = ([cpu_seconds(process.pid) for process in services], [cpu_seconds(pid) for pid in dkron])
        time.sleep(seconds)
        after = ([cpu_seconds(process.pid) for process in services], [cpu_seconds(pid) for pid in dkron])
    finally:
        for process in services:
            process.terminate()
            process.wait(timeout=10)
    per_minute = 60.0 / seconds
    return tuple(sum(after[kind]) - sum(before[kind]) for kind in (0, 1)), per_minute


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--baseline", help="a git revision whose service to measure first, e.g. HEAD~1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        scripts = [("no service", None)]
        if args.baseline:
            baseline = workdir / "baseline.py"
            baseline.write_bytes(subprocess.run(["git", "show", "%s:%s" % (args.baseline, SERVICE)], cwd=ROOT,
                                                check=True, capture_output=True).stdout)
            scripts.append(("baseline (%s)" % args.baseline, baseline))
        scripts.append(("working tree", ROOT / SERVICE))
        cluster = LoopbackCluster(workdir / "cluster", size=3)
        cluster.start()
        try:
            leader = cluster.leader()
            for index in range(args.jobs):
                requests.post(leader.api_url + "/v1/jobs", json=job(index), timeout=30).raise_for_status()
            print("3 servers, %d jobs, each service measured for %.0f s" % (args.jobs, args.seconds))
            figures = []
            for label, script in scripts:
                (services, servers), per_minute = measure(cluster, script, workdir, args.seconds)
                figures.append((services * per_minute, servers * per_minute))
                print("%-24s services %6.2f CPU-s/min   Dkron servers %6.2f CPU-s/min"
                      % (label, services * per_minute, servers * per_minute))
            if len(figures) == 3:  # what each version adds to the Dkron servers' own idle cost
                idle = figures[0][1]
                added = [services + servers - idle for services, servers in figures[1:]]
                print("CPU added by the services (theirs and Dkron's): baseline %.2f, working tree %.2f CPU-s/min; "
                      "ratio %.2f" % (added[0], added[1], added[1] / added[0]))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
