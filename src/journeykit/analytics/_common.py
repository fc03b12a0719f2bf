"""Pieces every journey analytic shares: durations, time buckets, engine-neutral functions.

Analytics are Ibis expressions over ``ws.table("events")`` and run on any backend a workspace
exposes (DuckDB by default, Spark through :mod:`journeykit.store.spark`). The few functions
that Ibis does not name portably (exact microsecond epochs, JSON text extraction) are declared
here once per engine and picked by the backend's name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pandas as pd

#: How a journey is cut into units: one per person, or one per session.
Per = Literal["person", "session"]
#: Calendar buckets for cohorts, retention and lifecycle.
Grain = Literal["day", "week", "month"]

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
#: Default inactivity gap that ends a session.
SESSION_GAP = "30m"
#: Label of the pseudo-events that open and close journeys in flows.
START, END, OTHER = "(start)", "(end)", "(other)"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


class TableSource(Protocol):
    """What analytics need from a workspace: Ibis tables by name and the Ibis backend.

    :class:`journeykit.store.Workspace` (DuckDB) and
    :class:`journeykit.store.spark.SparkWorkspace` both qualify.
    """

    @property
    def con(self) -> Any: ...

    def table(self, name: str) -> ibis.Table: ...


def parse_duration(
    value: str | timedelta | float | None, *, field: str = "window"
) -> timedelta | None:
    """Read a duration: ``"30m"``, ``"7d"``, ``"2w"``, a :class:`timedelta` or seconds.

    >>> parse_duration("7d")
    datetime.timedelta(days=7)
    >>> parse_duration("90s").total_seconds()
    90.0
    >>> parse_duration(None) is None
    True
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        out = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out = timedelta(seconds=float(value))
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        out = timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    else:
        raise InputError(
            f"{value!r} is not a duration; write a number and a unit, e.g. 30m, 12h, 7d, 2w",
            field=field,
        )
    if out.total_seconds() <= 0:
        raise InputError(f"{value!r}: a duration must be positive", field=field)
    return out


def duration_us(value: str | timedelta | float | None, *, field: str = "window") -> int | None:
    """A duration in whole microseconds (``None`` stays ``None``)."""
    td = parse_duration(value, field=field)
    return None if td is None else round(td.total_seconds() * US_PER_SECOND)


def parse_time(value: str | date | datetime | None, *, field: str) -> datetime | None:
    """Read a date or timestamp bound (ISO text, ``date`` or ``datetime``) as naive UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        out = value
    elif isinstance(value, date):
        out = datetime(value.year, value.month, value.day)
    else:
        try:
            out = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(f"{value!r} is not a date or time (ISO 8601)", field=field) from exc
    if out.tzinfo is not None:
        from datetime import UTC

        out = out.astimezone(UTC).replace(tzinfo=None)
    return out


def engine(source: TableSource | ibis.Table | ir.Value) -> str:
    """The backend's name (``duckdb``, ``pyspark``, ...) of a workspace or an expression."""
    con = getattr(source, "con", None)
    if con is None:
        con = source._find_backend()  # type: ignore[union-attr]
    return str(con.name)


def epoch_us(value: ir.TimestampValue, backend: str) -> ir.IntegerValue:
    """Microseconds since 1970-01-01 of a (naive UTC) timestamp, exact on every engine."""
    return _funcs(backend)["epoch_us"](value)


def json_text(value: ir.StringValue, key: str, backend: str) -> ir.StringValue:
    """The text of one top-level key of a JSON object column (numbers as their digits).

    ``key`` must be a plain name (letters, digits, ``_``, ``-``); it is passed as a bound
    literal JSON path, never spliced into SQL text.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", key):
        raise InputError(f"{key!r} is not a property name", field="property")
    return _funcs(backend)["json"](value, f"$.{key}")


_CACHE: dict[str, dict[str, Any]] = {}


def _funcs(backend: str) -> dict[str, Any]:
    """Builtin functions per engine, declared once (Ibis builtin UDFs name a native function)."""
    if backend in _CACHE:
        return _CACHE[backend]
    import ibis

    if backend == "pyspark":

        @ibis.udf.scalar.builtin(name="unix_micros")
        def _us(ts: datetime) -> int:  # type: ignore[empty-body]
            """Spark's unix_micros."""

        @ibis.udf.scalar.builtin(name="get_json_object")
        def _js(text: str, path: str) -> str:  # type: ignore[empty-body]
            """Spark's get_json_object."""

    else:

        @ibis.udf.scalar.builtin(name="epoch_us")
        def _us(ts: datetime) -> int:  # type: ignore[empty-body]
            """DuckDB's epoch_us."""

        @ibis.udf.scalar.builtin(name="json_extract_string")
        def _js(text: str, path: str) -> str:  # type: ignore[empty-body]
            """DuckDB's json_extract_string."""

    _CACHE[backend] = {"epoch_us": _us, "json": _js}
    return _CACHE[backend]


def day_index(us: ir.IntegerValue) -> ir.IntegerValue:
    """Days since 1970-01-01 of a microsecond epoch."""
    return (us // US_PER_DAY).cast("int64")


def period_index(ts: ir.TimestampValue, us: ir.IntegerValue, grain: Grain) -> ir.IntegerValue:
    """An integer per calendar bucket: days, Monday weeks, or months since 1970-01."""
    if grain == "day":
        return day_index(us)
    if grain == "week":
        # 1970-01-01 was a Thursday: shift by three days so weeks start on Monday.
        return ((day_index(us) + 3) // 7).cast("int64")
    if grain == "month":
        return (ts.year().cast("int64") - 1970) * 12 + ts.month().cast("int64") - 1
    raise InputError(f"unknown grain {grain!r}; use day, week or month", field="grain")


def period_start(index: int, grain: Grain) -> date:
    """The first day of bucket ``index`` (inverse of :func:`period_index`).

    >>> period_start(0, "month"), period_start(0, "week")
    (datetime.date(1970, 1, 1), datetime.date(1969, 12, 29))
    """
    epoch = date(1970, 1, 1)
    if grain == "day":
        return epoch + timedelta(days=int(index))
    if grain == "week":
        return epoch + timedelta(days=int(index) * 7 - 3)
    year, month = divmod(int(index), 12)
    return date(1970 + year, month + 1, 1)


def check_choice(value: str, choices: Sequence[str], field: str) -> str:
    """Raise :class:`InputError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InputError(f"{value!r} is not one of {', '.join(choices)}", field=field)
    return value


def to_frame(expr: ibis.Table) -> pd.DataFrame:
    """Execute a (small, aggregated) expression and return plain numpy-backed columns."""
    df = expr.to_pandas()
    for col in df.columns:
        dtype = str(df[col].dtype)
        if dtype.startswith(("int", "Int", "uint")):
            df[col] = (
                df[col].astype("int64") if not df[col].isna().any() else df[col].astype("float64")
            )
        elif dtype in ("string", "str") or dtype.startswith("string"):
            df[col] = df[col].astype(object)
        elif dtype.startswith("datetime64") and getattr(df[col].dt, "tz", None) is not None:
            df[col] = df[col].dt.tz_convert("UTC").dt.tz_localize(None)
    return df


def unit_keys(per: Per) -> list[str]:
    """The key columns of a funnel or flow unit."""
    return ["person_id"] if per == "person" else ["person_id", "session"]


def with_sessions(events: ibis.Table, gap_us: int, backend: str) -> ibis.Table:
    """Add ``session`` (1-based per person) and ``session_start`` (the seq opening it).

    A session starts at a person's first event and at every event more than ``gap_us``
    after the previous one (``prev_ts``, kept at load time). Numbering the sessions needs one
    window pass over each person's events in journey order (the only sort flows pay).
    """
    import ibis

    starts = events.prev_ts.isnull() | (
        epoch_us(events.ts, backend) - epoch_us(events.prev_ts, backend) > gap_us
    )
    t = events.mutate(_start=starts)
    w = ibis.window(group_by="person_id", order_by="seq", rows=(None, 0))
    return t.mutate(
        session=t._start.cast("int64").sum().over(w),
        session_start=ibis.ifelse(t._start, t.seq, 0).max().over(w),
    ).drop("_start")


def left_join(left: ibis.Table, right: ibis.Table, keys: Sequence[str]) -> ibis.Table:
    """``left LEFT JOIN right USING (keys)`` keeping one copy of the key columns."""
    renamed = right.rename({f"_rk_{k}": k for k in keys})
    preds = [left[k] == renamed[f"_rk_{k}"] for k in keys]
    return left.left_join(renamed, preds).drop(*[f"_rk_{k}" for k in keys])
