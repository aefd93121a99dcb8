"""Benchmark: the exporter (roles/exporter/files/hacron_dkron_exporter.py) on a cluster of 1,000 jobs.

Run on demand, not in CI: `make bench-exporter` (or `.venv/bin/python bench/exporter.py [--jobs N]`).
It starts one real Dkron server on loopback, stores --jobs jobs (a tenth of them run once, so that
their times and counts are real), puts the exporter in front of it through a request-counting proxy,
and measures in this one run:

- the scrape that reads the cluster (cache expired): median and p95 over --rounds scrapes;
- a scrape answered from the cache;
- four scrapers at once for three cache intervals: the job list requests Dkron received per interval.

Targets (issue 17): p95 of the reading scrape at most 250 ms; one job list request per interval.
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / ".cache" / "collections"), str(ROOT / "tests"), str(ROOT / "bench")]

from job_set import CountingProxy, floor, job  # noqa: E402
from support.dkron_loopback import LoopbackCluster  # noqa: E402
from support.host_scripts import load_exporter  # noqa: E402


def scrape(url):
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
    return time.monotonic() - started, body


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--interval", type=float, default=3.0, help="the exporter's cache, as a scrape interval")
    args = parser.parse_args()
    exporter = load_exporter()
    with tempfile.TemporaryDirectory() as workdir:
        cluster = LoopbackCluster(workdir, size=1)
        cluster.start()
        try:
            server = cluster.servers[0]
            jobs = [dict(job(index, schedule="@manually"), tags={"node": server.name + ":1"}) for index in range(args.jobs)]
            seconds = floor(server.api_url, jobs)
            for index in range(0, args.jobs, 10):
                requests.post(server.api_url + "/v1/jobs/bench-%04d/run" % index, timeout=30).raise_for_status()
            time.sleep(3)
            print("stored %d jobs in %.1f s; ran %d of them" % (args.jobs, seconds, len(range(0, args.jobs, 10))))

            proxy = CountingProxy(server.api_url)
            raft = [str(server.binary), "raft", "list-peers"]
            reader = exporter.DkronReader(proxy.url, [server.name], raft, cache_seconds=0.0)
            http = exporter.ThreadingHTTPServer(("127.0.0.1", 0), exporter.handler_for(reader))
            threading.Thread(target=http.serve_forever, daemon=True).start()
            url = "http://127.0.0.1:%d/metrics" % http.server_address[1]
            try:
                reading = []
                for _round in range(args.rounds):
                    elapsed, body = scrape(url)
                    reading.append(elapsed)
                lines = body.count(b"\n")
                reader.cache_seconds = args.interval
                scrape(url)
                cached = [scrape(url)[0] for _round in range(args.rounds)]

                proxy.counts.clear()
                reader._cached = None  # the first scrape below reads the cluster
                stop = time.monotonic() + 3 * args.interval

                def scraper():
                    while time.monotonic() < stop:
                        scrape(url)
                        time.sleep(0.05)

                threads = [threading.Thread(target=scraper) for _index in range(4)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                lists = proxy.counts["GET list"]
            finally:
                http.shutdown()
                proxy.close()
        finally:
            cluster.stop()
    print("metrics text: %d lines, %d bytes" % (lines, len(body)))
    print("scrape that reads the cluster: median %5.0f ms, p95 %5.0f ms  (target p95 <= 250 ms)"
          % (1000 * statistics.median(reading), 1000 * percentile(reading, 0.95)))
    print("scrape from the cache:         median %5.1f ms, p95 %5.1f ms"
          % (1000 * statistics.median(cached), 1000 * percentile(cached, 0.95)))
    print("4 scrapers for 3 intervals of %.0f s: %d job list requests, %.2f per interval  (target 1)"
          % (args.interval, lists, lists / 3.0))


if __name__ == "__main__":
    main()
