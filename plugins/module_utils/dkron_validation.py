# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of a job's input, run before any request, and previews of its schedule.

The schedule grammar is Dkron 4.1's (its extcron package over robfig/cron v3 with seconds):
six fields, seconds first, with ``*``, ``?``, lists, ranges, steps and month and weekday names;
the descriptors; ``@every <Go duration>``, ``@at <RFC 3339>``, ``@after <RFC 3339> <ISO 8601>``,
``@manually`` and ``@minutely``; and a ``TZ=``/``CRON_TZ=`` prefix. Dkron's own ``@`` forms
(``@at``, ``@after``, ``@manually``, ``@minutely``) are recognised only without a prefix.
croniter accepts more than Dkron does (``L``, ``W``, ``#``, weekday 7, five fields), so it never
decides validity here; it only computes previews.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timedelta, timezone as fixed_offset

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    HAS_ZONEINFO = True
except ImportError:  # Python < 3.9
    HAS_ZONEINFO = False

try:
    from croniter import croniter
    HAS_CRONITER = True
    CRONITER_IMPORT_ERROR = None
except ImportError as exc:
    HAS_CRONITER = False
    CRONITER_IMPORT_ERROR = exc


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


def _zone(name):
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
        _zone(timezone)


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
        if config.get("timeout") and _go_duration_seconds(config["timeout"]) is None:
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


# --- Go durations, RFC 3339, ISO 8601 -------------------------------------------------------------
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_GO_TERM = re.compile(u"([0-9]*)(\\.[0-9]*)?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_MAX_GO_SECONDS = (2 ** 63 - 1) / 1e9


def _go_duration_seconds(text):
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


_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_ISO_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def _rfc3339(text):
    """The aware datetime of an RFC 3339 time as Go's time.Parse(time.RFC3339) reads it, or None."""
    match = _RFC3339.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset == "Z":
        zone = fixed_offset.utc
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        zone = fixed_offset(-delta if offset[0] == "-" else delta)
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone)
    except ValueError:
        return None


def _iso_duration_seconds(text):
    match = _ISO_DURATION.match(text)
    if not match:
        return None
    years, months, days, hours, minutes, seconds = [float(part) if part else 0.0 for part in match.groups()]
    return ((years * 365 + months * 30 + days) * 24 + hours) * 3600 + minutes * 60 + seconds


# --- cron fields ------------------------------------------------------------------------------------
_MONTH_NAMES = dict((name, index + 1) for index, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]))
_DOW_NAMES = dict((name, index) for index, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"]))
# (name, lowest, highest, names)
_FIELDS = (
    ("second", 0, 59, None),
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, _MONTH_NAMES),
    ("day of week", 0, 6, _DOW_NAMES),
)
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_INT = re.compile(r"^[+-]?[0-9]+$")


def _number(text, names, field, spec):
    if names and text.lower() in names:
        return names[text.lower()]
    if not _INT.match(text):
        raise JobSpecError("schedule %r: %r in the %s field is not a number%s" % (
            spec, text, field, " or a name" if names else ""))
    value = int(text)
    if value < 0:
        raise JobSpecError("schedule %r: negative number %r in the %s field" % (spec, text, field))
    return value


def _field_values(text, field, low, high, names, spec):
    """The set of values a cron field selects, and whether it is a bare '*' or '?'."""
    values, star = set(), False
    for part in [part for part in text.split(",") if part]:
        range_and_step = part.split("/")
        if len(range_and_step) > 2:
            raise JobSpecError("schedule %r: too many '/' in %r (%s field)" % (spec, part, field))
        bounds = range_and_step[0].split("-")
        if bounds[0] in ("*", "?"):
            start, end, star_here = low, high, True
        else:
            if len(bounds) > 2:
                raise JobSpecError("schedule %r: too many '-' in %r (%s field)" % (spec, part, field))
            start = _number(bounds[0], names, field, spec)
            end = _number(bounds[1], names, field, spec) if len(bounds) == 2 else start
            star_here = False
        step = 1
        if len(range_and_step) == 2:
            step = _number(range_and_step[1], None, field, spec)
            if len(bounds) == 1:
                end = high
            if step > 1:
                star_here = False
        if start < low or end > high:
            raise JobSpecError("schedule %r: %r is outside %d-%d, the %s field's range" % (spec, part, low, high, field))
        if start > end:
            raise JobSpecError("schedule %r: %r starts after it ends (%s field)" % (spec, part, field))
        if step == 0:
            raise JobSpecError("schedule %r: step 0 in %r (%s field)" % (spec, part, field))
        values.update(range(start, end + 1, step))
        star = star or star_here
    return values, star


def _cron_fields(fields, spec):
    if len(fields) != 6:
        hint = ""
        if len(fields) == 5:
            hint = "; Dkron needs 6, seconds first: %r" % ("0 " + " ".join(fields))
        raise JobSpecError("schedule %r has %d fields%s (sec min hour day-of-month month day-of-week)" % (
            spec, len(fields), hint or "; Dkron needs 6"))
    return [_field_values(text, name, low, high, names, spec)
            for text, (name, low, high, names) in zip(fields, _FIELDS)]


def _never_fires(parsed):
    """Whether a parsed cron schedule has no date at all (such as 30 February)."""
    seconds, minutes, hours, days, months, weekdays = [values for values, _star in parsed]
    dom_star, dow_star = parsed[3][1], parsed[5][1]
    if not (seconds and minutes and hours and months):
        return True
    if dom_star or dow_star:  # robfig/cron: both must match when either is '*'
        return not weekdays or not any(day <= _DAYS_IN_MONTH[month - 1] for month in months for day in days)
    return not weekdays and not any(day <= _DAYS_IN_MONTH[month - 1] for month in months for day in days)


def _unhash(spec):
    """Dkron fills '~' from a hash of the job's name; any in-range value stands in for it here."""
    if "~" not in spec:
        return spec
    parts, index = spec.split(" "), 0
    for position, part in enumerate(parts):
        if part.startswith("@"):
            return spec
        if part.startswith("TZ=") or part.startswith("CRON_TZ="):
            continue
        if index < len(_FIELDS):
            parts[position] = part.replace("~", str(_FIELDS[index][1]))
        index += 1
    return " ".join(parts)


def parse_schedule(schedule):
    """What a schedule is: ``(kind, detail, zone name)``; JobSpecError when Dkron would refuse it.

    kind is one of ``manually``, ``at`` (detail: the time), ``after`` (the time), ``every``
    (seconds), ``cron`` (the parsed fields).
    """
    spec = _unhash(schedule)
    if spec == "@manually":
        return "manually", None, None
    if spec == "@minutely":
        spec = "0 * * * * *"
    if spec.startswith("@at "):
        moment = _rfc3339(spec[4:])
        if moment is None:
            raise JobSpecError("schedule %r: @at needs one RFC 3339 time, e.g. @at 2030-01-31T02:00:00Z" % schedule)
        return "at", moment, None
    if spec.startswith("@after "):
        parts = spec[7:].split()
        if len(parts) != 2 or not parts[1].startswith("<"):
            raise JobSpecError("schedule %r: use @after <RFC 3339 time> <<ISO 8601 duration>, e.g. "
                               "@after 2030-01-31T02:00:00Z <PT2H" % schedule)
        moment, grace = _rfc3339(parts[0]), _iso_duration_seconds(parts[1][1:])
        if moment is None:
            raise JobSpecError("schedule %r: %r is not an RFC 3339 time" % (schedule, parts[0]))
        if not grace:
            raise JobSpecError("schedule %r: %r is not a positive ISO 8601 duration such as PT2H" % (schedule, parts[1][1:]))
        return "after", moment, None

    zone_name = None
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        if " " not in spec:
            raise JobSpecError("schedule %r: a TZ= prefix must be followed by a space and the schedule" % schedule)
        zone_name = spec[spec.index("=") + 1:spec.index(" ")]  # empty is UTC, as in Go
        try:
            check_timezone(zone_name)
        except JobSpecError as exc:
            raise JobSpecError("schedule %r: %s" % (schedule, exc))
        spec = spec[spec.index(" "):].strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return "cron", _cron_fields(_DESCRIPTOR_FIELDS[spec], schedule), zone_name
        if spec.startswith("@every "):
            seconds = _go_duration_seconds(spec[7:])
            if seconds is None:
                raise JobSpecError("schedule %r: %r is not a Go duration such as 30s, 5m or 1h30m" % (schedule, spec[7:]))
            # robfig/cron rounds down to whole seconds, and runs anything under a second every second.
            return "every", max(1, int(seconds)), zone_name
        raise JobSpecError("schedule %r: unknown descriptor; use six cron fields or one of %s, @every <duration>, "
                           "@at <time>, @after <time> <<duration>, @manually, @minutely"
                           % (schedule, ", ".join(_DESCRIPTORS)))
    parsed = _cron_fields(spec.split(), schedule)
    return "cron", parsed, zone_name


_DESCRIPTOR_FIELDS = {
    "@yearly": "0 0 0 1 1 *".split(),
    "@annually": "0 0 0 1 1 *".split(),
    "@monthly": "0 0 0 1 * *".split(),
    "@weekly": "0 0 0 * * 0".split(),
    "@daily": "0 0 0 * * *".split(),
    "@midnight": "0 0 0 * * *".split(),
    "@hourly": "0 0 * * * *".split(),
}


def check_schedule(schedule, timezone="", parent_job=None):
    """Raise JobSpecError unless Dkron 4.1 accepts the schedule and it can fire at least once."""
    if schedule is None or schedule == "":
        if parent_job:
            return
        raise JobSpecError("a job needs a schedule unless it has a parent_job (use @manually to run it only on demand)")
    _firing_schedule(schedule)


def _firing_schedule(schedule):
    """parse_schedule's answer for a schedule that can fire; JobSpecError otherwise."""
    if not isinstance(schedule, str):
        raise JobSpecError("schedule must be a string")
    kind, detail, zone_name = parse_schedule(schedule)
    if kind == "cron" and _never_fires(detail):
        raise JobSpecError("schedule %r can never fire: no date matches its day-of-month, month and "
                           "day-of-week fields (such as 30 February)" % schedule)
    return kind, detail, zone_name


# --- previews -----------------------------------------------------------------------------------------
def _cron_text(parsed):
    """The parsed fields as a six-field expression croniter reads the same way (seconds last)."""
    # A bare '*' stays one: day-of-month and day-of-week combine with AND when either is '*', else OR.
    texts = ["*" if star else ",".join(str(value) for value in sorted(values)) for values, star in parsed]
    (seconds, minutes, hours, days, months, weekdays) = texts
    return " ".join([minutes, hours, days, months, weekdays, seconds])


def preview_runs(schedule, timezone="", count=5, now=None):
    """The next ``count`` runs in the job's zone with their UTC offsets, and daylight-saving notes.

    Notes flag the local times a daylight-saving change makes skipped (they do not exist that day)
    or doubled (they happen twice), looking ahead a year. Needs croniter for cron expressions.
    """
    kind, detail, prefix_zone = _firing_schedule(schedule)
    zone_name = prefix_zone or timezone or ""
    zone = _zone(zone_name)
    if zone is None:
        return dict(next_runs=[], notes=["the schedule runs in the server's local time zone, unknown here"])
    label = zone_name or "UTC"
    now = now or datetime.now(fixed_offset.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=fixed_offset.utc)
    local_now = now.astimezone(zone)
    if kind == "manually":
        return dict(next_runs=[], notes=["runs only when started by hand or by its parent"])
    if kind in ("at", "after"):
        if detail <= now and kind == "at":
            return dict(next_runs=[], notes=["%s is in the past: the job will not run" % detail.isoformat()])
        return dict(next_runs=[detail.astimezone(zone).isoformat()], notes=[])
    if kind == "every":
        runs = [now + timedelta(seconds=detail * (index + 1)) for index in range(count)]
        return dict(next_runs=[run.astimezone(zone).isoformat() for run in runs],
                    notes=["@every counts from when the leader's scheduler started (or the job was saved)"])
    if not HAS_CRONITER:
        return dict(next_runs=[], notes=["no preview: the croniter Python package is not installed"])
    expression = _cron_text(detail)
    iterator = croniter(expression, local_now.replace(tzinfo=None))
    runs = []
    for _index in range(count):
        naive = iterator.get_next(datetime)
        runs.append(_localise(naive, zone).isoformat())
    return dict(next_runs=runs, notes=_dst_notes(expression, zone, local_now, label))


def _localise(naive, zone):
    """A naive local time in ``zone``; a time that does not exist is moved past the gap."""
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(fixed_offset.utc).astimezone(zone).replace(tzinfo=None) != naive:
        return (aware.astimezone(fixed_offset.utc)).astimezone(zone)
    return aware


def _dst_notes(expression, zone, local_now, label, days=366, limit=3):
    """Runs within ``days`` that a daylight-saving change skips or doubles, at most ``limit`` of each."""
    notes = []
    skipped = doubled = 0
    iterator = croniter(expression, local_now.replace(tzinfo=None))
    end = local_now.replace(tzinfo=None) + timedelta(days=days)
    for _guard in range(100000):
        naive = iterator.get_next(datetime)
        if naive > end:
            break
        first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
        if first.utcoffset() == second.utcoffset():
            continue
        round_trip = first.astimezone(fixed_offset.utc).astimezone(zone).replace(tzinfo=None)
        if round_trip != naive and skipped < limit:
            skipped += 1
            notes.append("%s: %s does not exist in %s (clocks go forward); that run is skipped or moved"
                         % (naive.date().isoformat(), naive.time().isoformat(), label))
        elif round_trip == naive and doubled < limit:
            doubled += 1
            notes.append("%s: %s happens twice in %s (clocks go back); the run may happen twice"
                         % (naive.date().isoformat(), naive.time().isoformat(), label))
        if skipped >= limit and doubled >= limit:
            break
    return notes
