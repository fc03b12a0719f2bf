"""Segments and personas: segments written in the filter language, compared side by side
(KPIs, conversion and revenue per person with significance), and behavioural personas."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from journeykit.errors import InputError, JourneykitError
from journeykit.server.dashboard.html import (
    attr,
    esc,
    fmt_int,
    fmt_num,
    fmt_pct,
    notice,
    query,
    table,
    text_input,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.server.dashboard.context import PageContext

#: KPIs cover this many days up to the end of the data by default.
DEFAULT_DAYS = 90
#: Most segments compared at once.
MAX_SEGMENTS = 6
#: KPIs shown side by side, with how to show them (``None``: money, in the spec's currency).
KPI_ROWS = (
    ("active_people", "People active", fmt_int),
    ("customers", "Customers", fmt_int),
    ("conversion_rate", "Conversion", fmt_pct),
    ("revenue", "Revenue", None),
    ("average_order_value", "Average order value", None),
    ("purchase_frequency", "Orders per customer", lambda v: fmt_num(v, 2)),
    ("historical_clv", "Revenue per new customer", None),
    ("time_to_first_purchase_days", "Days to first purchase", lambda v: fmt_num(v, 1)),
    ("churn_rate", "Churn", fmt_pct),
)


def read_segments(ctx: PageContext) -> list[tuple[str, str]]:
    """The (name, filter) pairs of a request, or the defaults."""
    names, filters = ctx.getlist("name"), ctx.getlist("filter")
    if not filters:
        return default_segments(ctx)
    pairs = []
    for i, text in enumerate(filters):
        if not text:
            continue
        name = names[i] if i < len(names) and names[i] else f"Segment {i + 1}"
        pairs.append((name, text))
    if len({n for n, _ in pairs}) != len(pairs):
        raise InputError("give each segment its own name", field="name")
    return pairs[:MAX_SEGMENTS]


def default_segments(ctx: PageContext) -> list[tuple[str, str]]:
    """The journey spec's personas, else the people of each of the top channels, and the
    people who converted twice or more (the spec's conversion events)."""
    spec = ctx.spec
    if spec is not None and spec.personas:
        return [(p.name, p.where) for p in spec.personas][:MAX_SEGMENTS]
    out = []
    if spec is not None and spec.conversion_events:
        names = ", ".join(_quote(e) for e in spec.conversion_events)
        out.append(("Repeat customers", f"count(event in ({names})) >= 2"))
    out += [(f"{c} users", f"channel == {_quote(c)}") for c in ctx.channels()[:2]]
    return out


def _quote(text: str) -> str:
    """A string literal of the filter language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(ctx: PageContext) -> str:
    """The segments page."""
    try:
        segments = read_segments(ctx)
        start, end = ctx.period(default_days=DEFAULT_DAYS)
    except JourneykitError as exc:
        return _form(ctx, default_segments(ctx)) + notice(str(exc), kind="error")
    from journeykit.server.dashboard.names import name_notices

    parts = [_form(ctx, segments), name_notices(ctx, filters=[f for _, f in segments])]
    if not segments:
        return parts[0] + notice("Write at least one segment.", kind="warn")
    try:
        parts.append(_side_by_side(ctx, segments, start, end))
        parts.append(_comparisons(ctx, segments))
    except JourneykitError as exc:
        parts.append(notice(str(exc), kind="error"))
    parts.append(_personas(ctx))
    return "".join(parts)


def _form(ctx: PageContext, segments: list[tuple[str, str]]) -> str:
    rows = list(segments) + [("", "")] * max(0, 4 - len(segments))
    spec = ctx.spec
    goal = spec.conversion_events[0] if spec is not None and spec.conversion_events else None
    example = 'e.g. first_channel == "ads"' + (
        f" and count(event == {_quote(goal)}) >= 2" if goal else ""
    )
    lines = "".join(
        f'<div class="step-row"><span class="n">{i}.</span>'
        f'<input name="name" value="{attr(n)}" placeholder="name" aria-label="segment {i} name" '
        'style="flex:0 1 200px">'
        f'<input name="filter" value="{attr(f)}" aria-label="segment {i} filter" '
        f'placeholder="{attr(example)}">'
        "</div>"
        for i, (n, f) in enumerate(rows[:MAX_SEGMENTS], 1)
    )
    return (
        '<form class="filters" method="get" action="/segments">'
        f'<div class="steps">{lines}</div>'
        '<p class="note" style="flex:1 1 100%;margin:0">Fields: event, channel, properties.*, '
        "first_channel, last_channel, lifetime_revenue, n_events, traits.*, "
        "count(&lt;filter&gt;, 30d). Combine with and / or / not.</p>"
        + text_input("start", ctx.get("start"), label="KPIs from", kind="date")
        + text_input("end", ctx.get("end"), label="To", kind="date")
        + '<div class="actions"><button class="primary" type="submit">Compare</button></div>'
        f'<p class="note" style="margin:0 0 .4rem">KPIs cover the last {DEFAULT_DAYS} days of '
        "data unless dates are given; the tests below cover all the data.</p></form>"
    )


def _kpis(ctx: PageContext, segment: str | None, start: Any, end: Any) -> pd.DataFrame:
    from journeykit.analytics import kpis

    return ctx.cached(
        "kpis_segment",
        (segment, start, end),
        lambda: kpis(ctx.ws, segment=segment, start=start, end=end).table,
    )


def _side_by_side(ctx: PageContext, segments: list[tuple[str, str]], start: Any, end: Any) -> str:
    import pandas as pd

    columns: dict[str, pd.Series] = {}
    columns["Everyone"] = _kpis(ctx, None, start, end).set_index("metric")["value"]
    for name, text in segments:
        columns[name] = _kpis(ctx, text, start, end).set_index("metric")["value"]
    rows = []
    for metric, label, _ in KPI_ROWS:
        row: dict[str, Any] = {"metric": label}
        for name, values in columns.items():
            row[name] = float(values.get(metric, float("nan")))
        rows.append(row)
    html = table(
        pd.DataFrame(rows),
        name="segments-kpis",
        numeric=list(columns),
        limit=None,
        row_formats=[fmt or ctx.money for _, _, fmt in KPI_ROWS],
    )
    links = " · ".join(
        f'<a href="/segments/members.csv{query({"filter": text})}">{esc(name)}</a>'
        for name, text in segments
    )
    return "<h2>Side by side</h2>" + html + f'<p class="note">Members as CSV: {links}</p>'


def _comparisons(ctx: PageContext, segments: list[tuple[str, str]]) -> str:
    from journeykit.analytics import compare_segments
    from journeykit.server.dashboard.pages.funnels import default_steps

    if len(segments) < 2:
        return notice("Add a second segment to test the differences.", kind="info")
    named = dict(segments)
    key = tuple(segments)
    steps = default_steps(ctx)
    conv = ctx.cached(
        "compare_funnel",
        (key, tuple(steps)),
        lambda: compare_segments(ctx.ws, named, metric="funnel", steps=steps),
    )
    revenue = ctx.cached(
        "compare_revenue", key, lambda: compare_segments(ctx.ws, named, metric="revenue")
    )
    order = {name: i for i, (name, _) in enumerate(segments)}
    conv_groups = conv.groups.sort_values("group", key=lambda g: g.map(order))
    revenue_groups = revenue.groups.sort_values("group", key=lambda g: g.map(order))
    parts = ['<h2>Differences</h2><div class="grid">']
    parts.append(
        ctx.figures.chart(
            _bars(conv_groups, pct=True, symbol=ctx.currency),
            name="segments-conversion",
            height=300,
            title=f"Conversion: {steps[0]} → {steps[-1]}",
        )
    )
    parts.append(
        ctx.figures.chart(
            _bars(revenue_groups, pct=False, symbol=ctx.currency),
            name="segments-revenue",
            height=300,
            title="Revenue per person (mean, 95% interval)",
        )
    )
    parts.append("</div>")
    pairs = []
    for label, comp, fmt in (
        ("conversion", conv, fmt_pct),
        ("revenue per person", revenue, ctx.money),
    ):
        p = comp.pairs.copy()
        p.insert(0, "metric", label)
        p["difference"] = [fmt(v) for v in p["difference"]]
        pairs.append(p)
    import pandas as pd

    both = pd.concat(pairs, ignore_index=True)
    both = both[["metric", "a", "b", "difference", "p_value", "p_adjusted", "significant"]]
    parts.append(
        table(
            both,
            name="segment-differences",
            caption="Pairwise tests (Holm-adjusted p-values)",
            formats={"p_value": _p, "p_adjusted": _p},
            limit=None,
        )
    )
    return "".join(parts)


def _p(value: Any) -> str:
    if value is None or value != value:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _bars(groups: pd.DataFrame, *, pct: bool, symbol: str) -> go.Figure:
    import plotly.graph_objects as go

    scale = 100.0 if pct else 1.0
    fig = go.Figure(
        go.Bar(
            x=groups["group"].astype(str),
            y=groups["estimate"] * scale,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": ((groups["ci_high"] - groups["estimate"]) * scale).tolist(),
                "arrayminus": ((groups["estimate"] - groups["ci_low"]) * scale).tolist(),
            },
            customdata=groups["n"],
            hovertemplate="%{x}: %{y:.1f}" + ("%" if pct else "") + " (n=%{customdata:,})"
            "<extra></extra>",
            marker_color=["#2563eb", "#f97316", "#10b981", "#e11d48", "#8b5cf6", "#0891b2"][
                : len(groups)
            ],
        )
    )
    fig.update_layout(yaxis_ticksuffix="%" if pct else "", yaxis_tickprefix="" if pct else symbol)
    return fig


def _personas(ctx: PageContext) -> str:
    """Behavioural personas (k-means over each person's behaviour)."""

    def compute() -> Any:
        from journeykit.analytics.value.personas import (
            find_personas,
            persona_features_from_workspace,
        )

        features = persona_features_from_workspace(ctx.ws)
        if len(features) < 50:
            return None
        return find_personas(features)

    try:
        found = ctx.cached("personas", (), compute)
    except (ImportError, JourneykitError) as exc:
        return notice(f"Personas are not available: {exc}", kind="warn")
    if found is None:
        return ""
    from journeykit.analytics.value.figures import persona_map

    fig = persona_map(found)
    # personas that buy little sit on top of each other at the origin: spread their labels
    spots = ("top center", "bottom right", "top right", "bottom left", "middle right", "top left")
    fig.update_traces(textposition=[spots[i % len(spots)] for i in range(found.k)])
    fig.update_layout(title=None)
    profiles = found.profiles.reset_index()
    cols = [
        c
        for c in (
            "name",
            "people",
            "share",
            "conversions",
            "revenue",
            "recency_days",
            "description",
        )
        if c in profiles.columns
    ]
    return (
        "<h2>Behavioural personas</h2>"
        + ctx.figures.chart(
            fig,
            name="personas",
            height=400,
            title=f"{found.k} personas: conversions and value (mean per person)",
        )
        + table(
            profiles[cols],
            name="personas",
            caption="Persona profiles",
            formats={
                "share": fmt_pct,
                "revenue": ctx.money,
                "conversions": lambda v: fmt_num(v, 2),
                "recency_days": lambda v: fmt_num(v, 0),
            },
            limit=None,
        )
    )


def members_csv(ctx: PageContext) -> Any:
    """The people of one segment (``person_id``) as a CSV download."""
    from fastapi.responses import Response

    from journeykit.analytics import parse_filter

    text = ctx.get("filter")
    if text is None:
        raise InputError("give the segment as filter=...", field="filter")
    flt = parse_filter(text)
    people = ctx.cached(
        "segment_members", text, lambda: flt.people(ctx.ws).order_by("person_id").to_pandas()
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["person_id"])
    writer.writerows([p] for p in people["person_id"])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="segment.csv"'},
    )
