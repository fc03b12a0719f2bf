"""Flows: a Sankey from any anchor event, forwards or backwards, and the top path variants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from journeykit.errors import InputError, JourneykitError
from journeykit.server.dashboard.html import (
    fmt_pct,
    notice,
    select,
    table,
    text_input,
)

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.analytics import Flows
    from journeykit.server.dashboard.context import PageContext

DIRECTIONS = (("next", "What happens after"), ("previous", "What leads to it"))
PERS = (("person", "People"), ("session", "Sessions"))


@dataclass(frozen=True)
class FlowQuery:
    """The flow a request asks for."""

    anchor: str | None
    direction: str
    steps: int
    max_nodes: int
    per: str
    collapse: bool
    segment: str | None
    goal: str | None

    def options(self) -> dict[str, object]:
        """The journey options shared by flows and variants."""
        return {"per": self.per, "collapse_repeats": self.collapse, "segment": self.segment}

    def flows(self, ctx: PageContext) -> Flows:
        """The Sankey's links (cached)."""
        from journeykit.analytics import flows

        return ctx.cached(
            "flows",
            self,
            lambda: flows(
                ctx.ws,
                steps=self.steps,
                anchor=self.anchor,
                direction=self.direction,  # type: ignore[arg-type]
                max_nodes=self.max_nodes,
                **self.options(),
            ),
        )

    def variants(self, ctx: PageContext) -> pd.DataFrame:
        """The most common journeys (cached)."""
        from journeykit.analytics import variants

        key = (self.goal, self.per, self.collapse, self.segment)
        return ctx.cached(
            "variants",
            key,
            lambda: variants(ctx.ws, goal=self.goal, top=25, max_length=12, **self.options()),
        )


def _int(ctx: PageContext, name: str, default: int, low: int, high: int) -> int:
    text = ctx.get(name, str(default)) or str(default)
    if not text.isdigit() or not low <= int(text) <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(text)


def read_query(ctx: PageContext, names: list[str]) -> FlowQuery:
    """The flow parameters of a request."""
    goal = ctx.get("goal")
    if goal is None and "goal" not in ctx.params and ctx.spec is not None:
        # the variants table counts journeys to the spec's (first) conversion by default
        goal = next((e for e in ctx.spec.conversion_events if e in names), None)
    return FlowQuery(
        anchor=ctx.get("anchor"),
        direction=ctx.get("direction", "next") or "next",
        steps=_int(ctx, "steps", 4, 2, 8),
        max_nodes=_int(ctx, "nodes", 8, 2, 20),
        per=ctx.get("per", "person") or "person",
        collapse=(ctx.get("collapse", "1") or "1") == "1",
        segment=ctx.get("segment"),
        goal=goal,
    )


def render(ctx: PageContext) -> str:
    """The flows page."""
    names = sorted(str(e) for e in ctx.event_names()["event"])
    if not names:
        return notice("No events yet: load some data first.")
    try:
        q = read_query(ctx, names)
    except JourneykitError as exc:
        return notice(str(exc), kind="error")
    anchors = [("", "(journey start)"), *((n, n) for n in names)]
    goals = [("", "(no goal)"), *((n, n) for n in names)]
    form = (
        '<form class="filters" method="get" action="/flows">'
        + select("anchor", anchors, q.anchor, label="Anchor event")
        + select("direction", list(DIRECTIONS), q.direction, label="Direction")
        + text_input("steps", str(q.steps), label="Steps", kind="number")
        + text_input("nodes", str(q.max_nodes), label="Events per step", kind="number")
        + select("per", list(PERS), q.per, label="Count")
        + select(
            "collapse",
            [("1", "Collapse repeats"), ("0", "Keep repeats")],
            "1" if q.collapse else "0",
            label="Repeats",
        )
        + select("goal", goals, q.goal or "", label="Variants goal")
        + text_input(
            "segment",
            q.segment,
            label="Segment (filter)",
            placeholder='first_channel == "ads"',
            wide=True,
        )
        + '<div class="actions"><button class="primary" type="submit">Update</button></div></form>'
    )
    from journeykit.server.dashboard.names import name_notices

    parts = [form, name_notices(ctx, {"anchor": [q.anchor], "goal": [q.goal]}, [q.segment])]
    try:
        flow = q.flows(ctx)
    except JourneykitError as exc:
        return form + notice(str(exc), kind="error")
    if flow.links.empty:
        parts.append(notice("No journeys match.", kind="warn"))
    else:
        fig = flow.figure()
        fig.update_layout(title=None)
        where = f" {'after' if q.direction == 'next' else 'before'} {q.anchor}" if q.anchor else ""
        unit = "people" if q.per == "person" else "sessions"
        parts.append(
            ctx.figures.chart(
                fig, name="flows", height=520, title=f"Flows{where} ({flow.total:,} {unit})"
            )
        )
    try:
        var = q.variants(ctx)
    except JourneykitError as exc:
        parts.append(notice(str(exc), kind="error"))
        var = None
    grid = ['<div class="grid">']
    if var is not None and not var.empty:
        formats = {"share": fmt_pct, "conversion": fmt_pct}
        caption = "Top path variants" + (f" (until {q.goal})" if q.goal else "")
        grid.append(
            f'<div class="wide">{table(var, name="variants", caption=caption, formats=formats, limit=None)}</div>'
        )
    if not flow.links.empty:
        grid.append(
            f'<div class="wide">{table(flow.links, name="flow-links", caption="Flow links", formats={"share": fmt_pct}, limit=300)}</div>'
        )
    grid.append("</div>")
    return "".join(parts + grid)
