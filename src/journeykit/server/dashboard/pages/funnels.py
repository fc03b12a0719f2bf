"""Funnels: a builder (steps, window, mode, breakdown, segment, dates), the result table and
chart, and each step's drop-offs as a downloadable cohort."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from journeykit.errors import InputError, JourneykitError
from journeykit.server.dashboard.html import (
    attr,
    card,
    esc,
    fmt_duration,
    fmt_int,
    fmt_pct,
    notice,
    query,
    select,
    table,
    text_input,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.analytics import FunnelResult
    from journeykit.server.dashboard.context import PageContext

#: Steps of the default funnel before its conversion.
DEFAULT_STEPS_BEFORE = 3
MODES = (
    ("ordered", "Ordered (others may come between)"),
    ("strict", "Strict (consecutive)"),
    ("any", "Any order"),
)
PERS = (("person", "People"), ("session", "Sessions"))
BREAKDOWNS = (
    "",
    "channel",
    "properties.platform",
    "first_channel",
    "last_channel",
    "week",
    "month",
    "properties.campaign",
)
#: Most groups drawn in the breakdown chart.
MAX_GROUPS = 8


@dataclass(frozen=True)
class FunnelQuery:
    """A funnel as asked for in the request (hashable, so results cache by it)."""

    steps: tuple[tuple[str, str], ...]
    mode: str
    window: str | None
    per: str
    by: str | None
    segment: str | None
    start: str | None
    end: str | None

    def run(self, ctx: PageContext) -> FunnelResult:
        """Compute (or fetch from the cache) the funnel."""
        from journeykit.analytics import funnel

        steps = [{"event": e, "where": w} if w else e for e, w in self.steps]
        return ctx.cached(
            "funnel",
            self,
            lambda: funnel(
                ctx.ws,
                steps,
                mode=self.mode,  # type: ignore[arg-type]
                window=self.window,
                per=self.per,  # type: ignore[arg-type]
                by=self.by,
                segment=self.segment,
                start=self.start,
                end=self.end,
            ),
        )


def read_query(ctx: PageContext) -> FunnelQuery:
    """The funnel a request asks for; the default funnel when it names no steps."""
    events = ctx.getlist("step")
    wheres = ctx.getlist("where")
    pairs = [(e, wheres[i] if i < len(wheres) else "") for i, e in enumerate(events) if e]
    if not events:
        pairs = [(e, "") for e in default_steps(ctx)]
    return FunnelQuery(
        steps=tuple(pairs),
        mode=ctx.get("mode", "ordered") or "ordered",
        window=ctx.get("window"),
        per=ctx.get("per", "person") or "person",
        by=ctx.get("by"),
        segment=ctx.get("segment"),
        start=ctx.get("start"),
        end=_end_exclusive(ctx.get("end")),
    )


def _end_exclusive(value: str | None) -> str | None:
    """The typed end date is inclusive; the analytics take an exclusive end."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date like 2026-09-30", field="end") from None
    return date.fromordinal(day.toordinal() + 1).isoformat()


def default_steps(ctx: PageContext) -> list[str]:
    """The path to a conversion most people take (:func:`path_to_conversion` under the
    workspace's spec); without a spec, or a conversion in the data, the three most done
    events."""
    names = ctx.event_names()
    spec = ctx.spec
    if spec is not None:
        steps = ctx.cached("default_funnel", (), lambda: path_to_conversion(ctx.ws, spec))
        if len(steps) >= 2:
            return steps
    top = names.sort_values("people", ascending=False)["event"].head(3)
    return [str(e) for e in top]


def path_to_conversion(ws: Any, spec: Any) -> list[str]:
    """The commonest way into the spec's commonest conversion, walked backwards: the event
    that most often comes right before it, then the one most often right before that, up to
    :data:`DEFAULT_STEPS_BEFORE` steps. Steps are the first events of the spec's action
    touchpoints placed before the conversion's (errors, messages, contacts and feedback are
    not steps). Empty when the data has no conversion."""
    conversions = list(spec.conversion_events)
    tps = spec.all_touchpoints()
    first = next((i for i, tp in enumerate(tps) if set(tp.events) & set(conversions)), len(tps))
    candidates = list(
        dict.fromkeys(
            e
            for tp in tps[:first]
            if tp.kind == "action" and tp.where is None
            for e in tp.events
            if e not in conversions
        )
    )
    ev = ws.table("events")
    pairs = ev.filter(ev.event.isin([*conversions, *candidates]))
    pairs = pairs.group_by("event", "prev_event").agg(n=pairs.count()).to_pandas()
    if pairs.empty or not set(pairs["event"]) & set(conversions):
        return []
    by_event = pairs[pairs["event"].isin(conversions)].groupby("event")["n"].sum()
    path = [str(by_event.idxmax())]
    while len(path) <= DEFAULT_STEPS_BEFORE:
        into = pairs[
            (pairs["event"] == path[0])
            & pairs["prev_event"].isin(candidates)
            & ~pairs["prev_event"].isin(path)
        ]
        if into.empty:
            break
        path.insert(
            0,
            str(
                into.sort_values(["n", "prev_event"], ascending=[False, True]).iloc[0]["prev_event"]
            ),
        )
    return path


def render(ctx: PageContext) -> str:
    """The funnel page."""
    names = sorted(str(e) for e in ctx.event_names()["event"])
    if not names:
        return notice("No events yet: load some data first.")
    try:
        q = read_query(ctx)
    except JourneykitError as exc:
        return builder(ctx, None, names) + notice(str(exc), kind="error")
    from journeykit.server.dashboard.names import name_notices

    out = builder(ctx, q, names) + name_notices(
        ctx, {"funnel step": [e for e, _ in q.steps]}, [q.segment, *(w for _, w in q.steps)]
    )
    try:
        result = q.run(ctx)
    except JourneykitError as exc:
        return out + notice(str(exc), kind="error")
    return out + results(ctx, q, result)


def builder(ctx: PageContext, q: FunnelQuery | None, names: list[str]) -> str:
    """The funnel builder form."""
    steps = list(q.steps) if q else [(n, "") for n in default_steps(ctx)]
    while len(steps) < 2:
        steps.append((names[0], ""))
    options = "".join(f'<option value="{attr(n)}">{esc(n)}</option>' for n in names)
    rows = []
    for i, (event, where) in enumerate(steps, 1):
        opts = options.replace(f'value="{attr(event)}"', f'value="{attr(event)}" selected', 1)
        rows.append(
            f'<div class="step-row"><span class="n">{i}.</span>'
            f'<select name="step" aria-label="step {i} event">{opts}</select>'
            f'<input name="where" value="{attr(where)}" aria-label="step {i} condition" '
            "placeholder='condition, e.g. properties.platform == \"ios\"'>"
            '<button type="button" data-remove-step title="Remove this step">×</button></div>'
        )
    by_options = [(b, b or "no breakdown") for b in BREAKDOWNS]
    current_by = q.by if q else None
    if current_by and current_by not in BREAKDOWNS:
        by_options.append((current_by, current_by))
    return (
        '<form class="filters funnel-builder" method="get" action="/funnels">'
        f'<div class="steps" id="steps">{"".join(rows)}</div>'
        + select("mode", list(MODES), q.mode if q else "ordered", label="Mode")
        + text_input("window", q.window if q else "", label="Window", placeholder="e.g. 7d")
        + select("per", list(PERS), q.per if q else "person", label="Count")
        + select("by", by_options, current_by, label="Breakdown")
        + text_input(
            "segment",
            q.segment if q else "",
            label="Segment (filter)",
            placeholder='first_channel == "ads"',
            wide=True,
        )
        + text_input("start", ctx.get("start"), label="From", kind="date")
        + text_input("end", ctx.get("end"), label="To", kind="date")
        + '<div class="actions"><button type="button" data-add-step>+ Step</button>'
        '<button class="primary" type="submit" id="run-funnel">Run funnel</button></div></form>'
    )


def results(ctx: PageContext, q: FunnelQuery, result: FunnelResult) -> str:
    """Cards, chart and table of a computed funnel."""
    overall, frame = result.overall, result.table
    groups = list(result.group_columns)
    if frame.empty or overall.empty or int(overall["entered"].sum()) == 0:
        return notice("Nobody started this funnel in the chosen period.", kind="warn")
    unit = "people" if q.per == "person" else "sessions"
    parts = []
    if not groups:
        row = overall.iloc[0]
        parts.append(
            '<div class="cards">'
            + card(f"Entered ({unit})", fmt_int(row["entered"]))
            + card("Converted", fmt_int(row["converted"]))
            + card("Conversion", fmt_pct(row["conversion"]))
            + card("Median time to convert", fmt_duration(row["median_seconds"]))
            + "</div>"
        )
    parts.append('<div class="grid">')
    parts.append(ctx.figures.chart(_figure(result, unit), name="funnel", height=380, css="wide"))
    parts.append("</div>")
    shown = frame.copy()
    shown["drop-off cohort"] = [
        f"/funnels/dropoffs.csv{query(ctx.flat(), at=int(s), **_group_params(groups, r))}"
        if int(s) > 1 and int(d) > 0
        else None
        for s, d, r in zip(
            shown["step"],
            shown["dropped"],
            shown[groups].to_dict("records") if groups else [{}] * len(shown),
            strict=True,
        )
    ]
    columns = {
        **{g: g for g in groups},
        "step": "step",
        "name": "name",
        "units": unit,
        "conversion": "conversion",
        "conversion_from_start": "from start",
        "dropped": "dropped",
        "drop_off": "drop-off",
        "median_seconds": "median time",
        "p90_seconds": "90% within",
        "drop-off cohort": "drop-off cohort",
    }
    shown = shown[list(columns)].rename(columns=columns)
    formats = {
        "conversion": fmt_pct,
        "from start": fmt_pct,
        "drop-off": fmt_pct,
        "median time": fmt_duration,
        "90% within": fmt_duration,
        "drop-off cohort": lambda v: "" if v is None else "CSV of people",
    }
    parts.append(
        table(
            shown,
            name="funnel",
            caption="Steps",
            formats=formats,
            links={"drop-off cohort": lambda v: v},
            limit=None,
            numeric=[
                "step",
                unit,
                "conversion",
                "from start",
                "dropped",
                "drop-off",
                "median time",
                "90% within",
            ],
        )
    )
    if groups:
        parts.append(
            table(
                overall,
                name="funnel-overall",
                caption="By group",
                formats={
                    "conversion": fmt_pct,
                    "median_seconds": fmt_duration,
                    "p90_seconds": fmt_duration,
                },
                limit=200,
            )
        )
    return "".join(parts)


def _group_params(groups: list[str], row: dict[str, Any]) -> dict[str, Any]:
    return {
        f"g.{k}": (v.isoformat() if isinstance(v, date) else v)
        for k, v in row.items()
        if k in groups
    }


def _figure(result: FunnelResult, unit: str) -> go.Figure:
    import plotly.graph_objects as go

    frame = result.table
    groups = list(result.group_columns)
    labels = [f"{int(s)}. {n}" for s, n in zip(frame["step"], frame["name"], strict=True)]
    if not groups:
        fig = go.Figure(
            go.Bar(
                x=labels,
                y=frame["units"],
                text=[
                    f"{fmt_int(u)}<br>{fmt_pct(c)}"
                    for u, c in zip(frame["units"], frame["conversion_from_start"], strict=True)
                ],
                textposition="auto",
                textangle=0,
                hovertemplate="%{x}<br>%{y:,} " + unit + "<extra></extra>",
                marker_color="#2563eb",
            )
        )
        fig.update_layout(yaxis_title=unit, showlegend=False)
        return fig
    key = frame[groups].astype(str).agg(" · ".join, axis=1)
    order = (
        result.overall.assign(_k=result.overall[groups].astype(str).agg(" · ".join, axis=1))
        .sort_values("entered", ascending=False)["_k"]
        .head(MAX_GROUPS)
        .tolist()
    )
    fig = go.Figure()
    step_labels = dict(zip(frame["step"], labels, strict=False))
    for name in order:
        part = frame[key == name]
        fig.add_bar(
            x=[step_labels[s] for s in part["step"]],
            y=part["conversion_from_start"] * 100,
            name=name,
            hovertemplate=name + "<br>%{x}: %{y:.1f}%<extra></extra>",
        )
    fig.update_layout(barmode="group", yaxis_title="% of those who entered", yaxis_ticksuffix="%")
    return fig


def dropoffs_csv(ctx: PageContext) -> str:
    """The people who dropped at step ``at`` (``person_id``) as CSV text."""
    q = read_query(ctx)
    at_text = ctx.get("at")
    if at_text is None or not at_text.isdigit():
        raise InputError("say which step with at=<step number>", field="at")
    result = q.run(ctx)
    group = _read_group(ctx, result)
    people: pd.DataFrame = ctx.cached(
        "funnel_dropped",
        (q, int(at_text), tuple(sorted(group.items()))),
        lambda: result.dropped_at(int(at_text), group or None),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["person_id"])
    writer.writerows([p] for p in people["person_id"])
    from fastapi.responses import Response

    name = f"funnel-dropped-at-step-{int(at_text)}.csv"
    return Response(  # type: ignore[return-value]
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _read_group(ctx: PageContext, result: FunnelResult) -> dict[str, Any]:
    group: dict[str, Any] = {}
    for column in result.group_columns:
        value = ctx.get(f"g.{column}")
        if value is None:
            continue
        if column in ("day", "week", "month"):
            try:
                group[column] = date.fromisoformat(value)
            except ValueError:
                raise InputError(f"{value!r} is not a date", field=column) from None
        else:
            group[column] = value
    return group
