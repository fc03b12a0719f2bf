"""Clocks: the engine asks one for the time, so tests and backtests can move it by hand.

All times inside orchestration are naive UTC ``datetime`` values (the store's convention).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything with ``now()`` returning naive UTC time."""

    def now(self) -> datetime:
        """The current time, naive UTC."""
        ...


class SystemClock:
    """The wall clock.

    >>> SystemClock().now().tzinfo is None
    True
    """

    def now(self) -> datetime:
        """The current wall-clock time, naive UTC."""
        return datetime.now(UTC).replace(tzinfo=None)


class ManualClock:
    """A clock that moves only when told to (tests, backtests).

    >>> clock = ManualClock(datetime(2026, 1, 1))
    >>> clock.advance(timedelta(hours=2)).hour
    2
    """

    def __init__(self, start: datetime) -> None:
        self._now = to_utc_naive(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The time the clock was last set to."""
        with self._lock:
            return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (never backwards: an earlier time is ignored)."""
        when = to_utc_naive(when)
        with self._lock:
            if when > self._now:
                self._now = when
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        with self._lock:
            self._now += delta
            return self._now


def to_utc_naive(value: object) -> datetime:
    """Normalise a timestamp (datetime, pandas Timestamp, ISO text, epoch seconds) to naive UTC.

    >>> to_utc_naive("2026-05-01T10:00:00+02:00")
    datetime.datetime(2026, 5, 1, 8, 0)
    """
    if type(value) is datetime:
        dt = value
    elif hasattr(value, "to_pydatetime"):  # pandas Timestamp (a datetime subclass)
        dt = value.to_pydatetime()
    elif isinstance(value, datetime):
        dt = datetime.combine(value.date(), value.timetz())
    elif isinstance(value, int | float):
        dt = datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    else:
        raise TypeError(f"cannot read a timestamp from {type(value).__name__}")
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt
