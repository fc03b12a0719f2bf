"""Overview: KPI cards with their trend and change against the previous period, people by
stage, revenue by stage over time, channel mix, and the active alerts.

Conversion, revenue and CAC count the conversion events of the workspace's journey spec, at
the value of its revenue field, in its currency; without a spec the page says how to make one
and shows what needs none (people, channels).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from journeykit.errors import JourneykitError
from journeykit.server.dashboard.html import (
    card,
    esc,
    fmt_int,
    fmt_num,
    fmt_pct,
    notice,
    table,
    text_input,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.server.dashboard.context import PageContext

#: The default period: the last 30 days of data.
DEFAULT_DAYS = 30
#: Weeks drawn in the sparklines.
TREND_WEEKS = 16


def render(ctx: PageContext) -> str:
    """The overview page."""
    first, last = ctx.data_range()
    if first is None or last is None:
        return notice("No events yet: load some data (journeykit ingest, or journeykit demo).")
    start, end = ctx.period(default_days=DEFAULT_DAYS)
    assert start is not None
    stop = end or datetime.combine(last.date(), datetime.min.time()) + timedelta(days=1)
    span = stop - start
    form = (
        '<form class="filters" method="get" action="/">'
        + text_input(
            "start", ctx.get("start") or start.date().isoformat(), label="From", kind="date"
        )
        + text_input(
            "end",
            ctx.get("end") or (stop - timedelta(days=1)).date().isoformat(),
            label="To",
            kind="date",
        )
        + '<div class="actions"><button class="primary" type="submit">Update</button></div>'
        f'<p class="note" style="margin:0 0 .4rem">Compared with the {span.days} days before.'
        f" Data from {first.date()} to {last.date()}.</p></form>"
    )
    if ctx.spec is None:
        from journeykit.server.dashboard.context import no_spec_message

        parts = [form, notice(no_spec_message(ctx), kind="warn"), '<div class="grid">']
        parts.append(_channels(ctx, start, stop))
        parts.append("</div>")
        return "".join(parts)
    from journeykit.server.dashboard.context import spec_warnings

    parts = [spec_warnings(ctx), form, _cards(ctx, start, stop), '<div class="grid">']
    parts.append(_stages(ctx, start, stop))
    parts.append(_channels(ctx, start, stop))
    parts.append('<div class="panel"><h3>Active alerts</h3>')
    parts.append(alerts_html(ctx, limit=8))
    parts.append("</div></div>")
    return "".join(parts)


# --- KPI cards -------------------------------------------------------------------------------


def _kpis(ctx: PageContext, start: datetime, end: datetime) -> Any:
    from journeykit.analytics import kpis

    return ctx.cached("kpis", (start, end), lambda: kpis(ctx.ws, start=start, end=end))


def nps_answers(ctx: PageContext) -> pd.DataFrame:
    """Every NPS answer (``ts``, ``score``), without linking it to a touchpoint (cached)."""
    from journeykit.voc.responses import answers_table

    def compute() -> pd.DataFrame:
        t = answers_table(ctx.ws, reviews=False)
        t = t.filter(t.survey == "nps", t.score.notnull())
        return t.select("ts", "score", "survey").to_pandas()

    return ctx.cached("nps_answers", (), compute)


def _nps_rows(ctx: PageContext, start: datetime, end: datetime) -> pd.DataFrame | None:
    try:
        rows = nps_answers(ctx)
    except ImportError:
        return None
    return rows[(rows["ts"] >= start) & (rows["ts"] < end)]


def _nps(ctx: PageContext, start: datetime, end: datetime) -> tuple[float, int]:
    from journeykit.voc.metrics import nps

    rows = _nps_rows(ctx, start, end)
    if rows is None or rows.empty:
        return float("nan"), 0
    return float(nps(rows)["nps"].iloc[0]), len(rows)


def _cac(k: Any) -> float:
    cac = k.cac
    paid = cac[cac["spend"] > 0]
    new = int(k.cac["new_customers"].sum())
    return float(paid["spend"].sum()) / new if new and not paid.empty else float("nan")


def _cards(ctx: PageContext, start: datetime, stop: datetime) -> str:
    span = stop - start
    now, before = _kpis(ctx, start, stop), _kpis(ctx, start - span, start)
    trend = weekly(ctx, stop)
    nps_now, n_now = _nps(ctx, start, stop)
    nps_before, _ = _nps(ctx, start - span, start)
    rows = [
        (
            "People",
            now.value("active_people"),
            before.value("active_people"),
            fmt_int,
            True,
            "relative",
            trend["people"],
            "active in the period",
        ),
        (
            "Conversion",
            now.value("conversion_rate"),
            before.value("conversion_rate"),
            fmt_pct,
            True,
            "points",
            trend["conversion"],
            "customers / active people",
        ),
        (
            "Revenue",
            now.value("revenue"),
            before.value("revenue"),
            ctx.money,
            True,
            "relative",
            trend["revenue"],
            f"{fmt_int(now.value('orders'))} {_conversions_word(ctx)}",
        ),
        (
            "Churn",
            now.value("churn_rate"),
            before.value("churn_rate"),
            fmt_pct,
            False,
            "points",
            trend["churn"],
            "30 days without activity",
        ),
        (
            "NPS",
            nps_now,
            nps_before,
            lambda v: fmt_num(v, 0),
            True,
            "absolute",
            trend["nps"],
            f"{n_now:,} answers",
        ),
        (
            "CAC",
            _cac(now),
            _cac(before),
            ctx.money,
            False,
            "relative",
            trend["cac"],
            f"{fmt_int(now.value('new_customers'))} new customers",
        ),
    ]
    out = ['<div class="cards" id="kpis">']
    for label, value, previous, fmt, higher_good, how, series, note in rows:
        change, good = _change(value, previous, how, higher_good)
        out.append(
            card(label, fmt(value), change=change, good=good, note=note, spark=sparkline(series))
        )
    out.append("</div>")
    return "".join(out)


def _change(value: float, previous: float, how: str, higher_good: bool) -> tuple[str, bool | None]:
    if value != value or previous != previous:
        return "no earlier data", None
    if how == "relative":
        if not previous:
            return "new", None
        delta = (value - previous) / abs(previous)
        text = f"{delta * 100:+.1f}% vs previous"
    elif how == "points":
        delta = value - previous
        text = f"{delta * 100:+.1f} pts vs previous"
    else:
        delta = value - previous
        text = f"{delta:+.0f} vs previous"
    if abs(delta) < 1e-12:
        return text, None
    return text, (delta > 0) == higher_good


def weekly(ctx: PageContext, stop: datetime) -> dict[str, list[float]]:
    """Series for the sparklines: 7-day windows ending at ``stop``, oldest first (cached).

    Windows count back from the end of the period, so the last point is a whole week too.
    """

    spec = ctx.spec
    assert spec is not None
    conversions = list(spec.conversion_events)

    def compute() -> dict[str, list[float]]:
        import ibis
        import pandas as pd

        from journeykit.journey.filtering import event_money

        begin = stop - timedelta(weeks=TREND_WEEKS)
        ev = ctx.ws.table("events")
        ev = ev.filter(ev.ts >= begin, ev.ts < stop)
        buy = ev.event.isin(conversions)
        value = event_money(ev, spec.revenue_field).fill_null(0.0)
        base = (
            ev.group_by(k=weeks_back(ev.ts, stop))
            .agg(
                people=ev.person_id.nunique(),
                customers=ev.person_id.nunique(where=buy),
                revenue=ibis.ifelse(buy, value, 0.0).sum(),
            )
            .to_pandas()
        )
        all_ev = ctx.ws.table("events")
        firsts = (
            all_ev.filter(all_ev.event.isin(conversions))
            .group_by("person_id")
            .agg(f=all_ev.ts.min())
        )
        firsts = firsts.filter(firsts.f >= begin, firsts.f < stop)
        new = firsts.group_by(k=weeks_back(firsts.f, stop)).agg(new=firsts.count()).to_pandas()
        spend_t = ctx.ws.table("spend")
        spend_t = spend_t.filter(spend_t.date >= begin.date(), spend_t.date < stop.date())
        spend = (
            spend_t.group_by(k=weeks_back(spend_t.date.cast("timestamp"), stop))
            .agg(spend=spend_t.amount.sum())
            .to_pandas()
        )
        frame = pd.DataFrame({"k": range(TREND_WEEKS - 1, -1, -1)})
        frame = frame.merge(base, on="k", how="left").merge(new, on="k", how="left")
        frame = frame.merge(spend, on="k", how="left")
        frame = frame.fillna({"people": 0, "customers": 0, "revenue": 0.0, "new": 0, "spend": 0.0})
        people = frame["people"].astype(float)
        out: dict[str, list[float]] = {
            "people": people.tolist(),
            "conversion": (frame["customers"] / people.where(people > 0)).astype(float).tolist(),
            "revenue": frame["revenue"].astype(float).tolist(),
            "cac": [
                s / n if n else float("nan")
                for s, n in zip(frame["spend"], frame["new"], strict=True)
            ],
        }
        out["churn"] = _weekly_churn(ctx, begin)
        out["nps"] = _weekly_nps(ctx, begin, stop)
        return out

    return ctx.cached("weekly", stop, compute)


def _conversions_word(ctx: PageContext) -> str:
    """What the conversions are called in the cards: the spec's conversion event names."""
    names = ctx.spec.conversion_events if ctx.spec is not None else ()
    return f"conversions ({', '.join(names)})" if names else "conversions"


def weeks_back(ts: Any, stop: datetime) -> Any:
    """Whole 7-day windows between ``ts`` and ``stop`` (0: the last week before ``stop``)."""
    import ibis

    return (ibis.literal(stop.date()).delta(ts.date(), unit="day") - 1) // 7


def _weekly_churn(ctx: PageContext, begin: datetime) -> list[float]:
    from journeykit.analytics import churn

    frame = churn(ctx.ws, inactivity="30d", grain="week")
    frame = frame[frame["period"] >= begin.date()]
    return frame["churn_rate"].astype(float).tolist()


def _weekly_nps(ctx: PageContext, begin: datetime, stop: datetime) -> list[float]:
    from journeykit.voc.metrics import nps

    rows = _nps_rows(ctx, begin, stop)
    if rows is None or rows.empty:
        return []
    return nps(rows, freq="W")["nps"].astype(float).tolist()


def sparkline(values: list[float], *, width: int = 160, height: int = 36) -> str:
    """A small inline SVG line of the values (missing ones skipped)."""
    points = [(i, v) for i, v in enumerate(values) if v == v]
    if len(points) < 2:
        return ""
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)
    coords = " ".join(
        f"{i / n * (width - 4) + 2:.1f},{height - 3 - (v - lo) / span * (height - 6):.1f}"
        for i, v in points
    )
    last_x, last_y = coords.split(" ")[-1].split(",")
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'role="img" aria-label="weekly trend"><polyline fill="none" stroke="#2563eb" '
        f'stroke-width="1.6" points="{coords}"/><circle cx="{last_x}" cy="{last_y}" r="2.4" '
        'fill="#2563eb"/></svg>'
    )


# --- stages and channels ---------------------------------------------------------------------


def _stages(ctx: PageContext, start: datetime, stop: datetime) -> str:
    """People by current stage and revenue by stage over time (from the journey map)."""
    try:
        frames = stage_frames(ctx, start, stop)
    except ImportError:
        frames = None
    except JourneykitError as exc:
        return notice(f"Stages: {exc}", kind="warn")
    if frames is None:
        from journeykit.server.dashboard.context import no_spec_message

        return notice(no_spec_message(ctx))
    people, revenue = frames
    parts = []
    if people is not None and not people.empty:
        parts.append(
            ctx.figures.chart(
                _people_by_stage(people),
                name="people-by-stage",
                height=320,
                title="People by stage",
            )
        )
    if revenue is not None and not revenue.empty:
        parts.append(
            ctx.figures.chart(
                _revenue_by_stage(revenue, ctx.currency),
                name="revenue-by-stage",
                height=320,
                title="Revenue by stage over time",
            )
        )
    return "".join(parts)


def stage_frames(ctx: PageContext, start: datetime, stop: datetime) -> Any:
    """(people by stage, revenue by stage and week) or ``None`` without a journey spec."""
    from journeykit.server.dashboard.stages import people_by_stage, revenue_by_stage

    spec = ctx.spec
    if spec is None:
        return None
    people = ctx.cached("people_by_stage", (), lambda: people_by_stage(ctx.ws, spec))
    revenue = ctx.cached("revenue_by_stage", stop, lambda: revenue_by_stage(ctx.ws, spec, stop))
    return people, revenue


def _people_by_stage(frame: pd.DataFrame) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_bar(
        x=frame["stage"],
        y=frame["people"],
        name="in the stage now",
        marker_color="#2563eb",
        text=[fmt_int(v) for v in frame["people"]],
        textposition="outside",
        hovertemplate="%{x}: %{y:,} people now<extra></extra>",
    )
    fig.add_bar(
        x=frame["stage"],
        y=frame["reached"],
        name="got this far",
        marker_color="#93c5fd",
        hovertemplate="%{x}: %{y:,} people reached it<extra></extra>",
    )
    fig.update_layout(yaxis_title="people", barmode="group")
    return fig


def _revenue_by_stage(frame: pd.DataFrame, symbol: str) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    for stage, part in frame.groupby("stage", sort=False):
        fig.add_bar(
            x=part["week"],
            y=part["revenue"],
            name=str(stage),
            hovertemplate="week from %{x}<br>"
            + esc(stage)
            + ": "
            + esc(symbol)
            + "%{y:,.0f}<extra></extra>",
        )
    fig.update_layout(yaxis_tickprefix=symbol, barmode="stack", legend_title_text="stage now:")
    return fig


def _channels(ctx: PageContext, start: datetime, stop: datetime) -> str:
    def compute() -> pd.DataFrame:
        ev = ctx.ws.table("events")
        ev = ev.filter(ev.ts >= start, ev.ts < stop)
        return (
            ev.group_by(channel=ev.channel.fill_null("(none)"))
            .agg(events=ev.count(), people=ev.person_id.nunique())
            .order_by([ev.count().desc()])
            .to_pandas()
        )

    frame = ctx.cached("channel_mix", (start, stop), compute)
    if frame.empty:
        return ""
    import plotly.graph_objects as go

    frame = frame.sort_values("people")
    fig = go.Figure(
        go.Bar(
            x=frame["people"],
            y=frame["channel"],
            orientation="h",
            marker_color="#0891b2",
            hovertemplate="%{y}: %{x:,} people<extra></extra>",
        )
    )
    return ctx.figures.chart(
        fig, name="people-by-channel", height=320, title="People by channel in the period"
    )


# --- alerts ----------------------------------------------------------------------------------


def alerts_html(ctx: PageContext, *, limit: int | None) -> str:
    """The active alerts (``limit`` of them), or every alert when ``limit`` is ``None``."""
    from journeykit.server.dashboard.alerts import active_alerts, all_alerts

    try:
        frame = all_alerts(ctx) if limit is None else active_alerts(ctx)
    except ImportError as exc:
        return notice(f"Alerts are not available: {exc}")
    except JourneykitError as exc:
        return notice(f"Alerts: {exc}", kind="warn")
    if frame.empty:
        return notice("No alerts: every watched metric is in its expected range.")
    if limit is not None:
        items = "".join(
            f'<li><span class="sev {"high" if abs(r.z) >= 6 else "medium"}">{esc(r.direction)}</span>'
            f"<strong>{esc(r.metric)}</strong> on {esc(r.date)}: {_metric_value(ctx, r.metric, r.value)}"
            f" (expected {_metric_value(ctx, r.metric, r.expected)})</li>"
            for r in frame.head(limit).itertuples(index=False)
        )
        more = (
            f'<p class="note"><a href="/automations">All {len(frame)} alerts</a></p>'
            if len(frame) > limit
            else '<p class="note"><a href="/automations">Alert history</a></p>'
        )
        return f'<ul class="alerts">{items}</ul>{more}'
    return table(
        frame,
        name="alerts",
        caption="Alert history",
        formats={"z": lambda v: fmt_num(v, 1)},
        numeric=["value", "expected", "low", "high", "z"],
        row_formats=[lambda v, m=m: _metric_value(ctx, m, v) for m in frame["metric"]],
        limit=None,
    )


def _metric_value(ctx: PageContext, metric: str, value: float) -> str:
    if "conversion" in metric:
        return fmt_pct(value)
    if metric == "revenue":
        return ctx.money(value)
    return fmt_num(value, 0)
