"""Voice of the customer: NPS, CSAT and CES trends, scores by touchpoint, themes, verbatims."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from journeykit.errors import JourneykitError
from journeykit.server.dashboard.html import (
    card,
    fmt_int,
    fmt_num,
    notice,
    select,
    table,
    text_input,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.server.dashboard.context import PageContext

GRAINS = (("W", "Weeks"), ("D", "Days"), ("M", "Months"))
#: Verbatims listed per page.
VERBATIMS = 200


def responses(ctx: PageContext) -> pd.DataFrame:
    """Every survey answer and review with its touchpoint (cached per workspace)."""
    from journeykit.voc.responses import survey_responses

    return ctx.cached("voc_responses", (), lambda: survey_responses(ctx.ws, surveys=None))


def comments(ctx: PageContext) -> pd.DataFrame:
    """The answers with a comment, with sentiment (cached per workspace)."""

    def compute() -> pd.DataFrame:
        from journeykit.voc.sentiment import sentiment

        frame = responses(ctx)
        frame = frame[frame["comment"].notna()].reset_index(drop=True)
        if frame.empty:
            return frame
        scored = sentiment(frame["comment"], method="model")
        return frame.assign(sentiment=scored["score"], sentiment_label=scored["label"])

    return ctx.cached("voc_comments", (), compute)


def theme_report(ctx: PageContext) -> Any:
    """Themes of all comments (cached per workspace); ``None`` when there are too few."""

    def compute() -> Any:
        from journeykit.voc.report import build_theme_report

        frame = comments(ctx)
        if len(frame) < 10:
            return None
        return build_theme_report(frame)

    return ctx.cached("voc_themes", (), compute)


def _window(frame: pd.DataFrame, start: datetime | None, end: datetime | None) -> pd.DataFrame:
    if start is not None:
        frame = frame[frame["ts"] >= start]
    if end is not None:
        frame = frame[frame["ts"] < end]
    return frame


def render(ctx: PageContext) -> str:
    """The voice-of-the-customer page."""
    from journeykit.voc.metrics import ces, csat, nps

    start, end = ctx.period()
    grain = ctx.get("grain", "W") or "W"
    touchpoint = ctx.get("touchpoint")
    if ctx.spec is None:
        # which events are surveys, and where their scores are, is the spec's to say
        from journeykit.server.dashboard.context import no_spec_message

        return notice(no_spec_message(ctx), kind="warn")
    all_rows = responses(ctx)
    if all_rows.empty:
        names = ", ".join(ctx.spec.survey_events) or "none"
        return notice(f"No survey answers or reviews yet (the spec's survey events: {names}).")
    rows = _window(all_rows, start, end)
    touchpoints = sorted({str(t) for t in all_rows["touchpoint"].dropna()})
    form = (
        '<form class="filters" method="get" action="/voc">'
        + text_input("start", ctx.get("start"), label="From", kind="date")
        + text_input("end", ctx.get("end"), label="To", kind="date")
        + select("grain", list(GRAINS), grain, label="Trend by")
        + select(
            "touchpoint",
            [("", "All touchpoints"), *((t, t) for t in touchpoints)],
            touchpoint,
            label="Verbatims at",
        )
        + '<div class="actions"><button class="primary" type="submit">Update</button></div></form>'
    )
    parts = [form, _cards(all_rows, rows, start, end)]
    parts.append('<div class="grid">')
    for survey, fn, value, label in (
        ("nps", nps, "nps", "NPS"),
        ("csat", csat, "csat", "CSAT (% satisfied)"),
        ("ces", ces, "ces", "CES (1-7, higher is easier)"),
    ):
        part = rows[rows["survey"] == survey]
        if part.empty:
            continue
        try:
            trend = fn(part, freq=grain)
        except JourneykitError as exc:
            parts.append(notice(str(exc), kind="error"))
            continue
        parts.append(
            ctx.figures.chart(
                _trend(trend, value, label),
                name=f"{survey}-trend",
                height=300,
                title=f"{label} over time",
            )
        )
    nps_rows = rows[rows["survey"] == "nps"]
    by_tp = None
    if not nps_rows.empty:
        by_tp = nps(nps_rows, by="touchpoint").sort_values("n", ascending=False)
    feeling = _sentiment_by_touchpoint(_window(comments(ctx), start, end))
    if feeling is not None:
        parts.append(
            ctx.figures.chart(
                _sentiment_figure(feeling),
                name="sentiment-by-touchpoint",
                height=300,
                title="Comment sentiment by touchpoint",
            )
        )
    elif by_tp is not None:
        parts.append(
            ctx.figures.chart(
                _by_touchpoint(by_tp),
                name="nps-by-touchpoint",
                height=300,
                title="NPS by touchpoint",
            )
        )
    parts.append("</div>")
    parts.append(_themes(ctx))
    if by_tp is not None:
        shown = by_tp[
            [
                "touchpoint",
                "n",
                "nps",
                "nps_low",
                "nps_high",
                "pct_promoters",
                "pct_detractors",
                "low_sample",
            ]
        ]
        parts.append(
            table(
                shown,
                name="nps-by-touchpoint",
                caption="NPS by touchpoint",
                formats={
                    c: (lambda v: fmt_num(v, 1))
                    for c in ("nps", "nps_low", "nps_high", "pct_promoters", "pct_detractors")
                },
                limit=None,
            )
        )
    parts.append(_verbatims(ctx, start, end, touchpoint))
    return "".join(parts)


def _cards(
    all_rows: pd.DataFrame, rows: pd.DataFrame, start: datetime | None, end: datetime | None
) -> str:
    """Overall NPS, CSAT, CES and answers, with the change against the period before."""
    from journeykit.voc.metrics import ces, csat, nps

    previous = None
    if start is not None:
        stop = end or (all_rows["ts"].max() + timedelta(microseconds=1))
        previous = _window(all_rows, start - (stop - start), start)
    out = ['<div class="cards">']
    for survey, fn, column, label, digits in (
        ("nps", nps, "nps", "NPS", 0),
        ("csat", csat, "csat", "CSAT", 0),
        ("ces", ces, "ces", "CES", 2),
    ):
        now = rows[rows["survey"] == survey]
        if now.empty:
            continue
        value = float(fn(now)[column].iloc[0])
        change, good = "", None
        if previous is not None:
            before = previous[previous["survey"] == survey]
            if not before.empty:
                delta = value - float(fn(before)[column].iloc[0])
                change = f"{delta:+.{digits}f} vs previous period"
                good = delta >= 0
        suffix = "%" if survey == "csat" else ""
        out.append(
            card(
                label,
                f"{value:.{digits}f}{suffix}",
                change=change,
                good=good,
                note=f"{len(now):,} answers",
            )
        )
    reviews = rows[rows["survey"] == "review"]
    if not reviews.empty:
        out.append(
            card(
                "Review rating",
                f"{reviews['score'].mean():.2f} / 5",
                note=f"{len(reviews):,} reviews",
            )
        )
    out.append("</div>")
    return "".join(out)


def _trend(frame: pd.DataFrame, value: str, label: str) -> go.Figure:
    from journeykit.voc.figures import nps_trend

    fig = nps_trend(frame, value=value, title="")
    fig.update_layout(
        title=None, template=None, yaxis_title=label, xaxis_title=None, showlegend=False
    )
    # the interval band is an area, not points
    fig.update_traces(mode="lines", selector={"fill": "toself"})
    return fig


def _sentiment_by_touchpoint(frame: pd.DataFrame) -> pd.DataFrame | None:
    """Mean sentiment and comments per touchpoint (the ten with most comments)."""
    if frame.empty or "sentiment" not in frame.columns:
        return None
    grouped = (
        frame.assign(touchpoint=frame["touchpoint"].fillna("(none)"))
        .groupby("touchpoint")
        .agg(
            n=("sentiment", "size"),
            mean_sentiment=("sentiment", "mean"),
            negative=("sentiment_label", lambda s: float((s == "negative").mean())),
        )
        .reset_index()
        .sort_values("n", ascending=False)
        .head(10)
    )
    return grouped if len(grouped) else None


def _sentiment_figure(frame: pd.DataFrame) -> go.Figure:
    import plotly.graph_objects as go

    rows = frame.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=rows["mean_sentiment"],
            y=rows["touchpoint"],
            orientation="h",
            marker_color=["#10b981" if v >= 0 else "#e11d48" for v in rows["mean_sentiment"]],
            customdata=rows[["n", "negative"]].to_numpy(),
            hovertemplate="%{y}: %{x:.2f} (%{customdata[0]} comments, "
            "%{customdata[1]:.0%} negative)<extra></extra>",
        )
    )
    fig.update_layout(xaxis_range=[-1, 1], xaxis_title="mean sentiment (-1 to 1)")
    return fig


def _by_touchpoint(frame: pd.DataFrame) -> go.Figure:
    import plotly.graph_objects as go

    rows = frame.head(10).iloc[::-1]
    colours = [
        "#cbd5e1" if low else ("#10b981" if v >= 0 else "#e11d48")
        for v, low in zip(rows["nps"], rows["low_sample"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=rows["nps"],
            y=rows["touchpoint"].fillna("(none)"),
            orientation="h",
            marker_color=colours,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (rows["nps_high"] - rows["nps"]).tolist(),
                "arrayminus": (rows["nps"] - rows["nps_low"]).tolist(),
                "thickness": 1,
            },
            customdata=rows["n"],
            hovertemplate="%{y}: %{x:.0f} (n=%{customdata})<extra></extra>",
        )
    )
    fig.update_layout(xaxis_range=[-100, 100], showlegend=False)
    return fig


def _themes(ctx: PageContext) -> str:
    try:
        report = theme_report(ctx)
    except JourneykitError as exc:
        return notice(f"Themes: {exc}", kind="warn")
    if report is None:
        return notice("Too few comments to find themes in.")
    from journeykit.voc.figures import theme_bars

    fig = theme_bars(report.themes, title="")
    # the colour scale is explained in the title; its bar would take a phone's width
    fig.update_traces(marker_showscale=False)
    fig.update_layout(title=None, template=None, margin={"l": 8})
    parts = [
        '<h2>Themes</h2><div class="grid">',
        ctx.figures.chart(
            fig,
            name="themes",
            height=60 + 34 * min(len(report.themes), 15),
            title="What customers talk about (colour: sentiment, red negative to green positive)",
        ),
    ]
    if not report.detractors.empty:
        det = report.detractors[
            ["theme_label", "detractors", "share_detractors", "share_others", "lift"]
        ]
        parts.append(
            table(
                det,
                name="detractor-themes",
                caption="What detractors talk about",
                formats={
                    "share_detractors": _pct,
                    "share_others": _pct,
                    "lift": lambda v: fmt_num(v, 2),
                },
                limit=None,
            )
        )
    parts.append("</div>")
    themes = report.themes.copy()
    themes["quote"] = [q[0] if isinstance(q, list | tuple) and q else "" for q in themes["quotes"]]
    themes["keywords"] = [
        ", ".join(k[:6]) if isinstance(k, list | tuple) else k for k in themes["keywords"]
    ]
    cols = [
        c
        for c in ("label", "n", "share", "mean_sentiment", "top_touchpoint", "keywords", "quote")
        if c in themes.columns
    ]
    parts.append(
        table(
            themes[cols],
            name="themes",
            caption="Themes",
            formats={"share": _pct, "mean_sentiment": lambda v: fmt_num(v, 2)},
            limit=None,
        )
    )
    return "".join(parts)


def _pct(value: Any) -> str:
    from journeykit.server.dashboard.html import fmt_pct

    return fmt_pct(value)


def _verbatims(
    ctx: PageContext, start: datetime | None, end: datetime | None, touchpoint: str | None
) -> str:
    frame = _window(comments(ctx), start, end)
    if frame.empty:
        return ""
    if touchpoint:
        frame = frame[frame["touchpoint"] == touchpoint]
    frame = frame.sort_values("ts", ascending=False)
    cols = [
        c
        for c in (
            "ts",
            "survey",
            "score",
            "touchpoint",
            "channel",
            "sentiment_label",
            "comment",
            "person_id",
        )
        if c in frame.columns
    ]
    where = f" at {touchpoint}" if touchpoint else ""
    return table(
        frame[cols],
        name="verbatims",
        caption=f"Verbatims{where} ({fmt_int(len(frame))}, newest first)",
        formats={"score": lambda v: fmt_num(v, 0)},
        links={"person_id": lambda v: f"/people?q={v}#person"},
        limit=VERBATIMS,
    )
