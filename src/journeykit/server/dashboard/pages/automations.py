"""Automations and alerts: each automation's status, its uplift against the holdout, its step
funnel and dead letters; and the alerts raised by the metric watches."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeykit.errors import JourneykitError
from journeykit.server.dashboard.html import (
    card,
    esc,
    fmt_int,
    fmt_pct,
    notice,
    query,
    table,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from journeykit.server.dashboard.context import PageContext

STATE_FILE = "orchestrate.sqlite"


def state_url(ctx: PageContext) -> str | None:
    """Where the orchestration state lives: ``JOURNEYKIT_ORCHESTRATE_STATE_URL``, else
    ``orchestrate.sqlite`` in the workspace folder when it exists."""
    url = os.environ.get("JOURNEYKIT_ORCHESTRATE_STATE_URL")
    if url:
        return url
    path = Path(ctx.ws.path) / STATE_FILE
    return f"sqlite:///{path}" if path.is_file() else None


def render(ctx: PageContext) -> str:
    """The automations and alerts page."""
    from journeykit.server.dashboard.pages.overview import alerts_html

    parts = ["<h2>Alerts</h2>", _alert_charts(ctx), alerts_html(ctx, limit=None)]
    url = state_url(ctx)
    parts.append("<h2>Automations</h2>")
    if url is None:
        parts.append(
            notice(
                "No automations yet: register one with `journeykit orchestrate` and its state "
                f"({STATE_FILE} in the workspace, or JOURNEYKIT_ORCHESTRATE_STATE_URL) shows here."
            )
        )
        return "".join(parts)
    try:
        from journeykit.orchestrate.measure import list_automations

        listed = ctx.run(lambda: list_automations(url))
    except ImportError as exc:
        return "".join(parts) + notice(f"Orchestration is not installed: {exc}", kind="warn")
    except JourneykitError as exc:
        return "".join(parts) + notice(str(exc), kind="error")
    if listed.empty:
        return "".join(parts) + notice("No automation is registered.")
    chosen = ctx.get("automation") or str(listed["automation_id"].iloc[0])
    parts.append(
        table(
            listed,
            name="automations",
            caption="Registered automations",
            links={"automation_id": lambda v: query({"automation": v}) + "#report"},
            limit=None,
        )
    )
    parts.append(_report(ctx, url, chosen))
    return "".join(parts)


def _report(ctx: PageContext, url: str, automation_id: str) -> str:
    from journeykit.orchestrate.measure import dead_letters, report

    try:
        rep = ctx.run(lambda: report(url, automation_id))
        dead = ctx.run(lambda: dead_letters(url, automation_id))
    except JourneykitError as exc:
        return notice(str(exc), kind="error")
    groups = rep.groups.reset_index()
    parts = [f'<h2 id="report">{esc(automation_id)}</h2>', '<div class="cards">']
    treat = groups[groups["group"] == "treatment"]
    hold = groups[groups["group"] == "holdout"]
    if not treat.empty:
        t = treat.iloc[0]
        parts.append(
            card("Entered", fmt_int(t["entered"]), note=f"{fmt_int(t['waiting'])} waiting")
        )
        parts.append(card("Converted (treatment)", fmt_pct(t["conversion_rate"])))
    if not hold.empty:
        parts.append(
            card(
                "Converted (holdout)",
                fmt_pct(hold.iloc[0]["conversion_rate"]),
                note=f"{fmt_int(hold.iloc[0]['entered'])} held out",
            )
        )
    if rep.uplift is not None:
        u = rep.uplift
        significant = u.low > 0 or u.high < 0
        parts.append(
            card(
                "Uplift",
                f"{u.uplift * 100:+.1f} pts",
                change=f"{u.confidence:.0%} CI {u.low * 100:+.1f} to {u.high * 100:+.1f}",
                good=(u.uplift > 0) if significant else None,
                note="significant" if significant else "not significant",
            )
        )
    parts.append(card("Dead letters", fmt_int(len(dead))))
    parts.append("</div>")
    if len(rep.funnel) >= 2:
        parts.append('<div class="grid">')
        parts.append(
            ctx.figures.chart(
                _funnel(rep.funnel),
                name=f"automation-{automation_id}",
                height=300,
                title="Journeys reaching each step",
                css="wide",
            )
        )
        parts.append("</div>")
    parts.append(
        table(
            groups,
            name=f"automation-{automation_id}-groups",
            caption="Groups",
            formats={
                "conversion_rate": fmt_pct,
                "uplift": fmt_pct,
                "uplift_low": fmt_pct,
                "uplift_high": fmt_pct,
            },
            limit=None,
        )
    )
    parts.append(
        table(
            rep.funnel,
            name=f"automation-{automation_id}-steps",
            caption="Steps",
            formats={"share_of_entered": fmt_pct, "conversion_rate": fmt_pct},
            limit=None,
        )
    )
    if not dead.empty:
        parts.append(
            table(
                dead,
                name=f"automation-{automation_id}-dead-letters",
                caption="Dead letters",
                limit=200,
            )
        )
    return "".join(parts)


def _funnel(frame: Any) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=frame["step_id"].astype(str),
            y=frame["reached"],
            marker_color="#2563eb",
            customdata=frame["kind"],
            hovertemplate="%{x} (%{customdata}): %{y:,}<extra></extra>",
        )
    )
    fig.update_layout(yaxis_title="journeys")
    return fig


#: Most alerted metrics drawn with their expected range.
MAX_ALERT_CHARTS = 4


def _alert_charts(ctx: PageContext) -> str:
    """Each alerted metric over time, its expected range as a band, alerts marked."""
    from journeykit.server.dashboard.alerts import all_alerts, series_with_range

    try:
        alerts = all_alerts(ctx)
    except (ImportError, JourneykitError):
        return ""
    if alerts.empty:
        return ""
    metrics = list(dict.fromkeys(alerts["metric"]))[:MAX_ALERT_CHARTS]
    parts = ['<div class="grid">']
    for metric in metrics:
        frame = series_with_range(ctx, metric)
        parts.append(
            ctx.figures.chart(
                _range_figure(frame, metric),
                name=f"alert-{metric}",
                height=280,
                title=metric.replace("_", " "),
            )
        )
    parts.append("</div>")
    return "".join(parts)


def _range_figure(frame: Any, metric: str) -> go.Figure:
    import plotly.graph_objects as go

    days = list(frame.index)
    pct = "conversion" in metric
    scale = 100.0 if pct else 1.0
    high = frame["high"].clip(upper=1.0) if pct else frame["high"]
    low = frame["low"].clip(lower=0.0)
    fig = go.Figure()
    fig.add_scatter(
        x=days + days[::-1],
        y=list(high * scale) + list(low * scale)[::-1],
        fill="toself",
        fillcolor="rgba(37,99,235,0.12)",
        line={"width": 0},
        mode="lines",
        hoverinfo="skip",
        name="expected range",
    )
    fig.add_scatter(
        x=days,
        y=frame["value"] * scale,
        mode="lines",
        name=metric,
        line={"color": "#2563eb", "width": 1.5},
    )
    hits = frame[frame["anomaly"]]
    fig.add_scatter(
        x=list(hits.index),
        y=hits["value"] * scale,
        mode="markers",
        name="alert",
        marker={"color": "#e11d48", "size": 8},
    )
    fig.update_layout(showlegend=False, yaxis_ticksuffix="%" if pct else "")
    return fig
