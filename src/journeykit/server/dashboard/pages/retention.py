"""Retention: the cohort heatmap and curve, churn per period, and lifecycle states."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from journeykit.errors import InputError, JourneykitError
from journeykit.server.dashboard.html import (
    fmt_int,
    fmt_pct,
    notice,
    select,
    table,
    text_input,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.analytics import Retention
    from journeykit.server.dashboard.context import PageContext

GRAINS = (("week", "Weeks"), ("day", "Days"), ("month", "Months"))
KINDS = (("n_period", "In that period"), ("unbounded", "In that period or later"))


@dataclass(frozen=True)
class RetentionQuery:
    """The retention a request asks for."""

    cohort: str
    returning: str | None
    grain: str
    periods: int
    kind: str
    segment: str | None
    inactivity: str

    def retention(self, ctx: PageContext) -> Retention:
        """The cohort table (cached)."""
        from journeykit.analytics import retention

        return ctx.cached(
            "retention",
            self,
            lambda: retention(
                ctx.ws,
                cohort=self.cohort,
                returning=self.returning,
                grain=self.grain,  # type: ignore[arg-type]
                periods=self.periods,
                kind=self.kind,  # type: ignore[arg-type]
                segment=self.segment,
            ),
        )

    def churn(self, ctx: PageContext) -> pd.DataFrame:
        """Churn per period (cached)."""
        from journeykit.analytics import churn

        return ctx.cached(
            "churn",
            (self.inactivity, self.grain, self.segment),
            lambda: churn(
                ctx.ws,
                inactivity=self.inactivity,
                grain=self.grain,  # type: ignore[arg-type]
                segment=self.segment,
            ),
        )

    def lifecycle(self, ctx: PageContext) -> pd.DataFrame:
        """Lifecycle states per period (cached)."""
        from journeykit.analytics import lifecycle

        return ctx.cached(
            "lifecycle",
            (self.grain, self.segment),
            lambda: lifecycle(ctx.ws, grain=self.grain, segment=self.segment),  # type: ignore[arg-type]
        )


def read_query(ctx: PageContext) -> RetentionQuery:
    """The retention parameters of a request."""
    periods_text = ctx.get("periods", "8") or "8"
    if not periods_text.isdigit() or not 1 <= int(periods_text) <= 52:
        raise InputError("periods must be a whole number from 1 to 52", field="periods")
    return RetentionQuery(
        cohort=ctx.get("cohort", "first_event") or "first_event",
        returning=ctx.get("returning"),
        grain=ctx.get("grain", "week") or "week",
        periods=int(periods_text),
        kind=ctx.get("kind", "n_period") or "n_period",
        segment=ctx.get("segment"),
        inactivity=ctx.get("inactivity", "30d") or "30d",
    )


def render(ctx: PageContext) -> str:
    """The retention page."""
    names = sorted(str(e) for e in ctx.event_names()["event"])
    if not names:
        return notice("No events yet: load some data first.")
    try:
        q = read_query(ctx)
    except JourneykitError as exc:
        return form(ctx, None, names) + notice(str(exc), kind="error")
    from journeykit.server.dashboard.names import name_notices

    out = form(ctx, q, names) + name_notices(ctx, filters=[q.returning, q.segment], cohort=q.cohort)
    try:
        ret = q.retention(ctx)
    except JourneykitError as exc:
        return out + notice(str(exc), kind="error")
    if "complete" in ret.table.columns:
        # a period still running would read as a drop: leave it out
        ret = replace(ret, table=ret.table[ret.table["complete"].astype(bool)])
    parts = [out, '<div class="grid">']
    if ret.table.empty:
        parts.append(notice("No cohorts in this selection.", kind="warn"))
    else:
        parts.append(
            ctx.figures.chart(
                heatmap(ret),
                name="retention-heatmap",
                height=max(320, 32 * ret.table["cohort"].nunique() + 90),
                title="Cohorts: share active in each period",
                css="wide",
            )
        )
        parts.append(
            ctx.figures.chart(
                curve(ret),
                name="retention-curve",
                height=320,
                title="Retention curve (all cohorts)",
            )
        )
    try:
        churn = q.churn(ctx)
        life = q.lifecycle(ctx)
    except JourneykitError as exc:
        parts.append(notice(str(exc), kind="error"))
        churn = life = None
    if churn is not None and not churn.empty:
        parts.append(
            ctx.figures.chart(
                churn_figure(churn),
                name="churn",
                height=320,
                title=f"Churn rate ({q.inactivity} without activity)",
            )
        )
    if life is not None and not life.empty:
        parts.append(
            ctx.figures.chart(
                lifecycle_figure(life),
                name="lifecycle",
                height=340,
                title="Lifecycle: active people by state",
                css="wide",
            )
        )
    parts.append("</div>")
    if not ret.table.empty:
        matrix = ret.table.pivot(index="cohort", columns="period", values="rate")
        sizes = ret.table.groupby("cohort")["cohort_size"].first()
        shown = matrix.rename(columns=lambda p: f"period {p}")
        shown.insert(0, "people", sizes)
        shown = shown.reset_index()
        parts.append(
            table(
                shown,
                name="retention",
                caption="Retention by cohort",
                formats={c: fmt_pct for c in shown.columns if c.startswith("period")}
                | {"people": fmt_int},
                limit=None,
            )
        )
    grid = ['<div class="grid">']
    if churn is not None and not churn.empty:
        grid.append(
            table(
                churn,
                name="churn",
                caption="Churn by period",
                formats={"churn_rate": fmt_pct, "retention_rate": fmt_pct},
                limit=None,
            )
        )
    if life is not None and not life.empty:
        grid.append(table(life, name="lifecycle", caption="Lifecycle by period", limit=None))
    grid.append("</div>")
    return "".join(parts + grid)


def form(ctx: PageContext, q: RetentionQuery | None, names: list[str]) -> str:
    """The retention settings form."""
    cohorts = [("first_event", "First event"), ("first_purchase", "First purchase")]
    cohorts += [(n, n) for n in names]
    returning = [("", "Any event"), *((n, n) for n in names)]
    return (
        '<form class="filters" method="get" action="/retention">'
        + select("cohort", cohorts, q.cohort if q else "first_event", label="Cohort starts at")
        + select("returning", returning, q.returning if q else "", label="Comes back with")
        + select("grain", list(GRAINS), q.grain if q else "week", label="Period")
        + text_input("periods", str(q.periods) if q else "8", label="Periods", kind="number")
        + select("kind", list(KINDS), q.kind if q else "n_period", label="Counted as active")
        + text_input("inactivity", q.inactivity if q else "30d", label="Churn after")
        + text_input(
            "segment",
            q.segment if q else "",
            label="Segment (filter)",
            placeholder='first_channel == "referral"',
            wide=True,
        )
        + '<div class="actions"><button class="primary" type="submit">Update</button></div>'
        "</form>"
    )


def heatmap(ret: Retention) -> go.Figure:
    """Cohorts (rows, with their size) by period: the share active."""
    import plotly.graph_objects as go

    t = ret.table
    matrix = t.pivot(index="cohort", columns="period", values="rate").sort_index()
    sizes = t.groupby("cohort")["cohort_size"].first().reindex(matrix.index)
    labels = [f"{c} · {int(n):,}" for c, n in zip(matrix.index, sizes, strict=True)]
    z = matrix.to_numpy(dtype=float) * 100
    text = [[("" if v != v else f"{v:.0f}%") for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{p}" for p in matrix.columns],
            y=labels,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            hovertemplate="cohort %{y}<br>period %{x}: %{z:.1f}%<extra></extra>",
            showscale=False,
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title=f"{ret.grain}s after the cohort's first", type="category")
    return fig


def curve(ret: Retention) -> go.Figure:
    """Retention by period over all cohorts."""
    import plotly.graph_objects as go

    c = ret.curve()
    fig = go.Figure(
        go.Scatter(
            x=c["period"],
            y=c["rate"] * 100,
            mode="lines+markers",
            hovertemplate="period %{x}: %{y:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis_ticksuffix="%", xaxis_title=f"{ret.grain}s after", yaxis_rangemode="tozero"
    )
    return fig


def churn_figure(churn: pd.DataFrame) -> go.Figure:
    """Churn rate per period."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=churn["period"],
            y=churn["churn_rate"] * 100,
            marker_color="#e11d48",
            customdata=churn[["churned", "active_start"]].to_numpy(),
            hovertemplate="%{x}: %{y:.1f}%<br>%{customdata[0]:,} of %{customdata[1]:,}"
            "<extra></extra>",
        )
    )
    fig.update_layout(yaxis_ticksuffix="%")
    return fig


def lifecycle_figure(life: pd.DataFrame) -> go.Figure:
    """New, returning and resurrecting people up, dormant down."""
    import plotly.graph_objects as go

    fig = go.Figure()
    colors: dict[str, Any] = {
        "new": "#2563eb",
        "returning": "#10b981",
        "resurrecting": "#f97316",
        "dormant": "#94a3b8",
    }
    for state in ("returning", "new", "resurrecting"):
        fig.add_bar(x=life["period"], y=life[state], name=state, marker_color=colors[state])
    fig.add_bar(
        x=life["period"],
        y=-life["dormant"],
        name="dormant",
        marker_color=colors["dormant"],
        customdata=life["dormant"],
        hovertemplate="%{x}: %{customdata:,} dormant<extra></extra>",
    )
    fig.update_layout(barmode="relative")
    return fig
