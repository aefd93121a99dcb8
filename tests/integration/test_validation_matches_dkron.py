"""The schedule, name and time zone checks agree with a real Dkron 4.1.2 on every case of a corpus.

Each case goes both to the check and, as a scratch job, to the server; the test lists every
disagreement at once. The one deliberate difference: schedules that can never fire (30 February)
are accepted by Dkron and refused by the check.
"""

import pytest
import requests

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import check_schedule
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import (
    JobSpecError,
    check_job_name,
    check_timezone,
)

pytestmark = pytest.mark.integration

SCHEDULES = [
    # six fields, seconds first
    "0 30 2 * * *", "* * * * * *", "0 0 * * * *", "*/10 * * * * *", "0 */5 * * * *", "0 0 8-18 * * *",
    "0 0 8-18/2 * * *", "0 0 0 1,15 * *", "0 0 0 * * 1-5", "0 0 0 * * MON-FRI", "0 0 0 * * mon,wed,fri",
    "0 0 0 1 JAN *", "0 0 0 1 jan-jun *", "0 0 0 ? * *", "0 0 0 * * ?", "5/15 * * * * *", "0 0 12 * * SUN",
    "59 59 23 31 12 *", "0 0 0 29 2 *", "00 05 01 * * *", "+5 * * * * *", "0,30 * * * * *", "0 0 0 1-7 * 1",
    "0 0 0 L * *", "0 0 0 * * 7", "0 0 0 * * 1#2", "0 0 0 15W * *", "0 * * * *", "* * * * * * *",
    "60 * * * * *", "0 60 * * * *", "0 0 24 * * *", "0 0 0 0 * *", "0 0 0 32 * *", "0 0 0 * 0 *",
    "0 0 0 * 13 *", "0 0 0 * * 8", "0 0 0 * * SUNDAY", "0 0 0 * JANUARY *", "*/0 * * * * *", "5-1 * * * * *",
    "1-2-3 * * * * *", "1/2/3 * * * * *", "a * * * * *", "-1 * * * * *", "1_0 * * * * *", "0 0 0 * * MON-",
    "*-5 * * * * *", "0  0  0  *  *  *", " 0 0 0 * * *", "0 0 0 * * * ", "0 0 12 * * 0-6", "0 15 10 ? * 6",
    "0 0 0 1 */2 *", "1-59/2 * * * * *", "0 0 0 * * sat-sun", "0 0 0 * * sun-sat",
    # descriptors
    "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@minutely", "@manually",
    "@reboot", "@every", "@daily ", " @daily", "@DAILY", "@Every 1h",
    # @every with Go durations
    "@every 1s", "@every 30s", "@every 5m", "@every 1h30m", "@every 1.5h", "@every .5h", "@every 300ms",
    "@every 1h 30m", "@every 1d", "@every 10", "@every -1s", "@every 0", "@every 0s", "@every 2h45m30s",
    "@every 1us", "@every 1\u00b5s", "@every 5.m", "@every .h", "@every 100000000h", "@every  1h",
    # @at and @after
    "@at 2030-01-31T02:00:00Z", "@at 2030-01-31T02:00:00+01:00", "@at 2030-01-31T02:00:00.123Z",
    "@at 2030-01-31 02:00:00", "@at 2030-02-30T02:00:00Z", "@at 2030-01-31T02:00:00", "@at tomorrow",
    "@at 2030-01-31T25:00:00Z", "@at 2030-01-31t02:00:00z", "@at 2030-01-31T02:00:00+0100",
    "@after 2030-01-31T02:00:00Z <PT2H", "@after 2030-01-31T02:00:00Z <P1DT2H30M", "@after 2030-01-31T02:00:00Z PT2H",
    "@after 2030-01-31T02:00:00Z", "@after 2030-01-31T02:00:00Z <PT", "@after 2030-01-31T02:00:00Z <P0D",
    "@after 2030-01-31T02:00:00Z <PT1.5S", "@after nonsense <PT2H", "@after 2030-01-31T02:00:00Z <PT2H extra",
    # time zone prefixes
    "TZ=Europe/Berlin 0 0 3 * * *", "CRON_TZ=America/New_York 0 0 3 * * *", "TZ=UTC @daily", "TZ=UTC @every 1h",
    "TZ=UTC @manually", "TZ=UTC @minutely", "TZ=UTC @at 2030-01-31T02:00:00Z", "TZ=Nowhere/City 0 0 3 * * *",
    "TZ= 0 0 3 * * *", "TZ=Europe/Berlin", "TZ=Europe/Berlin 0 0 3 * *", "TZ=europe/berlin 0 0 3 * * *",
    # the name hash placeholder
    "~ ~ ~ * * *", "0 ~ * * * *", "0 0 ~ ~ ~ ~",
]
# Dkron accepts these; they can never fire, and the check refuses them on purpose.
NEVER_FIRE = ["0 0 0 30 2 *", "0 0 0 31 4,6,9,11 *", "0 0 0 31 2 *", "0 0 0 , * *"]

NAMES = ["backup", "a", "job-1", "job_1", "0", "caf\u00e9", "\u00fcber-job", "Backup", "job.1", "job 1", "job/1",
         "job:1", "JOB", "-lead", "a" * 200, "job\u00a0x"]
TIME_ZONES = ["", "UTC", "Local", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Etc/GMT+5",
              "europe/berlin", "Mars/Olympus", "Europe/Berlin ", "CET", "EST5EDT", "../etc/passwd"]


def _server_accepts(api_url, job):
    answer = requests.post(api_url + "/v1/jobs", json=job, timeout=10)
    if answer.status_code == 201:
        requests.delete(api_url + "/v1/jobs/" + job["name"], timeout=10)
        return True
    assert answer.status_code in (400, 422, 500), (job, answer.status_code, answer.text)
    return False


def _check_accepts(check, *args):
    try:
        check(*args)
    except JobSpecError:
        return False
    return True


def _scratch(index, **fields):
    return dict(dict(name="scratch-%d" % index, schedule="@manually", executor="shell",
                     executor_config={"command": "true"}, disabled=True), **fields)


def test_schedule_corpus_agrees_with_dkron(dkron_single):
    api_url = dkron_single.servers[0].api_url
    assert len(SCHEDULES) >= 100
    disagreements = []
    for index, schedule in enumerate(SCHEDULES):
        server = _server_accepts(api_url, _scratch(index, schedule=schedule))
        ours = _check_accepts(check_schedule, schedule)
        if server != ours:
            disagreements.append("%r: Dkron %s, check %s" % (schedule, server, ours))
    assert not disagreements, "\n".join(disagreements)
    print("%d schedules: the check and Dkron agree on every one" % len(SCHEDULES))


def test_never_firing_schedules_are_the_one_deliberate_difference(dkron_single):
    api_url = dkron_single.servers[0].api_url
    for index, schedule in enumerate(NEVER_FIRE):
        assert _server_accepts(api_url, _scratch(1000 + index, schedule=schedule)), schedule
        with pytest.raises(JobSpecError, match="can never fire"):
            check_schedule(schedule)


def test_name_corpus_agrees_with_dkron(dkron_single):
    api_url = dkron_single.servers[0].api_url
    disagreements = []
    for name in NAMES:
        server = _server_accepts(api_url, _scratch(0, name=name))
        ours = _check_accepts(check_job_name, name)
        if server != ours:
            disagreements.append("%r: Dkron %s, check %s" % (name, server, ours))
    assert not disagreements, "\n".join(disagreements)


def test_time_zone_corpus_agrees_with_dkron(dkron_single):
    api_url = dkron_single.servers[0].api_url
    disagreements = []
    for index, zone in enumerate(TIME_ZONES):
        server = _server_accepts(api_url, _scratch(2000 + index, timezone=zone))
        ours = _check_accepts(check_timezone, zone)
        if server != ours:
            disagreements.append("%r: Dkron %s, check %s" % (zone, server, ours))
    assert not disagreements, "\n".join(disagreements)
