# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics of a Dkron cluster that Dkron's own /metrics lacks: per job its last success
and failure, next run, counts, disabled and last status; per cluster the leader, the Raft voters
against the servers expected, and the members by status; with --ledger-report, the ledger of
scheduled runs that the catch-up service writes (per job, its slots by status in the ledger's
window) and when it last wrote it.

Runs on each server host beside Dkron, on Debian's python3 alone (no Ansible, no pip), listening on
loopback: Prometheus reaches it through the API proxy. However many scrapes arrive, Dkron is asked
at most once per --cache-seconds (one job list, one leader, one member list, one Raft listing).

    python3 hacron_dkron_exporter.py --api-url http://127.0.0.1:8080 --listen 127.0.0.1:9932 \
        --expected-server dkron-1 --expected-server dkron-2 --expected-server dkron-3 \
        --raft-command '["docker", "exec", "dkron", "dkron", "raft", "list-peers"]'
"""

import argparse
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from calendar import timegm
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Dkron's job statuses; any other value is counted as "unknown", so the label set stays bounded.
JOB_STATUSES = ("success", "failed", "partially_failed", "running", "none", "unknown")
MEMBER_STATUSES = ("alive", "leaving", "left", "failed", "none")
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def timestamp(text):
    """Seconds since the epoch of one of Dkron's RFC 3339 times; 0 for none (null, or Go's zero time)."""
    match = _RFC3339.match(text or "")
    if not match:
        return 0.0
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    if year < 1970:  # Go's zero time, 0001-01-01T00:00:00Z: never
        return 0.0
    seconds = timegm((year, month, day, hour, minute, second)) + float(match.group(7) or 0)
    zone = match.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds


def raft_voters(output):
    """The voters' IDs from ``dkron raft list-peers``: a header, then "Node ID Address State Voter"
    rows. The same reading as plugins/module_utils/dkron_rolling.raft_peers (a unit test holds the
    two together); this file runs on hosts without the collection."""
    voters = []
    for line in output.splitlines()[1:]:
        columns = line.split()
        if len(columns) == 5 and columns[4] == "true":
            voters.append(columns[1])
    return sorted(voters)


def _label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Lines of Prometheus's text format, grouped per metric with its HELP and TYPE."""

    def __init__(self):
        self._families = {}

    def add(self, name, help_text, value, labels=None):
        family = self._families.setdefault(name, (help_text, []))
        label_text = ",".join('%s="%s"' % (key, _label(labels[key])) for key in sorted(labels or {}))
        family[1].append("%s%s %s" % (name, "{%s}" % label_text if label_text else "", repr(float(value))))

    def text(self):
        lines = []
        for name, (help_text, samples) in self._families.items():
            lines.append("# HELP %s %s" % (name, help_text))
            lines.append("# TYPE %s gauge" % name)
            lines.extend(samples)
        return "\n".join(lines) + "\n"


class DkronReader:
    """Reads the cluster from one server's API, and Raft through ``raft_command`` (``dkron raft
    list-peers`` without ``--rpc-addr``: the leader's RPC address is added), cached."""

    def __init__(self, api_url, expected_servers=(), raft_command=None, cache_seconds=15.0, timeout=5.0,
                 ledger_report=None):
        self.api_url = api_url.rstrip("/")
        self.ledger_report = ledger_report
        self.expected_servers = sorted(expected_servers)
        self.raft_command = raft_command
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self.api_requests = 0
        self.refreshes = 0
        self._lock = threading.Lock()
        self._cached = None
        self._cached_at = None

    def _get(self, path):
        """(status, parsed JSON or None); status 0 when the server does not answer."""
        self.api_requests += 1
        try:
            with urllib.request.urlopen(self.api_url + path, timeout=self.timeout) as response:
                return response.status, json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return error.code, None
        except (OSError, ValueError):
            return 0, None

    def _voters(self, leader):
        """The voters' IDs as the leader's Raft lists them; None when there is no leader or no listing."""
        rpc_address = ((leader or {}).get("Tags") or {}).get("rpc_addr")
        if not self.raft_command or not rpc_address:
            return None
        command = list(self.raft_command) + ["--rpc-addr", rpc_address]
        try:
            listing = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return raft_voters(listing.stdout) if listing.returncode == 0 else None

    def _collect(self):
        started = time.monotonic()
        metrics = Metrics()
        jobs_status, jobs = self._get("/v1/jobs")
        leader_status, leader = self._get("/v1/leader")
        members_status, members = self._get("/v1/members")
        leader = leader if leader_status == 200 and isinstance(leader, dict) else None
        voters = self._voters(leader)
        metrics.add("dkron_exporter_api_up", "Whether the server's API answered the job list (1) or not (0).",
                    1 if jobs_status == 200 and isinstance(jobs, list) else 0)
        metrics.add("dkron_leader_answers", "Whether the server reports a leader (1) or none (0).",
                    1 if leader else 0)
        for job in jobs if isinstance(jobs, list) else []:
            labels = {"dkron_job": job.get("name", "")}
            metrics.add("dkron_job_last_success_timestamp_seconds", "The job's last successful run, 0 for none.",
                        timestamp(job.get("last_success")), labels)
            metrics.add("dkron_job_last_error_timestamp_seconds", "The job's last failed run, 0 for none.",
                        timestamp(job.get("last_error")), labels)
            metrics.add("dkron_job_next_run_timestamp_seconds", "The job's next scheduled run, 0 for none.",
                        timestamp(job.get("next")), labels)
            metrics.add("dkron_job_success_count", "Successful runs Dkron has counted for the job.",
                        job.get("success_count") or 0, labels)
            metrics.add("dkron_job_error_count", "Failed runs Dkron has counted for the job.",
                        job.get("error_count") or 0, labels)
            metrics.add("dkron_job_disabled", "Whether the job is disabled (1) or not (0).",
                        1 if job.get("disabled") else 0, labels)
            status = job.get("status") or "none"
            status = status if status in JOB_STATUSES else "unknown"
            for candidate in JOB_STATUSES:
                metrics.add("dkron_job_status", "The job's last status: 1 for the one it has.",
                            1 if candidate == status else 0, dict(labels, status=candidate))
        counts = dict.fromkeys(MEMBER_STATUSES, 0)
        alive_servers = set()
        for member in members if members_status == 200 and isinstance(members, list) else []:
            status = member.get("statusText") or "none"
            counts[status if status in counts else "none"] += 1
            if (member.get("Tags") or {}).get("server") == "true":
                if status == "alive":
                    alive_servers.add(member.get("Name", ""))
                metrics.add("dkron_server_alive", "Whether a server the members list holds is alive (1) or not (0).",
                            1 if status == "alive" else 0, {"server": member.get("Name", "")})
        for status in MEMBER_STATUSES:
            metrics.add("dkron_members", "Members of the cluster by status.", counts[status], {"status": status})
        if voters is not None:
            metrics.add("dkron_raft_voters", "Raft voters, from dkron raft list-peers.", len(voters))
            for server in self.expected_servers:
                # A voter that is down still counts in the Raft configuration, but not towards a quorum.
                metrics.add("dkron_raft_expected_voter",
                            "Whether a server expected to vote is an alive Raft voter (1) or not (0).",
                            1 if server in voters and server in alive_servers else 0, {"server": server})
        metrics.add("dkron_raft_expected_voters", "Servers the inventory expects to vote.", len(self.expected_servers))
        if self.ledger_report:
            self._add_ledger(metrics)
        metrics.add("dkron_exporter_refresh_seconds", "How long the last reading of the cluster took.",
                    time.monotonic() - started)
        metrics.add("dkron_exporter_api_requests", "API requests made since the exporter started.", self.api_requests)
        return metrics.text()

    def _add_ledger(self, metrics):
        """The catch-up service's ledger report: 0 as its time when it is missing or unreadable, which
        the DkronCatchupDown alert sees as a service that is down."""
        try:
            with open(self.ledger_report, encoding="utf-8") as handle:
                report = json.load(handle)
        except (OSError, ValueError):
            report = {}
        metrics.add("dkron_catchup_report_timestamp_seconds",
                    "When the catch-up service last wrote its ledger report, 0 for never.",
                    timestamp(report.get("generated_at")))
        for name, entry in sorted((report.get("jobs") or {}).items()):
            for status, count in sorted((entry.get("counts") or {}).items()):
                metrics.add("dkron_job_ledger_slots",
                            "The job's scheduled slots in the ledger's window, by status (ran, late, missed, "
                            "doubled, caught_up).", count, {"dkron_job": name, "status": status})

    def metrics(self):
        """The metrics text, read anew only when the cached reading is older than cache_seconds."""
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached_at >= self.cache_seconds:
                self._cached = self._collect()
                self._cached_at = now
                self.refreshes += 1
            return self._cached


def handler_for(reader):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = reader.metrics().encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # scrapes are not news
            pass

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--api-url", default="http://127.0.0.1:8080")
    parser.add_argument("--listen", default="127.0.0.1:9932", help="host:port; keep it on loopback")
    parser.add_argument("--expected-server", action="append", default=[], help="a server expected to vote (repeat)")
    parser.add_argument("--raft-command", type=json.loads, default=None,
                        help="JSON list: the command that runs `dkron raft list-peers` (the leader's --rpc-addr is added)")
    parser.add_argument("--cache-seconds", type=float, default=15.0, help="Prometheus's scrape interval")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--ledger-report", help="the catch-up service's ledger report (JSON), if it runs here")
    args = parser.parse_args(argv)
    host, _colon, port = args.listen.rpartition(":")
    reader = DkronReader(args.api_url, args.expected_server, args.raft_command, args.cache_seconds, args.timeout,
                         args.ledger_report)
    server = ThreadingHTTPServer((host, int(port)), handler_for(reader))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
