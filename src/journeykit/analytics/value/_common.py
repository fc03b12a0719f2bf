"""Shared pieces of the value models: the event vocabulary, input checks, engine pulls.

The defaults name the events of journeykit's demo retailer (see docs/demo.md); every builder
takes them as arguments, so any workspace with other names works as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from journeykit.store import Workspace

#: The event that counts as a purchase.
ORDER_EVENT = "Order Completed"

#: Marketing touches that attribution credits by default (their channel is the event's channel).
TOUCH_EVENTS: tuple[str, ...] = (
    "Ad Clicked",
    "Social Post Viewed",
    "Blog Post Viewed",
    "Search Result Clicked",
    "Referral Link Clicked",
    "Email Clicked",
)

#: Events the business sends rather than the person does; they do not count as activity.
PASSIVE_EVENTS: tuple[str, ...] = ("Email Sent",)

#: Journey stage of each event of the demo vocabulary, in stage order.
STAGES: tuple[str, ...] = ("awareness", "consideration", "purchase", "retention", "advocacy")
STAGE_OF_EVENT: Mapping[str, str] = {
    "Ad Clicked": "awareness",
    "Social Post Viewed": "awareness",
    "Blog Post Viewed": "awareness",
    "Search Result Clicked": "awareness",
    "Referral Link Clicked": "awareness",
    "Session Started": "consideration",
    "Product Viewed": "consideration",
    "Product Added": "consideration",
    "Signed Up": "consideration",
    "Store Visited": "consideration",
    "Chat Started": "consideration",
    "Chat Ended": "consideration",
    "Support Called": "consideration",
    "Checkout Started": "purchase",
    "Payment Failed": "purchase",
    "Order Completed": "purchase",
    "Email Sent": "retention",
    "Email Opened": "retention",
    "Email Clicked": "retention",
    "Order Returned": "retention",
    "Survey Answered": "advocacy",
    "Review Posted": "advocacy",
    "Referral Sent": "advocacy",
}

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


def json_field(properties: ibis.Value, key: str) -> ibis.StringValue:
    """The string value of ``key`` in a JSON-text ``properties`` column (null when absent)."""
    return properties.cast("json")[key].str


def json_number(properties: ibis.Value, key: str) -> ibis.FloatingValue:
    """The numeric value of ``key`` in a JSON-text ``properties`` column (null when absent)."""
    return properties.cast("json")[key].float


def isin_fast(values: pd.Series, pool: pd.Series) -> Any:
    """``values.isin(pool)`` by hashing (pandas' isin on Arrow strings loops in Python)."""
    import pandas as pd

    return pd.Index(pool.unique()).get_indexer(values) >= 0
