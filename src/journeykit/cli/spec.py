"""``journeykit spec``: the workspace's journey spec — infer, show, validate, set — and ``map``.

The spec lives in the workspace, versioned; every command that needs one reads the current
version, and says how to make one when there is none (it never borrows the demo's).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from journeykit.cli.main import (
    CsvOpt,
    JsonOpt,
    WorkspaceOpt,
    app,
    console,
    err,
    open_ws,
    show_frame,
)

if TYPE_CHECKING:
    from journeykit.journey.spec import JourneySpec
    from journeykit.store import Workspace

spec_app = typer.Typer(
    help="The workspace's journey spec: what the data means (stages, conversions, currency, ...).",
    no_args_is_help=True,
)
app.add_typer(spec_app, name="spec")

OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Also write the proposed spec to this file.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the proposal; store nothing in the workspace.")
]
StagesOpt = Annotated[int, typer.Option(help="How many stages.")]


def _raw(text: str) -> None:
    """Write YAML as it is (a console would wrap long lines and break it when redirected)."""
    import sys

    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def warn_missing(ws: Workspace, spec: JourneySpec) -> int:
    """Print a warning for each spec event that never occurs in the data; how many."""
    from journeykit.journey.spec_check import missing_events

    missing = missing_events(ws, spec)
    for item in missing:
        err.print(f"[yellow]Warning:[/yellow] {item.message}")
    return len(missing)


def _infer(workspace: Path | None, out: Path | None, dry_run: bool, stages: int) -> None:
    from journeykit.journey import set_spec
    from journeykit.journey.infer import infer_spec

    ws = open_ws(workspace)
    inference = infer_spec(ws, stages=stages)
    proposal = inference.spec
    decided = Table(title="what the data says", header_style="bold")
    for col in ("decision", "about", "choice", "confidence", "why"):
        decided.add_column(col, overflow="fold")
    for d in inference.decisions:
        decided.add_row(d.topic, d.subject, d.choice, f"{d.confidence:.2f}", d.why)
    err.print(decided)
    for question in inference.undecided:
        err.print(f"[yellow]could not decide:[/yellow] {question}")
    if out is not None:
        out.write_text(inference.yaml, encoding="utf-8")
        console.print(f"wrote {out}")
    if dry_run:
        _raw(inference.yaml)
        console.print("[dim]dry run: nothing stored in the workspace[/dim]")
        return
    stored = set_spec(ws, inference.yaml, by="spec infer")
    console.print(
        f"stored the proposed spec as version {stored.version} of {ws.path} "
        f"({len(proposal.stages)} stages, goal {', '.join(proposal.goal_events)}); "
        "review it with `journeykit spec show`, edit and `journeykit spec set FILE`"
    )
    warn_missing(ws, proposal)


@spec_app.command("infer")
def infer(
    workspace: WorkspaceOpt = None,
    out: OutOpt = None,
    dry_run: DryRunOpt = False,
    stages: StagesOpt = 5,
) -> None:
    """Propose a spec from the data and store it in the workspace (a new version)."""
    _infer(workspace, out, dry_run, stages)


app.command("init-spec", help="The same as `journeykit spec infer`.")(infer)


@spec_app.command("show")
def show(
    workspace: WorkspaceOpt = None,
    history: Annotated[bool, typer.Option("--history", help="Every version: when, by whom.")] = (
        False
    ),
    version: Annotated[int | None, typer.Option(help="Show this version, not the current.")] = (
        None
    ),
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Print the workspace's current spec (YAML), or its history."""
    from journeykit.errors import NoSpec, NotFound
    from journeykit.journey import spec_versions

    ws = open_ws(workspace)
    versions = spec_versions(ws)
    if not versions:
        raise NoSpec(str(ws.path))
    if history:
        import pandas as pd

        rows = [
            {
                "version": str(v.version) + (" (current)" if v is versions[-1] else ""),
                "set_at": v.set_at,
                "set_by": v.set_by,
                "note": v.note or "",
                "name": v.spec.name,
                "stages": len(v.spec.stages),
                "goal": ", ".join(v.spec.goal_events),
            }
            for v in reversed(versions)
        ]
        show_frame(pd.DataFrame(rows), f"journey spec of {ws.path}")
        return
    chosen = versions[-1]
    if version is not None:
        match = [v for v in versions if v.version == version]
        if not match:
            raise NotFound("spec version", str(version), [str(v.version) for v in versions])
        chosen = match[0]
    err.print(
        f"[dim]version {chosen.version} of {len(versions)}, set {chosen.set_at:%Y-%m-%d %H:%M} "
        f"by {chosen.set_by}[/dim]"
    )
    _raw(chosen.yaml)


@spec_app.command("validate")
def validate(
    file: Annotated[
        Path | None, typer.Argument(help="A spec file (default: the workspace's current spec).")
    ] = None,
    workspace: WorkspaceOpt = None,
    strict: Annotated[
        bool, typer.Option(help="Fail (exit 1) when spec events never occur in the data.")
    ] = False,
) -> None:
    """Check a spec: its shape and rules, and that its events occur in the workspace's data."""
    from journeykit.journey import current_spec, load_spec

    ws = open_ws(workspace)
    spec = current_spec(ws) if file is None else load_spec(file)
    missing = warn_missing(ws, spec)
    what = str(file) if file is not None else f"the spec of {ws.path}"
    console.print(
        f"{what} is valid: {len(spec.stages)} stages, {len(spec.all_touchpoints())} touchpoints, "
        f"goal {', '.join(spec.goal_events)}"
        + (f"; {missing} event name(s) never occur in the data" if missing else "")
    )
    if strict and missing:
        raise typer.Exit(1)


@spec_app.command("set")
def set_(
    file: Annotated[Path, typer.Argument(help="The spec (YAML) to store.")],
    workspace: WorkspaceOpt = None,
    by: Annotated[str, typer.Option(help="Who or what sets it (kept in the history).")] = (
        "spec set"
    ),
    note: Annotated[str | None, typer.Option(help="Why (kept in the history).")] = None,
) -> None:
    """Store a spec file as the workspace's new current spec (the old ones are kept)."""
    from journeykit.journey import set_spec

    ws = open_ws(workspace)
    stored = set_spec(ws, file, by=by, note=note or str(file))
    console.print(f"stored {file} as version {stored.version} of the spec of {ws.path}")
    warn_missing(ws, stored.spec)


@app.command("map")
def map_(
    spec: Annotated[
        Path | None, typer.Option(help="Journey spec file (default: the workspace's).")
    ] = None,
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("journey-map.html"),
    png: Annotated[Path | None, typer.Option(help="Also a PNG (headless Chromium).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Render the living journey map (self-contained HTML, optional PNG)."""
    from journeykit.journey import spec_or_current
    from journeykit.render import render_map

    ws = open_ws(workspace)
    chosen = spec_or_current(ws, spec)
    warn_missing(ws, chosen)
    journey_map = render_map(ws, chosen, out, png=png)
    console.print(f"wrote {out}" + (f" and {png}" if png else ""))
    for pain in journey_map.pains[:8]:
        console.print(f"[bold]{pain.id}[/bold] {pain.title} ({pain.people:,} people)")
