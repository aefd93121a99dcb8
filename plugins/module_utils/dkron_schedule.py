# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dkron's schedules: the grammar, the check, when a schedule fires, and previews of its runs.

The grammar is Dkron 4.1's (its extcron package over robfig/cron v3 with seconds): six fields,
seconds first, with ``*``, ``?``, lists, ranges, steps and month and weekday names; the
descriptors; ``@every <Go duration>``, ``@at <RFC 3339>``, ``@after <RFC 3339> <ISO 8601>``,
``@manually`` and ``@minutely``; and a ``TZ=``/``CRON_TZ=`` prefix. Dkron's own ``@`` forms
(``@at``, ``@after``, ``@manually``, ``@minutely``) are recognised only without a prefix.

- ``parse_schedule`` and ``check_schedule``: what a schedule is, or why Dkron would refuse it.
- ``fires_at`` and ``job_runs``: when a job is due (the rolling update's quiet window).
- ``preview_runs``: the next runs with their UTC offsets, and daylight-saving notes.
- ``rfc3339_parts``: the one RFC 3339 parser.

croniter accepts more than Dkron does (``L``, ``W``, ``#``, weekday 7, five fields), so it never
decides validity here; it only computes previews.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timedelta, timezone as fixed_offset

try:
    from croniter import croniter
    HAS_CRONITER = True
    CRONITER_IMPORT_ERROR = None
except ImportError as exc:
    HAS_CRONITER = False
    CRONITER_IMPORT_ERROR = exc

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_validation import (
    JobSpecError,
    check_timezone,
    go_duration_seconds,
    load_zone,
)

# One parser for every RFC 3339 time: the @at and @after schedules, the server's next-run times and
# the starts_at and expires_at a user gives.
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})([Tt ])(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(\s*)([Zz]|[+-]\d{2}:?\d{2})$")
_ISO_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def rfc3339_parts(text, lenient=False):
    """An RFC 3339 time as ``(aware datetime to the second, fraction digits)``, or None.

    Strict, it reads what Go's ``time.Parse(time.RFC3339, ...)`` reads (a schedule's ``@at``):
    ``T``, then ``Z`` or ``+hh:mm``. Lenient, for the times a user writes: also ``t`` or a space
    (YAML prints its datetimes so), ``z``, ``+hhmm``, a space before the offset, and at most nine
    fraction digits, which is all Dkron keeps.
    """
    match = _RFC3339.match(text)
    if not match:
        return None
    year, month, day, separator, hour, minute, second, fraction, space, offset = match.groups()
    fraction = fraction or ""
    if lenient:
        if len(fraction) > 9:
            return None
    elif separator != "T" or space or offset == "z" or (offset != "Z" and ":" not in offset):
        return None
    delta = timedelta(0)
    if offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes) * (-1 if offset[0] == "-" else 1)
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=fixed_offset(delta))
    except ValueError:
        return None
    return moment, fraction


def rfc3339_time(text):
    """The aware datetime (to the second) of a strict RFC 3339 time, or None."""
    parts = rfc3339_parts(text)
    return parts[0] if parts else None


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
        moment = rfc3339_time(spec[4:])
        if moment is None:
            raise JobSpecError("schedule %r: @at needs one RFC 3339 time, e.g. @at 2030-01-31T02:00:00Z" % schedule)
        return "at", moment, None
    if spec.startswith("@after "):
        parts = spec[7:].split()
        if len(parts) != 2 or not parts[1].startswith("<"):
            raise JobSpecError("schedule %r: use @after <RFC 3339 time> <<ISO 8601 duration>, e.g. "
                               "@after 2030-01-31T02:00:00Z <PT2H" % schedule)
        moment, grace = rfc3339_time(parts[0]), _iso_duration_seconds(parts[1][1:])
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
            seconds = go_duration_seconds(spec[7:])
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


# --- when a job is due ------------------------------------------------------------------------------
def fires_at(parsed, moment):
    """Whether six parsed cron fields (robfig/cron semantics) fire at ``moment`` (a local time)."""
    (seconds, _s), (minutes, _m), (hours, _h), (days, day_star), (months, _mo), (weekdays, weekday_star) = parsed
    if moment.second not in seconds or moment.minute not in minutes or moment.hour not in hours:
        return False
    if moment.month not in months:
        return False
    day_ok = moment.day in days
    weekday_ok = (moment.weekday() + 1) % 7 in weekdays  # Go counts Sunday as 0
    # Day-of-month and day-of-week combine with AND when either is a bare '*', else with OR.
    return (day_ok and weekday_ok) if (day_star or weekday_star) else (day_ok or weekday_ok)


def job_runs(job, start, end):
    """The job's due times (UTC, whole seconds) in [start, end], and whether they are known."""
    schedule = job.get("schedule") or ""
    if job.get("disabled") or not schedule or job.get("parent_job"):
        return [], True
    kind, detail, prefix_zone = parse_schedule(schedule)
    if kind == "manually":
        return [], True
    if kind in ("at", "after"):
        return ([detail] if start <= detail <= end else []), True
    if kind == "every" or "~" in schedule:
        # The phase of @every (and the hash behind '~') is known only from the scheduler's own
        # next run time, which the server stores after each run.
        following = rfc3339_time(job.get("next") or "")
        if (kind == "every" and following is not None and following < start - timedelta(seconds=1)
                and start - following <= timedelta(seconds=detail + 1)):
            # That run fell due within the last interval and the server has not stored the next
            # one yet (a busy scheduler is late to fire): the phase still holds. An older next run
            # time means the scheduler restarted since, and with it the phase.
            following += timedelta(seconds=detail)
        if following is None or following < start - timedelta(seconds=1):
            return [], False
        if kind != "every":
            return ([following] if following <= end else []), True
        runs = []
        while following <= end:
            runs.append(following)
            following += timedelta(seconds=detail)
        return runs, True
    # No zone: the server's own, which is UTC in the containers this collection runs.
    zone = load_zone(prefix_zone or job.get("timezone") or "UTC") or fixed_offset.utc
    runs = []
    moment = start.replace(microsecond=0)
    while moment <= end:
        if moment >= start and fires_at(detail, moment.astimezone(zone)):
            runs.append(moment)
        moment += timedelta(seconds=1)
    return runs, True


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
    zone = load_zone(zone_name)
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
