"""Commands for journey analytics: funnel, paths, retention, churn, kpis, compare."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from journeykit.cli.main import (
    CsvOpt,
    JsonOpt,
    WorkspaceOpt,
    app,
    console,
    open_ws,
    show_frame,
    warn_names,
)

if TYPE_CHECKING:
    from journeykit.cli.output import Kind

HtmlOpt = Annotated[Path | None, typer.Option("--html", help="Write the chart as HTML.")]
SegmentOpt = Annotated[
    str | None, typer.Option(help="Only people matching a filter, e.g. 'first_channel == \"ads\"'.")
]


def _save(figure=None, html: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    if html is not None and figure is not None:
        figure.write_html(html, include_plotlyjs=True)
        console.print(f"wrote {html}")


def stage_events(spec: Path) -> dict[str, list[str]]:
    """``{stage: [event names]}`` of a journey spec, in stage order."""
    from journeykit.journey.spec import load_spec

    loaded = load_spec(spec).normalised()
    return {
        stage.name: sorted({e for tp in stage.touchpoints for e in tp.events})
        for stage in loaded.stages
    }


@app.command()
def funnel(
    steps: Annotated[list[str], typer.Argument(help="Event names, in order.")],
    workspace: WorkspaceOpt = None,
    window: Annotated[str | None, typer.Option(help="Conversion window, e.g. 7d.")] = None,
    mode: Annotated[str, typer.Option(help="ordered, strict or any.")] = "ordered",
    by: Annotated[str | None, typer.Option(help="Break down by channel, properties.x, …")] = None,
    per: Annotated[str, typer.Option(help="person or session.")] = "person",
    segment: SegmentOpt = None,
    dropped_at: Annotated[
        str | None, typer.Option(help="Write the people who dropped at this step to --cohort.")
    ] = None,
    cohort: Annotated[Path | None, typer.Option(help="CSV for --dropped-at.")] = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Conversion through ordered steps, with drop-off and time to convert."""
    from journeykit.analytics import funnel as run
    from journeykit.analytics.names import unknown_events, unknown_in_filters

    ws = open_ws(workspace)
    warn_names(unknown_events(ws, steps, what="funnel step") + unknown_in_filters(ws, [segment]))
    result = run(
        ws,
        steps,
        window=window,
        mode=mode,
        by=by,  # type: ignore[arg-type]
        per=per,
        segment=segment,
    )  # type: ignore[arg-type]
    show_frame(result.table, "funnel")
    if dropped_at:
        people = result.dropped_at(dropped_at)
        target = cohort or Path("dropped.csv")
        people.to_csv(target, index=False)
        console.print(f"{len(people):,} people dropped at {dropped_at!r}: wrote {target}")
    _save(result.figure() if html else None, html)


@app.command()
def paths(
    workspace: WorkspaceOpt = None,
    what: Annotated[
        Literal["transitions", "variants", "steps", "next"],
        typer.Option(help="transitions, variants, steps or next."),
    ] = "transitions",
    anchor: Annotated[str | None, typer.Option(help="Anchor event (for next / flows).")] = None,
    goal: Annotated[str | None, typer.Option(help="Goal event (for variants).")] = None,
    backwards: Annotated[bool, typer.Option(help="Previous steps instead of next.")] = False,
    ends: Annotated[
        bool, typer.Option("--ends", help="Transitions: include (start) and (end).")
    ] = False,
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, help="Step matrix: how many steps.")
    ] = 10,
    steps: Annotated[int, typer.Option(min=1, help="Next steps: how many after the anchor.")] = 3,
    max_length: Annotated[
        int | None,
        typer.Option("--max-length", min=1, help="Variants: cut journeys after this many events."),
    ] = None,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="Count consecutive repeats once (A A B -> A B).")
    ] = False,
    per: Annotated[
        Literal["person", "session"], typer.Option(help="Journeys per person or per session.")
    ] = "person",
    top: Annotated[
        int, typer.Option(min=1, help="Show the N most frequent (the CSV holds all).")
    ] = 20,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Transitions, top path variants, step matrix, or next/previous steps from an anchor."""
    from journeykit import analytics as an
    from journeykit.analytics.names import unknown_events

    ws = open_ws(workspace)
    warn_names(
        unknown_events(ws, [anchor], what="anchor") + unknown_events(ws, [goal], what="goal")
    )
    options = {"per": per, "collapse_repeats": collapse}
    direction = "previous" if backwards else "next"
    if what == "transitions":
        table = an.transition_matrix(ws, include_ends=ends, detail=True, **options).table
        table = table.sort_values(
            ["transitions", "source", "target"], ascending=[False, True, True]
        ).reset_index(drop=True)
    elif what == "variants":
        table = an.variants(ws, goal=goal, top=None, max_length=max_length, **options)
    elif what == "steps":
        table = an.step_matrix(ws, max_steps=max_steps, anchor=anchor, **options)
    else:
        if not anchor:
            raise typer.BadParameter("--anchor is needed for --what next", param_hint="--anchor")
        table = an.next_steps(ws, anchor, steps=steps, direction=direction, **options)  # type: ignore[arg-type]
    title = f"{what} (the {top} most frequent of {len(table):,})" if len(table) > top else what
    show_frame(table, title, limit=top if what in ("transitions", "variants") else 10_000)
    if html is not None:
        figure = an.flows(ws, anchor=anchor, direction=direction, **options).figure()  # type: ignore[arg-type]
        _save(figure, html)


@app.command()
def retention(
    workspace: WorkspaceOpt = None,
    cohort: Annotated[
        str, typer.Option(help="first_event, first_purchase or an event.")
    ] = "first_event",
    grain: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    periods: Annotated[int, typer.Option(help="Periods after the cohort's own.")] = 8,
    unbounded: Annotated[bool, typer.Option(help="Rolling (unbounded) retention.")] = False,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
    html: HtmlOpt = None,
) -> None:
    """Cohort retention as a table (and heatmap)."""
    from journeykit.analytics import retention as run
    from journeykit.analytics.names import unknown_in_cohort

    ws = open_ws(workspace)
    warn_names(unknown_in_cohort(ws, cohort))
    result = run(
        ws,
        cohort=cohort,
        grain=grain,
        periods=periods,  # type: ignore[arg-type]
        kind="unbounded" if unbounded else "n_period",
    )
    matrix = result.matrix().reset_index()
    matrix.columns = [str(c) for c in matrix.columns]
    shares: dict[str, Kind] = dict.fromkeys(matrix.columns[1:], "percent")
    show_frame(matrix, f"{grain}ly retention", kinds=shares, csv_frame=result.table)
    _save(result.figure() if html else None, html)


@app.command()
def churn(
    workspace: WorkspaceOpt = None,
    inactivity: Annotated[str, typer.Option(help="Inactive this long means churned.")] = "30d",
    grain: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    lifecycle: Annotated[
        bool, typer.Option(help="New / returning / resurrecting / dormant.")
    ] = False,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Churn rate over time (or the lifecycle of active people)."""
    from journeykit import analytics as an

    ws = open_ws(workspace)
    if lifecycle:
        show_frame(an.lifecycle(ws, grain=grain), "lifecycle")  # type: ignore[arg-type]
    else:
        show_frame(an.churn(ws, inactivity=inactivity, grain=grain), "churn")  # type: ignore[arg-type]


@app.command()
def kpis(
    workspace: WorkspaceOpt = None,
    spec: Annotated[
        Path | None,
        typer.Option(help="A journey spec file for the stages (default: the workspace's spec)."),
    ] = None,
    start: Annotated[str | None, typer.Option(help="From this date.")] = None,
    end: Annotated[str | None, typer.Option(help="Until this date.")] = None,
    segment: SegmentOpt = None,
    last_touch: Annotated[bool, typer.Option(help="CAC by last touch (default first).")] = False,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Conversion, churn, CAC by channel, AOV, purchase frequency, CLV, time to purchase.

    What a purchase, its value and a marketing touch are comes from the workspace's spec.
    """
    from journeykit.analytics import kpis as run
    from journeykit.analytics.metrics import spec_stages
    from journeykit.analytics.names import unknown_events, unknown_in_filters
    from journeykit.journey.spec import load_spec

    ws = open_ws(workspace)
    stages = None
    if spec is not None:
        stages = spec_stages(load_spec(spec))
        named = [e for events in stages.values() for e in events]
        warn_names(unknown_events(ws, named, what="spec event"))
    warn_names(unknown_in_filters(ws, [segment]))
    result = run(
        ws,
        stages=stages,
        start=start,
        end=end,
        segment=segment,
        attribution="last_touch" if last_touch else "first_touch",
    )
    show_frame(result.table, "KPIs")
    if result.stages is not None and len(result.stages):
        show_frame(result.stages, "stages")
    if result.cac is not None and len(result.cac):
        show_frame(result.cac, "CAC by channel")


@app.command()
def compare(
    segments: Annotated[
        list[str], typer.Argument(help="NAME=FILTER, e.g. app='channel == \"app\"'")
    ],
    workspace: WorkspaceOpt = None,
    metric: Annotated[
        str, typer.Option(help="revenue, orders, events, funnel, retention.")
    ] = "revenue",
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Compare a metric across segments and say which differences are significant."""
    from journeykit.analytics import compare_segments

    named = {}
    for item in segments:
        if "=" not in item:
            raise typer.BadParameter(f"expected NAME=FILTER, got {item!r}")
        name, text = item.split("=", 1)
        named[name.strip()] = text.strip()
    from journeykit.analytics.names import unknown_in_filters

    ws = open_ws(workspace)
    warn_names(unknown_in_filters(ws, named.values()))
    result = compare_segments(ws, named, metric=metric)
    show_frame(result.groups, f"{metric} by segment")
    show_frame(result.pairs, "pairwise differences")
    test = result.test or {}
    if test.get("p_value") is not None:
        console.print(
            f"{test.get('name')}: statistic {test.get('statistic'):.3g}, "
            f"p = {test.get('p_value'):.3g}"
        )
