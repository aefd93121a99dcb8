# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of a job's input, run before any request: its name, time zone, tags and executor
settings, as Dkron 4.1 reads them, and Go durations. The schedule has a file of its own
(dkron_schedule.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import timezone as fixed_offset

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    HAS_ZONEINFO = True
except ImportError:  # Python < 3.9
    HAS_ZONEINFO = False


class JobSpecError(ValueError):
    """An option of a job that Dkron would refuse, or that could never do what it says."""


# --- names, zones, tags, executor settings ------------------------------------------------------
# Dkron's slug rule: lower-case letters (any script), digits, "_" and "-".
def check_job_name(name):
    if not isinstance(name, str) or not name:
        raise JobSpecError("a job needs a name")
    for char in name:
        if not (char.islower() and char.isalpha() or char in "0123456789_-"):
            raise JobSpecError(
                "job name %r contains %r; use lower-case letters, digits, '_' and '-' only" % (name, char)
            )


def load_zone(name):
    """The zone for an IANA name as Go's time.LoadLocation accepts it ('' and 'UTC' are UTC)."""
    if name in ("", "UTC"):
        return fixed_offset.utc
    if name == "Local":
        return None  # the server's own zone: valid, unknown here
    if not HAS_ZONEINFO:
        raise JobSpecError("time zones cannot be checked here: Python 3.9 or later (zoneinfo) is needed")
    if name.startswith("/") or ".." in name or "\\" in name:
        raise JobSpecError("time zone %r is not an IANA name such as Europe/Berlin" % name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise JobSpecError("time zone %r is not known; use an IANA name such as Europe/Berlin or UTC" % name)


def check_timezone(timezone):
    if timezone:
        load_zone(timezone)


def check_tags(tags):
    """``key: value`` or ``key: "value:count"``, count a positive integer.

    Dkron takes any string, but a count it cannot read becomes 0 and the job then runs nowhere.
    """
    if not tags:
        return
    if not isinstance(tags, dict):
        raise JobSpecError("tags must be a mapping of tag name to value, such as {role: \"web:1\"}")
    for key, value in tags.items():
        if not isinstance(value, str):
            raise JobSpecError("tags.%s must be a string such as \"web\" or \"web:1\" (quote it in YAML)" % key)
        parts = value.split(":")
        if not key or not parts[0]:
            raise JobSpecError("tags.%s: %r needs a tag name and a value" % (key, value))
        if len(parts) > 2:
            raise JobSpecError("tags.%s: %r has more than one ':'; use \"value\" or \"value:count\"" % (key, value))
        if len(parts) == 2 and not (re.match(r"^[0-9]+$", parts[1]) and int(parts[1]) > 0):
            raise JobSpecError(
                "tags.%s: %r has count %r; the count after ':' must be a whole number from 1 up "
                "(Dkron runs a job with an unreadable count nowhere)" % (key, value, parts[1])
            )


_MEMORY = re.compile(r"^([0-9.]+)(|B|BYTES|KB?|MB?|GB?|TB?)$")


def check_executor_config(config, executor=None):
    """Values are strings (Dkron refuses others); the shell executor's timeout and mem_limit parse."""
    if not config:
        return
    if not isinstance(config, dict):
        raise JobSpecError("executor_config must be a mapping of setting to string")
    for key, value in config.items():
        if not isinstance(value, str):
            raise JobSpecError(
                "executor_config.%s is %s %r; Dkron takes only strings here: quote it, e.g. \"%s\""
                % (key, type(value).__name__, value, str(value).lower() if isinstance(value, bool) else value)
            )
    if executor == "shell":
        if config.get("timeout") and go_duration_seconds(config["timeout"]) is None:
            raise JobSpecError("executor_config.timeout %r is not a Go duration such as 30s or 1h30m" % config["timeout"])
        limit = config.get("mem_limit")
        if limit and not _memory_limit_ok(limit):
            raise JobSpecError(
                "executor_config.mem_limit %r is not a positive size such as 512MB, 2G or 1048576" % limit
            )


def _memory_limit_ok(limit):
    if re.match(r"^[+-]?[0-9]+$", limit):
        return int(limit) > 0
    match = _MEMORY.match(limit.strip().upper())
    if not match:
        return False
    try:
        return float(match.group(1)) > 0
    except ValueError:
        return False


# --- Go durations ---------------------------------------------------------------------------------
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_GO_TERM = re.compile(u"([0-9]*)(\\.[0-9]*)?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_MAX_GO_SECONDS = (2 ** 63 - 1) / 1e9


def go_duration_seconds(text):
    """Seconds of a Go duration string (time.ParseDuration's grammar), or None if it is not one."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    if not body:
        return None
    total, position = 0.0, 0
    while position < len(body):
        match = _GO_TERM.match(body, position)
        whole, fraction = (match.group(1), (match.group(2) or ".")[1:]) if match else ("", "")
        if not (whole or fraction):  # a term needs a digit before or after its point
            return None
        total += float((whole or "0") + "." + (fraction or "0")) * _GO_UNITS[match.group(3)]
        position = match.end()
    if total > _MAX_GO_SECONDS:
        return None
    return -total if text.startswith("-") else total
