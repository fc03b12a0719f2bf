"""Durations ("3d", "2h30m"), times of day and quiet hours in a person's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[wdhms]\s*)+$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(value: object) -> timedelta:
    """Read a duration: ``"30s"``, ``"15m"``, ``"2h"``, ``"3d"``, ``"1w"``, ``"1d12h"`` or seconds.

    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    >>> parse_duration(90)
    datetime.timedelta(seconds=90)
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r} (use 30s, 15m, 2h, 3d, 1w)")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return timedelta(seconds=float(value))
    if isinstance(value, str) and _WHOLE.match(value.lower()):
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(value.lower()))
        return timedelta(seconds=seconds)
    raise ValueError(f"invalid duration {value!r} (use 30s, 15m, 2h, 3d, 1w)")


def format_duration(delta: timedelta) -> str:
    """Write a duration in the short form ``parse_duration`` reads.

    >>> format_duration(timedelta(days=1, hours=12))
    '1d12h'
    """
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        n, seconds = divmod(seconds, _UNITS[unit])
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def parse_time_of_day(value: object) -> time:
    """Read ``"HH:MM"`` (24-hour clock).

    >>> parse_time_of_day("09:30")
    datetime.time(9, 30)
    """
    if isinstance(value, time):
        return value
    if isinstance(value, int):  # YAML 1.1 reads 09:30 unquoted as sexagesimal minutes
        return time(value // 60 % 24, value % 60)
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"invalid time of day {value!r} (use HH:MM, 24-hour clock)")
    return time(int(match[1]), int(match[2]))


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; ``ValueError`` when unknown.

    >>> zone("Europe/London").key
    'Europe/London'
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/London)"
        ) from exc


def _local(now_utc: datetime, tz: ZoneInfo) -> datetime:
    return now_utc.replace(tzinfo=UTC).astimezone(tz)


def _to_utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def next_time_of_day(
    now_utc: datetime, tz_name: str, at: time, weekdays: tuple[str, ...] = ()
) -> datetime:
    """The next moment after ``now_utc`` when the local clock in ``tz_name`` shows ``at``.

    ``weekdays`` (``mon`` … ``sun``) limits the days; empty means every day.

    >>> next_time_of_day(datetime(2026, 6, 1, 10, 0), "Europe/London", time(9, 0))
    datetime.datetime(2026, 6, 2, 8, 0)
    """
    tz = zone(tz_name)
    local = _local(now_utc, tz)
    allowed = {WEEKDAYS.index(d) for d in weekdays} if weekdays else set(range(7))
    for days in range(0, 8):
        day = (local + timedelta(days=days)).date()
        if day.weekday() not in allowed:
            continue
        candidate = datetime.combine(day, at).replace(tzinfo=tz)
        if _to_utc(candidate) > now_utc:
            return _to_utc(candidate)
    raise ValueError("no allowed weekday")  # pragma: no cover - allowed is never empty


def quiet_until(now_utc: datetime, tz_name: str, start: time, end: time) -> datetime | None:
    """When quiet hours ``start``–``end`` (local, may wrap midnight) are on, the UTC time they end.

    Returns ``None`` outside quiet hours.

    >>> quiet_until(datetime(2026, 6, 1, 22, 30), "UTC", time(21, 0), time(8, 0))
    datetime.datetime(2026, 6, 2, 8, 0)
    >>> quiet_until(datetime(2026, 6, 1, 12, 0), "UTC", time(21, 0), time(8, 0)) is None
    True
    """
    if start == end:
        return None
    tz = zone(tz_name)
    local = _local(now_utc, tz)
    t = local.time().replace(tzinfo=None)
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if (start < end or t < end) else (local + timedelta(days=1)).date()
    return _to_utc(datetime.combine(day, end).replace(tzinfo=tz))
