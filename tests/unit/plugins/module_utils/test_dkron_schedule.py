"""Schedules without a server: the check, the one RFC 3339 parser and the previews (the corpus
test in tests/integration asks a real Dkron whether the check agrees with it)."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_schedule import (
    check_schedule,
    preview_runs,
    rfc3339_parts,
    rfc3339_time,
)
from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import JobSpecError

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("schedule, message", [
    ("0 * * * *", "has 5 fields; Dkron needs 6, seconds first: '0 0 * * * *'"),
    ("0 0 0 L * *", "'L' in the day of month field is not a number"),
    ("0 0 0 * * 7", "'7' is outside 0-6, the day of week field's range"),
    ("0 0 0 30 2 *", "can never fire"),
    ("@every 1h 30m", "is not a Go duration"),
    ("TZ=Mars/Olympus 0 0 3 * * *", "time zone 'Mars/Olympus' is not known"),
    ("TZ=UTC @manually", "unknown descriptor"),
    ("@after 2030-01-31T02:00:00Z PT2H", "use @after <RFC 3339 time> <<ISO 8601 duration>"),
    ("", "needs a schedule unless it has a parent_job"),
])
def test_refused_schedules_say_why(schedule, message):
    with pytest.raises(JobSpecError) as error:
        check_schedule(schedule)
    assert message in str(error.value)


def test_a_child_job_needs_no_schedule():
    check_schedule("", parent_job="parent")


@pytest.mark.parametrize("text, expected", [
    ("2030-01-31T02:00:00Z", datetime(2030, 1, 31, 2, 0, tzinfo=timezone.utc)),
    ("2030-01-31T03:00:00+01:00", datetime(2030, 1, 31, 2, 0, tzinfo=timezone.utc)),
    ("2030-01-31T02:00:00.123456789Z", datetime(2030, 1, 31, 2, 0, tzinfo=timezone.utc)),
])
def test_strict_rfc3339_reads_what_go_reads(text, expected):
    assert rfc3339_time(text) == expected


# Refused by Go's time.Parse(time.RFC3339) as Dkron 4.1.2 answers for @at (tests/integration corpus).
@pytest.mark.parametrize("text", [
    "2030-01-31 02:00:00Z", "2030-01-31t02:00:00z", "2030-01-31T02:00:00+0100", "2030-01-31T02:00:00",
    "2030-01-31T25:00:00Z", "2030-02-30T02:00:00Z", "2030-01-31T02:00:00+24:00", "tomorrow",
])
def test_strict_rfc3339_refuses_what_go_refuses(text):
    assert rfc3339_time(text) is None


def test_lenient_rfc3339_takes_what_users_write_and_keeps_the_fraction():
    moment, fraction = rfc3339_parts("2030-01-02 03:04:05.120 -0130", lenient=True)
    assert moment == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=1, minutes=30)))
    assert fraction == "120"
    assert rfc3339_parts("2030-01-02t03:04:05z", lenient=True)[0] == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    # Dkron keeps nanoseconds, no finer; and no offset is still no time.
    assert rfc3339_parts("2030-01-02T03:04:05.1234567891Z", lenient=True) is None
    assert rfc3339_parts("2030-01-02T03:04:05", lenient=True) is None


def test_preview_shows_offsets_and_flags_daylight_saving_changes():
    preview = preview_runs("0 30 2 * * *", "Europe/Berlin", count=7, now=NOW)
    assert preview["next_runs"][0] == "2026-10-21T02:30:00+02:00"
    # 25 October 2026, clocks go back at 03:00: the offset changes in the list of runs.
    assert preview["next_runs"][4:6] == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    assert "2026-10-25: 02:30:00 happens twice in Europe/Berlin (clocks go back)" in preview["notes"][0]
    assert "2027-03-28: 02:30:00 does not exist in Europe/Berlin (clocks go forward)" in preview["notes"][1]


def test_preview_keeps_day_of_week_and_day_of_month_as_dkron_combines_them():
    # robfig/cron: when either day field is '*', both must match; Mondays only.
    runs = preview_runs("0 0 0 * * MON", "UTC", count=2, now=NOW)["next_runs"]
    assert runs == ["2026-10-26T00:00:00+00:00", "2026-11-02T00:00:00+00:00"]
    # Both restricted: either matches (the 1st, or a Monday).
    runs = preview_runs("0 0 0 1 * MON", "UTC", count=3, now=NOW)["next_runs"]
    assert runs == ["2026-10-26T00:00:00+00:00", "2026-11-01T00:00:00+00:00", "2026-11-02T00:00:00+00:00"]


def test_preview_of_the_other_kinds():
    assert preview_runs("@manually", now=NOW)["next_runs"] == []
    assert preview_runs("@every 90m", "UTC", count=2, now=NOW)["next_runs"] == [
        "2026-10-20T13:30:00+00:00", "2026-10-20T15:00:00+00:00"]
    assert preview_runs("@at 2030-01-31T02:00:00Z", "Europe/Berlin", now=NOW)["next_runs"] == ["2030-01-31T03:00:00+01:00"]
    assert "in the past" in preview_runs("@at 2020-01-31T02:00:00Z", now=NOW)["notes"][0]
