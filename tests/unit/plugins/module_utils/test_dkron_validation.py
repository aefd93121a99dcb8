"""The input checks of names, time zones, tags and executor settings, without a server."""

import pytest

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import (
    JobSpecError,
    check_executor_config,
    check_tags,
    check_timezone,
)


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
