"""Journey map: the living map from :mod:`journeykit.render`, with persona, date and channel
filters, and every pain point's evidence, quotes and people one click away."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from journeykit.errors import NotFound
from journeykit.server.dashboard.context import no_spec_message, spec_warnings
from journeykit.server.dashboard.html import (
    attr,
    card,
    esc,
    fmt_int,
    fmt_num,
    fmt_pct,
    notice,
    query,
    select,
    table,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.journey.model import JourneyMap
    from journeykit.server.dashboard.context import PageContext

ALL = "All people"
#: Quotes shown for a pain point.
QUOTES = 6

#: Added to the map page inside the iframe: follow the dashboard's persona and dates, report
#: the page's height and the pain point clicked to the dashboard around it.
_BRIDGE = """<script>
(function () {
  var q = new URLSearchParams(location.search);
  function pick(id, value) {
    var el = document.getElementById(id);
    if (!el || !value) return;
    for (var i = 0; i < el.options.length; i++) {
      if (el.options[i].value === value) {
        el.value = value; el.dispatchEvent(new Event("change", { bubbles: true })); return;
      }
    }
  }
  function size() {
    parent.postMessage({ journeyMapHeight: document.documentElement.scrollHeight }, location.origin);
  }
  window.addEventListener("load", function () {
    pick("persona", q.get("persona")); pick("period", q.get("period")); size();
  });
  window.addEventListener("resize", size);
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-pain]");
    if (el) parent.postMessage({ painPoint: el.getAttribute("data-pain") }, location.origin);
    setTimeout(size, 50);
  });
})();
</script>"""


def journey_map(ctx: PageContext) -> JourneyMap | None:
    """The measured journey map of the workspace (cached); ``None`` without a journey spec."""
    spec = ctx.spec
    if spec is None:
        return None

    def compute() -> JourneyMap:
        from journeykit.journey.model import build_map
        from journeykit.render import comment_scorer

        return build_map(ctx.ws, spec, sentiment=comment_scorer())

    return ctx.cached("journey_map", (), compute)


def _view(ctx: PageContext, jm: JourneyMap) -> tuple[str, str, str | None]:
    persona = ctx.get("persona") or ALL
    if persona not in jm.personas:
        persona = ALL
    period = ctx.get("period") or "all"
    if period != "all" and period not in jm.periods:
        period = "all"
    return persona, period, ctx.get("channel")


def _touchpoints(jm: JourneyMap, persona: str, period: str, channel: str | None) -> pd.DataFrame:
    t = jm.touchpoints
    t = t[(t["persona"] == persona) & (t["period"] == period)]
    if channel:
        t = t[t["channel"] == channel]
    return t.sort_values(["stage_index"], kind="stable")


def render(ctx: PageContext) -> str:
    """The journey map page."""
    try:
        jm = journey_map(ctx)
    except ImportError as exc:
        return notice(f"The journey map is not available in this installation: {exc}")
    if jm is None:
        return notice(no_spec_message(ctx), kind="warn")
    persona, period, channel = _view(ctx, jm)
    channels = sorted({str(c) for c in jm.touchpoints["channel"].dropna() if c})
    periods = [("all", "All dates"), *((p, p[:7]) for p in jm.periods)]
    form = (
        '<form class="filters" method="get" action="/journey">'
        + select("persona", [(p, p) for p in jm.personas], persona, label="Persona")
        + select("period", periods, period, label="Dates (first touch)")
        + select(
            "channel", [("", "All channels"), *((c, c) for c in channels)], channel, label="Channel"
        )
        + '<div class="actions"><button class="primary" type="submit">Update</button></div></form>'
    )
    cur = jm.spec.currency_symbol
    cards = (
        '<div class="cards">'
        + card("People on the map", fmt_int(jm.people))
        + card(
            "Reached a goal",
            fmt_int(jm.converters),
            note=fmt_pct(jm.converters / jm.people if jm.people else float("nan")),
        )
        + card("Revenue", f"{cur}{jm.revenue:,.0f}")
        + card("Value of a conversion", f"{cur}{jm.value:,.0f}")
        + card(
            "Pain points",
            fmt_int(len(jm.pains)),
            note=f"{cur}{sum(p.impact for p in jm.pains):,.0f} at stake",
        )
        + "</div>"
    )
    tps = _touchpoints(jm, persona, period, channel)
    parts = [spec_warnings(ctx), form, cards]
    if tps.empty:
        parts.append(notice("No touchpoint in this view.", kind="warn"))
    else:
        parts.append(
            ctx.figures.chart(
                _touchpoint_figure(tps),
                name="journey-touchpoints",
                height=360,
                title=f"Touchpoints · {persona}" + ("" if period == "all" else f" · {period[:7]}"),
            )
        )
    parts.append(_pain_list(jm, tps, channel))
    src = "/journey/map" + query({"persona": persona, "period": period})
    parts.append(
        '<h2>The living map</h2><div class="panel journey-map">'
        f'<iframe id="journey-map" src="{attr(src)}" title="Journey map" loading="lazy" '
        'style="width:100%;height:820px;border:0"></iframe></div>'
    )
    if not tps.empty:
        cols = [
            "stage",
            "touchpoint",
            "kind",
            "channel",
            "people",
            "conversion",
            "drop_off",
            "next_stage",
            "emotion",
            "answers",
            "negative",
            "repeat_rate",
            "long_wait",
        ]
        parts.append(
            table(
                tps[[c for c in cols if c in tps.columns]],
                name="journey-touchpoints",
                caption="Touchpoints in this view",
                formats=dict.fromkeys(
                    (
                        "conversion",
                        "drop_off",
                        "next_stage",
                        "negative",
                        "repeat_rate",
                        "long_wait",
                    ),
                    fmt_pct,
                )
                | {"emotion": lambda v: fmt_num(v, 2)},
                limit=None,
            )
        )
    return "".join(parts)


def _touchpoint_figure(tps: pd.DataFrame) -> go.Figure:
    """People per touchpoint (bars, by stage) and their conversion (line)."""
    import plotly.graph_objects as go

    from journeykit.server.dashboard.html import PALETTE

    fig = go.Figure()
    labels = tps["touchpoint"].astype(str).tolist()
    for i, (stage, part) in enumerate(tps.groupby("stage", sort=False)):
        fig.add_bar(
            x=part["touchpoint"].astype(str),
            y=part["people"],
            name=str(stage),
            marker_color=PALETTE[i % len(PALETTE)],
            customdata=part[["channel_mix"]].fillna("").to_numpy(),
            hovertemplate="%{x}: %{y:,} people<br>%{customdata[0]}<extra>"
            + esc(stage)
            + "</extra>",
        )
    fig.add_scatter(
        x=labels,
        y=tps["conversion"] * 100,
        name="conversion",
        yaxis="y2",
        mode="lines+markers",
        line={"color": "#111827", "width": 1.5},
        hovertemplate="%{x}: %{y:.0f}% reach a goal<extra></extra>",
    )
    fig.update_layout(
        yaxis={"title": "people"},
        yaxis2={
            "title": "conversion",
            "dtick": 25,
            "overlaying": "y",
            "side": "right",
            "range": [0, 100],
            "ticksuffix": "%",
            "showgrid": False,
        },
        xaxis={"categoryorder": "array", "categoryarray": labels, "tickangle": -30},
    )
    return fig


def _pain_list(jm: JourneyMap, tps: pd.DataFrame, channel: str | None) -> str:
    pains = list(jm.pains)
    if channel:
        keep = set(tps["touchpoint"])
        pains = [p for p in pains if p.touchpoint in keep]
    if not pains:
        return "<h2>Pain points</h2>" + notice("No pain point found in this view.")
    cur = jm.spec.currency_symbol
    items = "".join(
        f'<button type="button" class="pain-item" data-pain="{attr(p.id)}">'
        f"<strong>{esc(p.id)} · {esc(p.title)}</strong>"
        f'<span class="note">{esc(p.stage)} · {esc(p.touchpoint)}'
        f"{' · ' + esc(', '.join(f'{k}={v}' for k, v in p.segment)) if p.segment else ''}"
        f" · {fmt_int(p.people)} people · {cur}{p.impact:,.0f} at stake</span></button>"
        for p in pains
    )
    return (
        '<h2>Pain points <small class="muted">click one for its evidence, quotes and '
        "people</small></h2>"
        f'<div class="pain-list">{items}</div><div id="pain-detail" class="panel" '
        'aria-live="polite"></div>'
    )


def pain_detail(ctx: PageContext) -> str:
    """Evidence, quotes and people behind one pain point (an HTML fragment)."""
    jm = journey_map(ctx)
    if jm is None:
        raise NotFound("journey map", "workspace")
    pain = jm.pain(ctx.get("id") or "")
    cur = jm.spec.currency_symbol
    where = f"{pain.stage} · {pain.touchpoint}"
    if pain.segment:
        where += " · " + ", ".join(f"{k} = {v}" for k, v in pain.segment)
    if pain.weeks:
        where += " · weeks of " + ", ".join(pain.weeks)
    parts = [
        f"<h3>{esc(pain.id)} · {esc(pain.title)}</h3>",
        f'<p class="note">{esc(where)} · {esc(pain.kind.replace("_", " "))}</p>',
        '<div class="cards">',
        card("People affected", fmt_int(pain.people)),
        card("Rate", fmt_pct(pain.rate), note=f"against {fmt_pct(pain.baseline)}"),
        card(
            "Conversions lost",
            fmt_num(pain.people_lost, 0),
            note=f"95%: {fmt_num(pain.people_lost_low, 0)} to {fmt_num(pain.people_lost_high, 0)}",
        ),
        card(
            "Impact",
            f"{cur}{pain.impact:,.0f}",
            note=f"95%: {cur}{pain.impact_low:,.0f} to {cur}{pain.impact_high:,.0f}",
        ),
        "</div>",
        "<h3>Evidence</h3><ul>" + "".join(f"<li>{esc(e)}</li>" for e in pain.evidence) + "</ul>",
    ]
    parts.append(_quotes(ctx, jm, pain))
    if pain.what_if:
        import pandas as pd

        w = pd.DataFrame(
            {
                "if the drop-off fell by": [f"{x.reduction:.0%}" for x in pain.what_if],
                "extra conversions": [x.extra_conversions for x in pain.what_if],
                "low": [x.low for x in pain.what_if],
                "high": [x.high for x in pain.what_if],
                "revenue": [x.revenue for x in pain.what_if],
            }
        )
        parts.append(
            table(
                w,
                name=f"what-if-{pain.id}",
                caption="What if",
                formats={
                    "extra conversions": lambda v: fmt_num(v, 1),
                    "low": lambda v: fmt_num(v, 1),
                    "high": lambda v: fmt_num(v, 1),
                    "revenue": lambda v: f"{cur}{v:,.0f}",
                },
                limit=None,
            )
        )
    if pain.paths:
        import pandas as pd

        paths = pd.DataFrame(list(pain.paths), columns=["path from the touchpoint", "people"])
        parts.append(
            table(paths, name=f"paths-{pain.id}", caption="Where they went next", limit=None)
        )
    if pain.people_sample:
        links = "".join(
            f'<a class="pill" href="/people?q={quote(p)}#person">{esc(p)}</a>'
            for p in pain.people_sample
        )
        parts.append(f'<h3>People</h3><div class="ids">{links}</div>')
    return "".join(parts)


def _quotes(ctx: PageContext, jm: JourneyMap, pain: Any) -> str:
    """What the people affected said (anywhere: a failed payment is often told to the chat
    afterwards), then comments about the touchpoint itself; the most negative first."""
    from journeykit.server.dashboard.pages.voc import comments

    try:
        frame = comments(ctx)
    except Exception:  # quotes are a nice-to-have: the evidence above stands without them
        return ""
    if frame.empty:
        return ""
    try:
        events = set(jm.spec.touchpoint(pain.touchpoint).events)
    except (KeyError, LookupError, ValueError):
        events = {pain.touchpoint}
    mine = frame["person_id"].isin(set(pain.people_sample))
    here = frame["touchpoint"].isin(events)
    rows = frame[mine | here].copy()
    if pain.weeks and not rows.empty:
        week = rows["ts"].dt.to_period("W-SUN").dt.start_time.dt.date.astype(str)
        in_weeks = week.isin(list(pain.weeks))
        rows = rows[in_weeks | rows["person_id"].isin(set(pain.people_sample))]
    if rows.empty:
        return ""
    rows["_mine"] = rows["person_id"].isin(set(pain.people_sample))
    rows = rows.sort_values(["_mine", "sentiment", "ts"], ascending=[False, True, False])
    quotes = "".join(
        f'<blockquote>“{esc(r.comment)}”<br><span class="note">{esc(r.survey)} '
        f"{fmt_num(r.score, 0)} · about {esc(r.touchpoint or '–')} · {esc(str(r.ts)[:10])} · "
        f'<a href="/people?q={quote(str(r.person_id))}#person">{esc(r.person_id)}</a>'
        "</span></blockquote>"
        for r in rows.head(QUOTES).itertuples(index=False)
    )
    return f"<h3>What they said</h3>{quotes}"


def map_page(ctx: PageContext) -> Any:
    """The map page of :mod:`journeykit.render` (shown in the iframe), with a small bridge."""
    from fastapi.responses import HTMLResponse

    from journeykit.render.html import map_html

    jm = journey_map(ctx)
    if jm is None:
        raise NotFound("journey map", "workspace")
    page = ctx.cached("journey_map_html", (), lambda: map_html(jm), engine=False)
    head, sep, tail = page.rpartition("</body>")
    body = head + _BRIDGE + sep + tail if sep else page + _BRIDGE
    return HTMLResponse(body)
