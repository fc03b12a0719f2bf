"""The RFM summary that the CLV models read: one row per person, indexed by ``person_id``.

================ =============================================================================
column           meaning
================ =============================================================================
frequency        repeat purchases: purchase days after the first one (orders on one day count once)
recency          time from the first purchase to the last one
T                time from the first purchase to the end of the observation
monetary_value   mean revenue of the repeat purchase days (0 when frequency is 0)
================ =============================================================================

Times are in days by default (weeks with ``unit="W"``). The definitions are Fader & Hardie's:
built from the CDNOW sample transactions they reproduce the published CDNOW summary.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

import numpy as np

from journeykit.analytics.value._common import (
    SECONDS_PER_DAY,
    data_end,
    events_table,
    require_columns,
    to_datetime,
)
from journeykit.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from journeykit.store import Workspace

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")
_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    observation_end: datetime | str | None = None,
    unit: Literal["D", "W"] = "D",
    person_col: str = "person_id",
    ts_col: str = "ts",
    revenue_col: str = "revenue",
) -> pd.DataFrame:
    """Build the RFM summary (one row per person) from a transactions DataFrame.

    Args:
        transactions: one row per purchase with the person, its time and its revenue.
        observation_end: the end of the observation (default: the last transaction); later
            transactions are ignored.
        unit: ``"D"`` for days, ``"W"`` for weeks (a purchase day still counts once).
        person_col, ts_col, revenue_col: the column names in ``transactions``.

    Returns:
        The summary described in the module docstring, indexed by ``person_id``.

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"person_id": ["a", "a", "a", "b"],
    ...     "ts": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-11", "2026-01-05"]),
    ...     "revenue": [10.0, 5.0, 30.0, 8.0]})
    >>> rfm_summary(tx, observation_end="2026-01-31").loc["a"].tolist()
    [1.0, 10.0, 30.0, 30.0]
    """
    import pandas as pd

    require_columns(transactions, (person_col, ts_col, revenue_col), "rfm_summary")
    if unit not in _UNIT_DAYS:
        raise InputError(f"unit must be 'D' or 'W', not {unit!r}", field="unit")
    ts = pd.to_datetime(transactions[ts_col])
    end = pd.Timestamp(to_datetime(observation_end)) if observation_end is not None else ts.max()
    frame = pd.DataFrame(
        {
            "person_id": transactions[person_col].to_numpy(),
            "day": ts.dt.floor("D").to_numpy(),
            "revenue": pd.to_numeric(transactions[revenue_col]).fillna(0.0).to_numpy(),
        }
    )
    frame = frame[(ts <= end).to_numpy()]
    daily = frame.groupby(["person_id", "day"], sort=True, as_index=False)["revenue"].sum()
    per = daily.groupby("person_id", sort=True).agg(
        days=("day", "size"),
        first=("day", "min"),
        last=("day", "max"),
        total=("revenue", "sum"),
        first_revenue=("revenue", "first"),
    )
    end_day = end.floor("D")
    return _finish_summary(
        days=per["days"].to_numpy(float),
        first_to_last=(per["last"] - per["first"]).dt.days.to_numpy(float),
        first_to_end=(end_day - per["first"]).dt.days.to_numpy(float),
        total=per["total"].to_numpy(float),
        first_revenue=per["first_revenue"].to_numpy(float),
        index=per.index,
        unit_days=_UNIT_DAYS[unit],
    )


def rfm_summary_from_workspace(
    ws: Workspace,
    *,
    observation_end: datetime | str | None = None,
    unit: Literal["D", "W"] = "D",
    conversion_event: str | Sequence[str] | None = None,
    revenue_field: str | None = None,
) -> pd.DataFrame:
    """Build the RFM summary from a workspace's conversions, aggregated inside the engine.

    The query groups the conversion events by person and day and then by person, so one
    row per person leaves the engine (DuckDB or Spark alike).

    Args:
        ws: the workspace.
        observation_end: the end of the observation (default: the workspace's last event).
        unit: ``"D"`` for days, ``"W"`` for weeks.
        conversion_event: the purchase / conversion event(s) (default: the journey spec's).
        revenue_field: where a conversion's value is, ``revenue`` or ``properties.<key>``
            (default: the journey spec's).

    Returns:
        The summary of :func:`rfm_summary`, indexed by ``person_id``.

    Raises:
        NoSpec: a name is left out and the workspace has no journey spec.
    """
    import ibis

    from journeykit.analytics import vocabulary as vocab

    conversions = vocab.conversion_events(ws, conversion_event)
    value_field = vocab.revenue_field(ws, revenue_field)
    if unit not in _UNIT_DAYS:
        raise InputError(f"unit must be 'D' or 'W', not {unit!r}", field="unit")
    end = to_datetime(observation_end) if observation_end is not None else data_end(ws)
    ev = events_table(ws)
    orders = ev.filter(
        ev.event.isin(list(conversions)) & ev.person_id.notnull() & (ev.ts <= ibis.literal(end))
    )
    day = (orders.ts.epoch_seconds() // int(SECONDS_PER_DAY)).cast("int64")
    daily = (
        orders.mutate(day=day, revenue=vocab.field_number(orders, value_field).fill_null(0.0))
        .group_by(["person_id", "day"])
        .aggregate(revenue=lambda t: t.revenue.sum())
    )
    per = daily.group_by("person_id").aggregate(
        days=daily.day.count(),
        first=daily.day.min(),
        last=daily.day.max(),
        total=daily.revenue.sum(),
        first_revenue=daily.revenue.argmin(daily.day),
    )
    df = per.order_by("person_id").to_pandas()
    end_day = int(
        (end - datetime(1970, 1, 1)).total_seconds() // SECONDS_PER_DAY
    )  # same day numbering as epoch_seconds // 86400
    summary = _finish_summary(
        days=df["days"].to_numpy(float),
        first_to_last=(df["last"] - df["first"]).to_numpy(float),
        first_to_end=(end_day - df["first"]).to_numpy(float),
        total=df["total"].to_numpy(float),
        first_revenue=df["first_revenue"].to_numpy(float),
        index=df["person_id"],
        unit_days=_UNIT_DAYS[unit],
    )
    return summary


def _finish_summary(
    *,
    days: np.ndarray,
    first_to_last: np.ndarray,
    first_to_end: np.ndarray,
    total: np.ndarray,
    first_revenue: np.ndarray,
    index: object,
    unit_days: float,
) -> pd.DataFrame:
    import pandas as pd

    frequency = days - 1.0
    repeat_revenue = total - first_revenue
    monetary = np.divide(
        repeat_revenue, frequency, out=np.zeros_like(repeat_revenue), where=frequency > 0
    )
    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": first_to_last / unit_days,
            "T": first_to_end / unit_days,
            "monetary_value": monetary,
        },
        index=pd.Index(index, name="person_id"),
    )
    return out


def check_summary(summary: pd.DataFrame, columns: tuple[str, ...] = SUMMARY_COLUMNS[:3]) -> None:
    require_columns(summary, columns, "the RFM summary")
    if len(summary) == 0:
        raise InputError("the RFM summary has no rows", field="frequency")
    f, r, t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    if (f < 0).any() or (r < 0).any() or (r > t + 1e-9).any():
        raise InputError(
            "the RFM summary needs frequency >= 0 and 0 <= recency <= T", field="recency"
        )
