"""Shared pieces of the value models: input checks, engine pulls, time conversions.

What the events mean (conversions, touches, contacts, ...) is never assumed here: it comes
from the workspace's journey spec or from arguments, through
:mod:`journeykit.analytics.vocabulary`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from journeykit.store import Workspace

SECONDS_PER_DAY = 86_400.0


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`InputError` naming the first column ``df`` lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"{what} needs the column(s) {', '.join(missing)}; it has {', '.join(map(str, df.columns))}",
            field=missing[0],
        )


def events_table(ws: Workspace) -> ibis.Table:
    """The workspace's events as an Ibis table."""
    return ws.table("events")


def data_end(ws: Workspace) -> datetime:
    """The time of the last event in the workspace (the default observation end)."""
    value = events_table(ws).ts.max().execute()
    if value is None or value != value:  # NaT compares unequal to itself
        raise InputError("the workspace holds no events", field="events")
    return to_datetime(value)


def to_datetime(value: Any) -> datetime:
    """A naive UTC :class:`datetime` from a datetime, pandas Timestamp or ISO string."""
    import pandas as pd

    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def isin_fast(values: pd.Series, pool: pd.Series) -> Any:
    """``values.isin(pool)`` by hashing (pandas' isin on Arrow strings loops in Python)."""
    import pandas as pd

    return pd.Index(pool.unique()).get_indexer(values) >= 0
