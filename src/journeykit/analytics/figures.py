"""Plotly figures of journey analytics results.

Every function takes a result object and returns a ``plotly.graph_objects.Figure``; nothing
is shown or written. Figures stay readable with hundreds of event names: flows and graphs keep
the heaviest nodes and links and fold the rest into ``(other)``; shares are percentages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from journeykit.analytics._common import END, OTHER, START

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from journeykit.analytics.cohorts import Retention
    from journeykit.analytics.funnels import FunnelResult
    from journeykit.analytics.paths import FlowGraph, Flows


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.1f}%"


def funnel_figure(result: FunnelResult, *, title: str | None = None) -> go.Figure:
    """Bars of units per step (one trace per group), labelled with conversion from start."""
    import plotly.graph_objects as go

    table = result.table
    fig = go.Figure()
    groups = list(result.group_columns)
    parts = [("all", table)] if not groups else list(table.groupby(groups, sort=True))
    for key, part in parts:
        name = (
            key
            if isinstance(key, str)
            else " / ".join(map(str, key if isinstance(key, tuple) else (key,)))
        )
        fig.add_trace(
            go.Funnel(
                name=str(name),
                y=[f"{s}. {n}" for s, n in zip(part["step"], part["name"], strict=True)],
                x=part["units"].tolist(),
                text=[_pct(c) for c in part["conversion_from_start"]],
                textinfo="value+text",
                hovertemplate="%{y}<br>%{x} units<br>%{text} of step 1<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(title=title or f"Funnel ({result.mode}, per {result.per})")
    return fig


def sankey_figure(flows: Flows, *, min_share: float = 0.01, title: str | None = None) -> go.Figure:
    """A Sankey diagram of :class:`~journeykit.analytics.paths.Flows`.

    Links carrying less than ``min_share`` of the units are left out; node labels show the
    event and its share of the units.
    """
    import plotly.graph_objects as go

    links = flows.links[flows.links["share"] >= min_share]
    index: dict[tuple[int, str], int] = {}
    labels: list[str] = []
    weight: dict[int, int] = {}

    def node(step: int, event: str) -> int:
        key = (step, event)
        if key not in index:
            index[key] = len(labels)
            labels.append(event)
        return index[key]

    src, dst, val, hover = [], [], [], []
    for row in links.itertuples(index=False):
        a = node(int(row.step), str(row.source))
        b = node(int(row.step) + 1, str(row.target))
        src.append(a)
        dst.append(b)
        val.append(int(row.units))
        hover.append(f"{row.source} → {row.target}: {row.units} ({_pct(row.share)})")
        weight[b] = weight.get(b, 0) + int(row.units)
    for (step, _), i in index.items():
        if step == 1:
            weight[i] = int(
                links[(links["step"] == 1) & (links["source"] == labels[i])]["units"].sum()
            )
    total = max(flows.total, 1)
    text = [f"{labels[i]} ({_pct(weight.get(i, 0) / total)})" for i in range(len(labels))]
    colors = ["#bbbbbb" if lab in (OTHER, END, START) else "#4c78a8" for lab in labels]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": text, "color": colors, "pad": 12, "thickness": 14},
            link={
                "source": src,
                "target": dst,
                "value": val,
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra></extra>",
            },
        )
    )
    where = f" from {flows.anchor}" if flows.anchor else ""
    fig.update_layout(title=title or f"Flows{where} ({flows.total} units)")
    return fig


def graph_figure(
    graph: FlowGraph,
    *,
    max_nodes: int = 20,
    min_share: float = 0.02,
    title: str | None = None,
) -> go.Figure:
    """The directly-follows graph: the ``max_nodes`` busiest events, edges carrying at least
    ``min_share`` of their source's transitions, laid out left to right by typical position."""
    import math

    import plotly.graph_objects as go

    nodes = graph.nodes.head(max_nodes)
    keep = set(nodes["event"]) | {START, END}
    edges = graph.edges
    edges = edges[edges["source"].isin(keep) & edges["target"].isin(keep)]
    edges = edges[edges["probability"] >= min_share]
    # x: how far from the start an event sits (breadth-first over the strongest edges)
    depth = {START: 0}
    frontier = [START]
    strongest = edges.sort_values("transitions", ascending=False)
    while frontier:
        nxt = []
        for src in frontier:
            for tgt in strongest[strongest["source"] == src]["target"]:
                if tgt not in depth:
                    depth[tgt] = depth[src] + 1
                    nxt.append(tgt)
        frontier = nxt
    max_depth = max(depth.values(), default=0) + 1
    depth.setdefault(END, max_depth)
    by_depth: dict[int, list[str]] = {}
    for name in sorted(keep, key=lambda n: (depth.get(n, max_depth), n)):
        by_depth.setdefault(depth.get(name, max_depth), []).append(name)
    pos = {}
    for d, names in by_depth.items():
        for i, name in enumerate(names):
            pos[name] = (d, i - (len(names) - 1) / 2)
    units = dict(zip(graph.nodes["event"], graph.nodes["units"], strict=True))
    top = max(edges["transitions"].max() if not edges.empty else 1, 1)
    fig = go.Figure()
    for row in edges.itertuples(index=False):
        (x0, y0), (x1, y1) = pos[row.source], pos[row.target]
        width = 1 + 7 * math.sqrt(row.transitions / top)
        med = (
            ""
            if row.median_seconds != row.median_seconds
            else f", median {row.median_seconds / 60:.1f} min"
        )
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                line={"width": width, "color": "rgba(76,120,168,0.45)"},
                hoverinfo="text",
                text=f"{row.source} → {row.target}: {_pct(row.probability)}{med}",
                showlegend=False,
            )
        )
    names = list(pos)
    fig.add_trace(
        go.Scatter(
            x=[pos[n][0] for n in names],
            y=[pos[n][1] for n in names],
            mode="markers+text",
            text=list(names),
            textposition="top center",
            marker={
                "size": [
                    10 + 20 * math.sqrt(units.get(n, 0) / max(units.values(), default=1))
                    for n in names
                ],
                "color": ["#bbbbbb" if n in (START, END) else "#4c78a8" for n in names],
            },
            hovertext=[f"{n}: {units.get(n, '')} units" for n in names],
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.update_layout(
        title=title or "Directly-follows graph", xaxis={"visible": False}, yaxis={"visible": False}
    )
    return fig


def retention_heatmap(result: Retention, *, title: str | None = None) -> go.Figure:
    """Cohorts × periods, cells coloured and labelled by retention rate."""
    import plotly.graph_objects as go

    table = result.table
    if result.group_columns:
        table = table.groupby(["cohort", "period"], as_index=False)[
            ["cohort_size", "retained"]
        ].sum()
        table["rate"] = table["retained"] / table["cohort_size"]
    m = table.pivot(index="cohort", columns="period", values="rate")
    sizes = table.groupby("cohort")["cohort_size"].first()
    fig = go.Figure(
        go.Heatmap(
            z=m.to_numpy(),
            x=[f"{result.grain} {k}" for k in m.columns],
            y=[f"{c} (n={sizes[c]})" for c in m.index],
            text=[[_pct(v) for v in row] for row in m.to_numpy()],
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(title=title or f"Retention ({result.kind})", yaxis={"autorange": "reversed"})
    return fig


def step_matrix_figure(table: Any, *, max_events: int = 15, title: str | None = None) -> go.Figure:
    """A heatmap of :func:`~journeykit.analytics.paths.step_matrix`: events × steps."""
    import plotly.graph_objects as go

    totals = table.groupby("event")["units"].sum().sort_values(ascending=False)
    keep = set(totals.head(max_events).index)
    t = table.assign(event=[e if e in keep else OTHER for e in table["event"]])
    m = t.groupby(["event", "step"])["share"].sum().unstack(fill_value=0.0)
    fig = go.Figure(
        go.Heatmap(
            z=m.to_numpy(),
            x=[f"step {k}" for k in m.columns],
            y=list(m.index),
            text=[[_pct(v) for v in row] for row in m.to_numpy()],
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
        )
    )
    fig.update_layout(title=title or "Step matrix")
    return fig
