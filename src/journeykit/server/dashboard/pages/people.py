"""People: find anyone by any identifier and read their unified, cross-channel timeline."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from journeykit.errors import InputError, NotFound
from journeykit.server.dashboard.html import (
    PALETTE,
    card,
    esc,
    fmt_int,
    notice,
    table,
    text_input,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.server.dashboard.context import PageContext

#: Timeline rows listed on the page (the CSV button downloads those shown).
TIMELINE_LIMIT = 1000
#: Properties shown beside each event.
_PROPERTY_LIMIT = 6


def render(ctx: PageContext) -> str:
    """The people page: a search box, then the person found (or the most valuable people)."""
    ident = ctx.get("q")
    form = (
        '<form class="filters" method="get" action="/people" role="search">'
        + text_input(
            "q",
            ident,
            label="Identifier",
            placeholder="e-mail, phone, user id, anonymous id, CRM id or person id",
            wide=True,
        )
        + '<div class="actions"><button class="primary" type="submit" id="search-person">'
        "Search</button></div></form>"
    )
    if not ident:
        return form + top_people(ctx)
    try:
        person = ctx.run(lambda: _resolve(ctx, ident))
    except NotFound:
        return form + notice(f"Nobody has the identifier {ident!r}.", kind="warn")
    except InputError as exc:
        return form + notice(str(exc), kind="warn")
    return form + person_view(ctx, person)


def _resolve(ctx: PageContext, identifier: str) -> str:
    from journeykit.ingest.identity import resolve

    return resolve(ctx.ws.store, identifier)


def person_view(ctx: PageContext, person: str) -> str:
    """Profile, identifiers, the timeline chart and list of one person."""
    from journeykit.ingest import timeline

    store = ctx.ws.store
    events = ctx.run(lambda: timeline(ctx.ws, person))
    profile = store.df("SELECT * FROM people WHERE person_id = ?", [person])
    ids = store.df(
        "SELECT kind, value, first_seen, last_seen FROM identities WHERE person_id = ? "
        "ORDER BY kind, value",
        [person],
    )
    merges = store.df(
        "SELECT merge_id, person_a, person_b, merged_at, event_id FROM merges "
        "WHERE merged_into = ? AND undone_at IS NULL ORDER BY merged_at",
        [person],
    )
    parts = [f'<h2 id="person">Person <code>{esc(person)}</code></h2>']
    if not profile.empty:
        row = profile.iloc[0]
        channels = events["channel"].dropna().nunique() if not events.empty else 0
        parts.append(
            '<div class="cards">'
            + card("Events", fmt_int(row["n_events"]))
            + card("Channels", fmt_int(channels))
            + card("Revenue", ctx.money(person_revenue(ctx, person, row["revenue"])))
            + card("First seen", _day(row["first_seen"]), note=f"via {row['first_channel'] or '–'}")
            + card("Last seen", _day(row["last_seen"]), note=f"via {row['last_channel'] or '–'}")
            + "</div>"
        )
    chips = "".join(
        f'<span class="pill">{esc(k)}: {esc(v)}</span>'
        for k, v in zip(ids["kind"], ids["value"], strict=True)
    )
    traits = _traits(profile)
    parts.append(
        '<div class="grid"><div class="panel"><h3>Identifiers stitched into this person</h3>'
        f'<div class="ids">{chips or "<span class=muted>none</span>"}</div>'
        + (
            f'<p class="note">{len(merges)} merge(s) joined earlier profiles into this one.</p>'
            if len(merges)
            else ""
        )
        + "</div>"
        f'<div class="panel"><h3>Traits</h3>{traits}</div></div>'
    )
    if events.empty:
        return "".join(parts) + notice("No events for this person.")
    parts.append('<div class="grid">')
    parts.append(
        ctx.figures.chart(
            timeline_figure(events),
            name=f"timeline-{person}",
            height=max(220, 34 * events["channel"].nunique() + 110),
            title="Journey across channels",
            css="wide",
        )
    )
    parts.append("</div>")
    shown = events.head(TIMELINE_LIMIT).copy()
    shown["details"] = [_props(p) for p in shown["properties"]]
    shown = shown[["seq", "ts", "channel", "event", "revenue", "details", "source", "event_id"]]
    parts.append(
        table(
            shown,
            name=f"timeline-{person}",
            caption=f"Timeline ({len(events):,} event{'' if len(events) == 1 else 's'})",
            formats={"revenue": lambda v: "" if v != v or v is None else ctx.money(v)},
            limit=TIMELINE_LIMIT,
            numeric=["seq", "revenue"],
        )
    )
    return "".join(parts)


def _day(value: Any) -> str:
    return "–" if value is None or value != value else str(value)[:10]


def _traits(profile: pd.DataFrame) -> str:
    if profile.empty or not profile.iloc[0]["traits"]:
        return '<span class="muted">none</span>'
    try:
        values = json.loads(profile.iloc[0]["traits"])
    except ValueError:
        return esc(profile.iloc[0]["traits"])
    if not isinstance(values, dict) or not values:
        return '<span class="muted">none</span>'
    return "".join(f'<span class="pill">{esc(k)}: {esc(v)}</span>' for k, v in values.items())


def _props(text: Any) -> str:
    if not text or text != text:
        return ""
    try:
        values = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if not isinstance(values, dict):
        return str(values)
    items = [f"{k}={v}" for k, v in list(values.items())[:_PROPERTY_LIMIT] if v not in (None, "")]
    return ", ".join(items)


def timeline_figure(events: pd.DataFrame) -> go.Figure:
    """Each event as a dot on its channel's lane, over time; orders larger."""
    import plotly.graph_objects as go

    fig = go.Figure()
    channels = list(dict.fromkeys(events["channel"].fillna("(none)")))
    for i, channel in enumerate(channels):
        part = events[events["channel"].fillna("(none)") == channel]
        revenue = part["revenue"].fillna(0)
        fig.add_scatter(
            x=part["ts"],
            y=[channel] * len(part),
            mode="markers",
            name=channel,
            marker={
                "size": [14 if r > 0 else 9 for r in revenue],
                "color": PALETTE[i % len(PALETTE)],
                "line": {"width": 0},
            },
            text=part["event"],
            customdata=part["seq"],
            hovertemplate="#%{customdata} %{text}<br>%{x}<extra>" + esc(channel) + "</extra>",
        )
    fig.update_layout(showlegend=False)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=channels[::-1])
    return fig


def conversion_value(ctx: PageContext) -> Any:
    """Revenue per person as the spec counts it (its conversions at its revenue field), an
    Ibis table ``person_id``, ``value``; ``None`` without a spec."""
    spec = ctx.spec
    if spec is None:
        return None
    from journeykit.journey.filtering import event_money

    ev = ctx.ws.table("events")
    ev = ev.filter(ev.event.isin(list(spec.conversion_events)))
    return ev.group_by("person_id").agg(value=event_money(ev, spec.revenue_field).sum())


def person_revenue(ctx: PageContext, person: str, stored: Any) -> Any:
    """One person's revenue as the spec counts it (the stored total without a spec)."""
    values = conversion_value(ctx)
    if values is None:
        return stored
    mine = ctx.run(lambda: values.filter(values.person_id == person).to_pandas())
    return float(mine["value"].iloc[0]) if len(mine) and mine["value"].notna().all() else 0.0


def top_people(ctx: PageContext) -> str:
    """The people with the most revenue, then the most events, as a starting point."""

    def compute() -> Any:
        people = ctx.ws.table("people")
        ids = ctx.ws.table("identities")
        ids = ids.group_by(i_person="person_id").agg(identifiers=ids.count())
        values = conversion_value(ctx)
        if values is None:
            revenue = people.revenue
            joined = people
        else:
            values = values.rename(v_person="person_id")
            joined = people.left_join(values, people.person_id == values.v_person)
            revenue = joined.value
        joined = joined.mutate(revenue_=revenue)
        joined = joined.left_join(ids, joined.person_id == ids.i_person)
        return (
            joined.select(
                "person_id",
                events=joined.n_events,
                revenue=joined.revenue_,
                first_channel=joined.first_channel,
                last_channel=joined.last_channel,
                first_seen=joined.first_seen,
                last_seen=joined.last_seen,
                identifiers=joined.identifiers.fill_null(0),
            )
            .order_by([ibis.desc("revenue"), ibis.desc("events"), "person_id"])
            .limit(50)
            .to_pandas()
        )

    import ibis

    frame = ctx.cached("top_people", (), compute)
    if frame.empty:
        return notice("No people yet: load some data first.")
    return (
        table(
            frame,
            name="top-people",
            caption="Most valuable people",
            formats={"revenue": ctx.money},
            links={"person_id": lambda v: f"/people?q={quote(str(v))}#person"},
            limit=None,
        )
        + '<p class="note">Search by any identifier to see one person.</p>'
    )
