"""The input checks and schedule previews, without a server (the corpus test asks a real Dkron)."""

from datetime import datetime, timezone

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import (
    JobSpecError,
    check_executor_config,
    check_schedule,
    check_tags,
    check_timezone,
    preview_runs,
)

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


def test_time_zones_as_go_loads_them():
    for zone in ("", "UTC", "Local", "Europe/Berlin"):
        check_timezone(zone)
    with pytest.raises(JobSpecError, match="is not known"):
        check_timezone("europe/berlin")


@pytest.mark.parametrize("tags, message", [
    ({"role": "web:0"}, "count '0'"),
    ({"role": "web:many"}, "count 'many'"),
    ({"role": "a:1:2"}, "more than one ':'"),
    ({"role": 1}, "must be a string"),
    ({"role": ":1"}, "needs a tag name and a value"),
])
def test_tags_that_would_run_nowhere_are_refused(tags, message):
    with pytest.raises(JobSpecError, match=message):
        check_tags(tags)
    check_tags({"role": "web:2", "zone": "a"})


def test_executor_config_takes_strings_and_valid_shell_limits():
    check_executor_config({"command": "true", "timeout": "1h30m", "mem_limit": "512MB"}, "shell")
    with pytest.raises(JobSpecError, match=r"executor_config.timeout is int 30; .* quote it"):
        check_executor_config({"timeout": 30})
    with pytest.raises(JobSpecError, match="not a Go duration"):
        check_executor_config({"timeout": "soon"}, "shell")
    with pytest.raises(JobSpecError, match="not a positive size"):
        check_executor_config({"mem_limit": "12 parsecs"}, "shell")
    check_executor_config({"timeout": "soon"}, executor="http")  # only the shell executor reads it


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
