"""``journeykit voc``: survey scores and what customers talk about."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from journeykit.cli.main import CsvOpt, JsonOpt, WorkspaceOpt, app, console, open_ws, show_frame

voc_app = typer.Typer(
    help="Voice of the customer: NPS, CSAT, CES and feedback themes.", no_args_is_help=True
)
app.add_typer(voc_app, name="voc")


def _stages(spec: Path | None) -> dict[str, str] | None:
    if spec is None:
        return None
    from journeykit.cli.analytics import stage_events

    return {event: stage for stage, events in stage_events(spec).items() for event in events}


def _score(
    survey: Literal["nps", "csat", "ces"],
    by: str | None,
    freq: str | None,
    spec: Path | None,
    workspace: Path | None,
) -> None:
    from journeykit.voc import score_report

    groups = [b.strip() for b in by.split(",")] if by else None
    table = score_report(
        open_ws(workspace),
        survey,
        by=groups,
        freq=freq,  # type: ignore[arg-type]
        stages=_stages(spec),
    )
    show_frame(table, survey.upper() + (f" by {by}" if by else ""))


ByOpt = Annotated[str | None, typer.Option(help="Group by: stage, touchpoint, channel, a trait …")]
FreqOpt = Annotated[str | None, typer.Option(help="Over time: D, W or M.")]
SpecOpt = Annotated[Path | None, typer.Option(help="Journey spec (for --by stage).")]


@voc_app.command()
def nps(
    by: ByOpt = None,
    freq: FreqOpt = None,
    spec: SpecOpt = None,
    workspace: WorkspaceOpt = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Net Promoter Score with its confidence interval."""
    _score("nps", by, freq, spec, workspace)


@voc_app.command()
def csat(
    by: ByOpt = None,
    freq: FreqOpt = None,
    spec: SpecOpt = None,
    workspace: WorkspaceOpt = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Customer satisfaction: share satisfied and mean."""
    _score("csat", by, freq, spec, workspace)


@voc_app.command()
def ces(
    by: ByOpt = None,
    freq: FreqOpt = None,
    spec: SpecOpt = None,
    workspace: WorkspaceOpt = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Customer effort score."""
    _score("ces", by, freq, spec, workspace)


@voc_app.command()
def themes(
    segment: Annotated[str | None, typer.Option(help="detractors, promoters, negative, …")] = None,
    workspace: WorkspaceOpt = None,
    spec: SpecOpt = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Themes in the feedback, with keywords, quotes and touchpoints."""
    from journeykit.voc import theme_report

    report = theme_report(open_ws(workspace), segment=segment, stages=_stages(spec))
    cols = [
        c
        for c in (
            "label",
            "keywords",
            "n",
            "share",
            "mean_sentiment",
            "pct_negative",
            "top_touchpoint",
        )
        if c in report.themes.columns
    ]
    show_frame(report.themes[cols], "themes" + (f" ({segment})" if segment else ""))
    if len(report.emerging):
        show_frame(report.emerging, "emerging themes", limit=10)
    for row in report.themes.head(5).itertuples():
        quotes = getattr(row, "quotes", None)
        if quotes is not None and len(quotes):
            console.print(f"[bold]{row.label}[/bold]: “{next(iter(quotes))}”")
