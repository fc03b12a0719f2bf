"""Alerts for the dashboard: daily journey metrics watched with :mod:`journeykit.monitor`.

What is watched comes from the workspace's journey spec (:func:`watched`): its conversions and
their value, active people (events the business sends do not count), each error touchpoint,
and the conversion of the step that leads to a conversion (the last action touchpoint before
the conversion's own), overall and per value of the spec's first breakdown property (the
platform, say). The daily series come from one group-by over the events; each is watched
with :class:`journeykit.monitor.Watch` (a trailing same-weekday baseline with a robust
z-score). An alert is *active* when its day lies in the last :data:`ACTIVE_DAYS` days of data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.journey.spec import JourneySpec
    from journeykit.server.dashboard.context import PageContext
    from journeykit.store import Workspace

#: Alerts on the last this-many days of data are active.
ACTIVE_DAYS = 7
#: Breakdown values (the most frequent) whose step conversion is watched on its own.
MAX_SEGMENTS = 3
#: A conversion is watched only with this many step events a day on average (fewer is noise).
MIN_DAILY_STEPS = 20
ALERT_COLUMNS = ["date", "metric", "direction", "value", "expected", "low", "high", "z"]


def slug(name: str) -> str:
    """A metric name from a touchpoint name: ``"Payment failure"`` -> ``payment_failure``.

    >>> slug("Payment failure"), slug("Checkout (web)")
    ('payment_failure', 'checkout_web')
    """
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "step"


@dataclass(frozen=True)
class Watched:
    """What the alerts watch, read from a journey spec.

    Attributes:
        conversions: the conversion events; ``revenue_field`` where their value is.
        messages: events the business sends (not activity).
        errors: metric name -> the events of each error touchpoint.
        step: the step before a conversion (``None`` when the spec has none): its metric
            name, events and channels (``None``: any), and ``breakdown``, the property whose
            values get their own step conversion.
    """

    conversions: tuple[str, ...]
    revenue_field: str
    messages: tuple[str, ...]
    errors: dict[str, tuple[str, ...]]
    step: tuple[str, tuple[str, ...], tuple[str, ...] | None] | None
    breakdown: str | None


def watched(spec: JourneySpec) -> Watched:
    """The names the alerts read from ``spec``."""
    tps = spec.all_touchpoints()
    conversions = set(spec.conversion_events)
    errors = {slug(tp.name): tp.events for tp in tps if tp.kind == "error"}
    step = None
    first_conv = next((i for i, tp in enumerate(tps) if set(tp.events) & conversions), None)
    if first_conv is not None:
        before = [
            tp
            for tp in tps[:first_conv]
            if tp.kind == "action" and tp.where is None and not set(tp.events) & conversions
        ]
        if before:
            tp = before[-1]
            step = (f"{slug(tp.name)}_conversion", tp.events, tp.channels)
    return Watched(
        conversions=spec.conversion_events,
        revenue_field=spec.revenue_field,
        messages=spec.message_events,
        errors=errors,
        step=step,
        breakdown=spec.settings.breakdowns[0] if spec.settings.breakdowns else None,
    )


def watches(w: Watched, segments: tuple[str, ...] = ()) -> list[Any]:
    """The watches: drops in conversions, revenue, activity and step conversion; rises in
    errors. Counts scale with the weekday (multiplicative); spreads have a floor so that a
    quiet series does not flag its first small wobble."""
    from journeykit.monitor import Watch

    out = [
        Watch("conversions", direction="low", seasonality="multiplicative", min_spread=2.0),
        Watch("revenue", direction="low", seasonality="multiplicative", min_spread=200.0),
        Watch("active_people", direction="low", seasonality="multiplicative", min_spread=5.0),
    ]
    out += [
        Watch(name, direction="high", seasonality="none", min_spread=1.0, min_change=3.0)
        for name in w.errors
    ]
    if w.step is not None:
        out += [
            Watch(name, direction="low", seasonality="none", min_spread=0.03, min_change=0.05)
            for name in (w.step[0], *[f"{w.step[0]}_{v}" for v in segments])
        ]
    return out


def daily_metrics(ws: Workspace, w: Watched) -> dict[str, pd.Series]:
    """The watched metrics per day (a Series indexed by day each; days without data absent)."""
    import ibis
    import pandas as pd

    from journeykit.journey.filtering import event_money, property_text

    ev = ws.table("events")
    buy = ev.event.isin(list(w.conversions))
    step_events = list(w.step[1]) if w.step is not None else []
    step = ev.event.isin(step_events) if step_events else ibis.literal(False)
    # conversions that can follow the step: on the step's channels when it names them
    after_step = buy
    if w.step is not None and w.step[2] is not None:
        after_step = buy & ev.channel.isin(list(w.step[2]))
    value = event_money(ev, w.revenue_field).fill_null(0.0)
    active = ~ev.event.isin(list(w.messages)) if w.messages else ibis.literal(True)
    frame = (
        ev.group_by(day=ev.ts.date())
        .agg(
            conversions=buy.cast("int64").sum(),
            revenue=ibis.ifelse(buy, value, 0.0).sum(),
            # what the business sends is not activity of the person
            active_people=ev.person_id.nunique(where=active),
            steps=step.cast("int64").sum(),
            step_conversions=after_step.cast("int64").sum(),
            **{
                name: ev.event.isin(list(events)).cast("int64").sum()
                for name, events in w.errors.items()
            },
        )
        .to_pandas()
    )
    if frame.empty:
        return {}
    frame = frame.sort_values("day")
    segments: dict[str, pd.DataFrame] = {}
    if w.step is not None and w.breakdown is not None:
        # the breakdown is read from the JSON properties of steps and conversions only
        sales = ev.filter(ev.event.isin([*step_events, *w.conversions]))
        per = (
            sales.group_by(
                day=sales.ts.date(),
                value=property_text(sales, w.breakdown).lower(),
                is_step=sales.event.isin(step_events),
            )
            .agg(n=sales.count())
            .to_pandas()
            .dropna(subset=["value"])
        )
        top = per[per["is_step"]].groupby("value")["n"].sum().nlargest(MAX_SEGMENTS).index
        for v in top:
            part = per[per["value"] == v]
            steps = part[part["is_step"]].set_index("day")["n"]
            convs = part[~part["is_step"]].set_index("day")["n"]
            segments[str(v)] = pd.DataFrame(
                {
                    "steps": [steps.get(d, 0) for d in frame["day"]],
                    "conversions": [convs.get(d, 0) for d in frame["day"]],
                }
            )
    index = pd.to_datetime(frame["day"])
    frame = frame.set_index(index).drop(columns="day")
    series: dict[str, pd.Series] = {
        name: frame[name].astype(float)
        for name in ("conversions", "revenue", "active_people", *w.errors)
    }
    days = max(len(frame), 1)
    if w.step is not None and frame["steps"].sum() >= MIN_DAILY_STEPS * days:
        series[w.step[0]] = _ratio(frame["step_conversions"], frame["steps"])
    for v, part in segments.items():
        part = part.set_index(index)
        if w.step is not None and part["steps"].sum() >= MIN_DAILY_STEPS * days:
            series[f"{w.step[0]}_{slug(v)}"] = _ratio(part["conversions"], part["steps"])
    return series


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """Conversions per step, capped at 1 (a conversion may follow a step of the day before)."""
    return (num / den.where(den > 0)).clip(upper=1.0).astype(float)


def _series(ctx: PageContext) -> dict[str, pd.Series]:
    spec = ctx.spec
    if spec is None:
        return {}
    return ctx.cached("daily_metrics", (), lambda: daily_metrics(ctx.ws, watched(spec)))


def _watches(ctx: PageContext, series: dict[str, pd.Series]) -> list[Any]:
    if ctx.spec is None:
        return []
    w = watched(ctx.spec)
    prefix = f"{w.step[0]}_" if w.step is not None else None
    segments = tuple(
        name.removeprefix(prefix) for name in series if prefix and name.startswith(prefix)
    )
    return watches(w, segments)


def all_alerts(ctx: PageContext) -> pd.DataFrame:
    """Every alert over the whole data, newest first (cached per workspace)."""

    def compute() -> pd.DataFrame:
        import pandas as pd

        from journeykit.monitor import scan

        series = _series(ctx)
        rows = []
        for watch in _watches(ctx, series):
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

        series = _series(ctx)
        watch = next(w for w in _watches(ctx, series) if w.metric == metric)
        return expected_range(series[metric], watch)

    return ctx.cached("alert_series", metric, compute)
