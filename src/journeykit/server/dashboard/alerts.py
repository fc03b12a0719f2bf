"""Alerts for the dashboard: daily journey metrics watched with :mod:`journeykit.monitor`.

The daily series (orders, revenue, active people, payment failures, and checkout conversion
overall and per platform) come from one group-by over the events; each is watched with
:class:`journeykit.monitor.Watch` (a trailing same-weekday baseline with a robust z-score).
An alert is *active* when its day lies in the last :data:`ACTIVE_DAYS` days of data.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.server.dashboard.context import PageContext
    from journeykit.store import Workspace

#: Alerts on the last this-many days of data are active.
ACTIVE_DAYS = 7
PURCHASE = "Order Completed"
CHECKOUT = "Checkout Started"
PAYMENT_FAILED = "Payment Failed"
#: Platforms whose checkout conversion is watched on its own.
PLATFORMS = ("ios", "android", "web")
#: Events the business sends: not activity of the person.
MESSAGES = ("Email Sent",)
#: A conversion is watched only with this many checkouts a day on average (fewer is noise).
MIN_DAILY_CHECKOUTS = 20
ALERT_COLUMNS = ["date", "metric", "direction", "value", "expected", "low", "high", "z"]


def watches() -> list[Any]:
    """The watched metrics: drops in orders, revenue, activity and conversion; rises in
    payment failures. Counts scale with the weekday (multiplicative); spreads have a floor
    so that a quiet series does not flag its first small wobble."""
    from journeykit.monitor import Watch

    out = [
        Watch("orders", direction="low", seasonality="multiplicative", min_spread=2.0),
        Watch("revenue", direction="low", seasonality="multiplicative", min_spread=200.0),
        Watch("active_people", direction="low", seasonality="multiplicative", min_spread=5.0),
        Watch(
            "payment_failures", direction="high", seasonality="none", min_spread=1.0, min_change=3.0
        ),
        Watch(
            "checkout_conversion",
            direction="low",
            seasonality="none",
            min_spread=0.03,
            min_change=0.05,
        ),
    ]
    out += [
        Watch(
            f"checkout_conversion_{p}",
            direction="low",
            seasonality="none",
            min_spread=0.03,
            min_change=0.05,
        )
        for p in PLATFORMS
    ]
    return out


def daily_metrics(ws: Workspace) -> dict[str, pd.Series]:
    """The watched metrics per day (a Series indexed by day each; days without data absent)."""
    import ibis
    import pandas as pd

    ev = ws.table("events")
    buy, checkout = ev.event == PURCHASE, ev.event == CHECKOUT
    frame = (
        ev.group_by(day=ev.ts.date())
        .agg(
            orders=buy.cast("int64").sum(),
            revenue=ibis.ifelse(buy, ev.revenue, 0.0).sum(),
            # what the business sends is not activity of the person
            active_people=ev.person_id.nunique(where=~ev.event.isin(list(MESSAGES))),
            payment_failures=(ev.event == PAYMENT_FAILED).cast("int64").sum(),
            checkouts=checkout.cast("int64").sum(),
            online_orders=(buy & ev.channel.isin(["web", "app"])).cast("int64").sum(),
        )
        .to_pandas()
    )
    if frame.empty:
        return {}
    # the platform is read from the JSON properties of checkouts and orders only
    sales = ev.filter(ev.event.isin([PURCHASE, CHECKOUT]))
    platform = sales.properties.try_cast("json")["platform"].str.lower()
    per_platform = (
        sales.group_by(day=sales.ts.date(), platform=platform, event=sales.event)
        .agg(n=sales.count())
        .to_pandas()
    )
    for p in PLATFORMS:
        for name, event in (("checkouts", CHECKOUT), ("orders", PURCHASE)):
            part = per_platform[(per_platform["platform"] == p) & (per_platform["event"] == event)]
            counts = dict(zip(part["day"], part["n"], strict=True))
            frame[f"{name}_{p}"] = [counts.get(d, 0) for d in frame["day"]]
    frame = frame.sort_values("day")
    frame = frame.set_index(pd.to_datetime(frame["day"])).drop(columns="day")
    series: dict[str, pd.Series] = {
        name: frame[name].astype(float)
        for name in ("orders", "revenue", "active_people", "payment_failures")
    }
    days = max(len(frame), 1)
    if frame["checkouts"].sum() >= MIN_DAILY_CHECKOUTS * days:
        series["checkout_conversion"] = _ratio(frame["online_orders"], frame["checkouts"])
    for p in PLATFORMS:
        if frame[f"checkouts_{p}"].sum() >= MIN_DAILY_CHECKOUTS * days:
            series[f"checkout_conversion_{p}"] = _ratio(
                frame[f"orders_{p}"], frame[f"checkouts_{p}"]
            )
    return series


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """Orders per checkout, capped at 1 (an order may follow a checkout of the day before)."""
    return (num / den.where(den > 0)).clip(upper=1.0).astype(float)


def _series(ctx: PageContext) -> dict[str, pd.Series]:
    return ctx.cached("daily_metrics", (), lambda: daily_metrics(ctx.ws))


def all_alerts(ctx: PageContext) -> pd.DataFrame:
    """Every alert over the whole data, newest first (cached per workspace)."""

    def compute() -> pd.DataFrame:
        import pandas as pd

        from journeykit.monitor import scan

        series = _series(ctx)
        rows = []
        for watch in watches():
            if watch.metric in series:
                rows += [vars(a) for a in scan(series[watch.metric], watch)]
        frame = pd.DataFrame(rows, columns=[*ALERT_COLUMNS, "history"])
        frame = frame.sort_values(["date", "metric"], ascending=[False, True])
        return frame[ALERT_COLUMNS].reset_index(drop=True)

    return ctx.cached("alerts", (), compute)


def active_alerts(ctx: PageContext) -> pd.DataFrame:
    """The alerts on the last :data:`ACTIVE_DAYS` days of data, newest first."""
    frame = all_alerts(ctx)
    _, last = ctx.data_range()
    if frame.empty or last is None:
        return frame
    since = last.date() - timedelta(days=ACTIVE_DAYS - 1)
    return frame[frame["date"] >= since].reset_index(drop=True)


def series_with_range(ctx: PageContext, metric: str) -> pd.DataFrame:
    """One metric's days with the expected value and range (cached)."""

    def compute() -> pd.DataFrame:
        from journeykit.monitor import expected_range

        watch = next(w for w in watches() if w.metric == metric)
        return expected_range(_series(ctx)[metric], watch)

    return ctx.cached("alert_series", metric, compute)
