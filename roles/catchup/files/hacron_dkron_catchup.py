# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catch-up service and the ledger report, next to one Dkron server.

    PYTHONPATH=/usr/local/lib/hacron-dkron python3 hacron_dkron_catchup.py \
        --api-url http://127.0.0.1:8080 --report /var/lib/hacron-dkron-catchup/ledger.json

Every second it asks its own server whether it leads. Once it does (an election, or this service
starting on the leader) and its store has applied the log (Dkron.store_is_current), it applies
each job's catch-up policy for as long as the election can have made that job miss a slot: one
interval of an ``@every`` job, plus a minute, from then (Dkron's scheduler waits for the same).
Before it starts any run it writes the slots the run stands for into the disabled job
``hacron-catchup-records``, in Dkron's own replicated store, so that no leader after it starts them
again. Every ``--report-every`` seconds it writes a report, which the exporter turns into metrics:
on the leader (once its store is current: the report's ``leader``), the ledger of
every job (module_utils/dkron_ledger.py, installed beside it); on the others, only that they are
alive. Python's standard library only.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_ledger import (
    RECORDS_JOB,
    catchup_plan,
    job_policy,
    ledger,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import parse_schedule

# Records older than this are of no use to any policy window the service acts on.
RECORDS_KEPT_SECONDS = 86400
# A server may act on an election for this long after it, plus one interval of an @every job.
ACT_AFTER_ELECTION_SECONDS = 60
# A name no job can have (Dkron refuses dots in job names): deleting it changes nothing, and goes
# through Raft like any write (Dkron.store_is_current).
BARRIER_JOB = "hacron.catchup.barrier"
# How long that delete may wait for the store: Dkron gives a write 30 s to enter the log.
BARRIER_TIMEOUT_SECONDS = 60.0


def log(message, *args):
    print(message % args if args else message, flush=True)


def iso(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if seconds else None


class Dkron:
    """The local server's API (loopback, no authentication: the proxy is for everyone else)."""

    def __init__(self, api_url, timeout=5.0):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def request(self, method, path, body=None, timeout=None):
        """(status, parsed JSON or text); status 0 when the server does not answer."""
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.api_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, OSError):
            return 0, None
        try:
            return status, json.loads(raw.decode("utf-8"))
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def leads(self):
        return self.request("GET", "/v1/isleader")[0] == 200

    def store_is_current(self):
        """Whether this server's store holds every change committed before now. A new leader answers
        as the leader while its store is still applying the log: on the lab, after all three servers
        were restarted, 5 of 8 jobs with 4 to 8 of their 100 runs, for 3.7 s. A plan or a ledger made
        then takes runs that happened for missed slots. Dkron has no API that tells; but it answers a
        delete, like any write, only once its store has applied it, and so everything before it. That
        of a name no job can have changes nothing. Dkron answers 404 whether the delete was applied
        (no such job) or failed (leadership lost; or Dkron could not reach itself over gRPC, which
        would fail every write too), so this server must still lead after it."""
        status = self.request("DELETE", "/v1/jobs/" + BARRIER_JOB, timeout=BARRIER_TIMEOUT_SECONDS)[0]
        return status == 404 and self.leads()

    def jobs(self):
        status, jobs = self.request("GET", "/v1/jobs")
        if status != 200 or not isinstance(jobs, list):
            raise RuntimeError("GET /v1/jobs answered %s" % status)
        return [job for job in jobs if job.get("name") != RECORDS_JOB]

    def executions(self, name):
        status, executions = self.request("GET", "/v1/jobs/%s/executions" % urllib.parse.quote(name))
        if status != 200 or not isinstance(executions, list):
            raise RuntimeError("GET /v1/jobs/%s/executions answered %s" % (name, status))
        return executions

    def records(self):
        """{job name: [record]} from the records job; {} when it does not exist yet."""
        status, job = self.request("GET", "/v1/jobs/" + RECORDS_JOB)
        if status == 404:
            return {}
        if status != 200 or not isinstance(job, dict):
            raise RuntimeError("GET /v1/jobs/%s answered %s" % (RECORDS_JOB, status))
        return dict((name, json.loads(value)) for name, value in (job.get("metadata") or {}).items())

    def write_records(self, records):
        # Disabled, run only by hand, and tagged for no node: it can never run anywhere.
        body = {"name": RECORDS_JOB, "displayname": "hacron.dkron catch-up records (written by the catch-up service)",
                "schedule": "@manually", "disabled": True, "executor": "shell",
                "executor_config": {"command": "true"}, "tags": {"hacron_catchup_records": "none"},
                "metadata": dict((name, json.dumps(entries)) for name, entries in records.items() if entries)}
        status, answer = self.request("POST", "/v1/jobs", body)
        if status != 201:
            raise RuntimeError("writing the catch-up records answered %s: %s" % (status, answer))

    def run(self, name):
        """True when Dkron started the run, False when it refused it (a new leader does for some
        seconds); RuntimeError when it did not answer, and so may have started it."""
        status, answer = self.request("POST", "/v1/jobs/%s/run" % urllib.parse.quote(name))
        if status == 0:
            raise RuntimeError("running %s: no answer; its record stays, so it is not run again" % name)
        if status != 200:
            log("running %s answered %s %s: tried again in a moment", name, status, answer)
        return status == 200


def act_horizon(job):
    """How long after an election its catch-up may still be due."""
    try:
        kind, detail, _zone = parse_schedule(job.get("schedule") or "")
    except ValueError:
        return 0
    return ACT_AFTER_ELECTION_SECONDS + (detail if kind == "every" else 0)


def catch_up(dkron, elected_at, now, tolerance):
    """Start the catch-up runs due now. Returns how long, after the election, any job may still be
    due one (the service stops asking once that has passed: listing jobs every second is not free)."""
    jobs = dkron.jobs()
    horizon = max([ACT_AFTER_ELECTION_SECONDS] + [act_horizon(job) for job in jobs])
    due = [job for job in jobs if job_policy(job)[0] != "none" and now <= elected_at + act_horizon(job)]
    if not due:
        return horizon
    records = dkron.records()
    plans = []
    for job in due:
        plan = catchup_plan(job, dkron.executions(job["name"]), records.get(job["name"], []), now=now,
                            tolerance=tolerance, elected_at=elected_at)
        plans.extend((job["name"], {"at": now, "slots": entry["slots"], "policy": entry["policy"]}) for entry in plan)
    if not plans:
        return horizon
    for name, record in plans:
        records.setdefault(name, []).append(record)
    for name in records:
        records[name] = [record for record in records[name] if record["at"] > now - RECORDS_KEPT_SECONDS]
    dkron.write_records(records)  # before any run: no leader after this one starts them again
    refused = []
    for name, record in plans:
        if dkron.run(name):
            log("caught up %s: one run standing for %d missed slot(s), the last due %s",
                name, len(record["slots"]), iso(record["slots"][-1]))
        else:
            refused.append((name, record))
    if refused:  # refused, so never started: take their records back for the next try
        for name, record in refused:
            records[name].remove(record)
        dkron.write_records(records)
    return horizon


def report(dkron, server, leads, now, window, tolerance):
    """The ledger of every scheduled job, as the exporter and an operator read it. Only the leader
    works it out (every server would find the same, from the same store), once its store has
    applied the log: ``leads``, the report's ``leader``. The others write who they are and when,
    which is what tells that their service is alive."""
    jobs = {}
    if leads:
        records = dkron.records()
        for job in dkron.jobs():
            account = ledger(job, dkron.executions(job["name"]), records.get(job["name"], []), now=now,
                             window=window, tolerance=tolerance)
            jobs[job["name"]] = {
                "policy": job_policy(job)[0],
                "counts": account["counts"],
                "slots": [{"due": iso(entry["slot"]), "status": entry["status"], "run": iso(entry["run"])}
                          for entry in account["slots"]],
            }
    return {"generated_at": iso(now), "server": server, "leader": leads, "window_seconds": window,
            "tolerance_seconds": tolerance, "jobs": jobs}


def write_atomically(path, content):
    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=1, sort_keys=True)
    os.replace(temporary, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--api-url", default="http://127.0.0.1:8080")
    parser.add_argument("--report", required=True, help="where the ledger is written, as JSON")
    parser.add_argument("--server", default=os.uname()[1], help="this server's name in the report")
    parser.add_argument("--report-every", type=float, default=15.0)
    parser.add_argument("--window", type=float, default=3600.0, help="the ledger's window, in seconds")
    parser.add_argument("--tolerance", type=float, default=5.0,
                        help="seconds after its slot a cron job's run still counts as on time")
    parser.add_argument("--poll", type=float, default=1.0)
    args = parser.parse_args(argv)
    dkron = Dkron(args.api_url)
    elected_at, horizon, reported_at, last_ledger_ready, last_error = None, None, 0.0, None, None
    # When this leader's store had applied the log (None until it has), and whether the wait was said.
    current_at, said_waiting = None, False
    log("watching %s; the ledger goes to %s", args.api_url, args.report)
    while True:
        now = time.time()
        try:
            leads = dkron.leads()
            if leads and elected_at is None:
                elected_at, horizon, current_at, said_waiting = now, None, None, False
                log("this server leads from %s: catching up what the election missed", iso(now))
            elif not leads and elected_at is not None:
                elected_at = None
                log("this server no longer leads")
            # Neither the catch-up nor the ledger reads a store that has not applied the log yet.
            if leads and current_at is None:
                if dkron.store_is_current():
                    now = current_at = time.time()
                    log("the store has applied the log, %.1f s after the election", now - elected_at)
                elif not said_waiting:  # said once an election
                    log("the store has not applied the log yet, or Dkron did not answer: nothing is read until it has")
                said_waiting = current_at is None
            ledger_ready = leads and current_at is not None
            # The catch-up's horizon counts from then: Dkron's scheduler starts no run before either.
            if ledger_ready and (horizon is None or now <= current_at + horizon):
                horizon = catch_up(dkron, elected_at, now, args.tolerance)
            if now - reported_at >= args.report_every or ledger_ready != last_ledger_ready:
                write_atomically(args.report, report(dkron, args.server, ledger_ready, now, args.window,
                                                     args.tolerance))
                reported_at, last_ledger_ready = now, ledger_ready
            last_error = None
        except (RuntimeError, ValueError, OSError) as error:
            if str(error) != last_error:  # once per kind of failure, not every second
                log("%s", error)
            last_error = str(error)
        time.sleep(args.poll)


if __name__ == "__main__":
    sys.exit(main())
