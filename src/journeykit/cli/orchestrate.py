"""``journeykit automations`` and ``journeykit orchestrate``: journeys that act."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from journeykit.cli.main import (
    CsvOpt,
    JsonOpt,
    WorkspaceOpt,
    app,
    console,
    given_workspace,
    open_ws,
    show_frame,
)

if TYPE_CHECKING:
    from journeykit.store import Workspace

auto_app = typer.Typer(
    help="Journey automations: validate, list, stats, backtest.", no_args_is_help=True
)
app.add_typer(auto_app, name="automations")

StateOpt = Annotated[
    str,
    typer.Option(
        "--state", help="State database URL or SQLite file.", envvar="JOURNEYKIT_ORCHESTRATE_STATE"
    ),
]
DEFAULT_STATE = "journeykit-orchestrate.sqlite"


def _events(
    ws: Workspace,
    since: datetime | None,
    after: tuple[Any, str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Events of the workspace as canonical dicts (properties and traits parsed)."""
    where, params = [], []
    if since is not None:
        where.append("e.ts >= ?")
        params.append(since)
    if after is not None:
        where.append("(e.ts, e.event_id) > (?, ?)")
        params.extend(after)
    sql = (
        "SELECT e.event_id, e.ts, e.person_id, e.event, e.channel, e.properties, e.revenue, "
        "p.traits FROM events e LEFT JOIN people p USING (person_id) "
        + (f"WHERE {' AND '.join(where)} " if where else "")
        + "ORDER BY e.ts, e.event_id"
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    out = []
    for event_id, ts, person, name, channel, props, revenue, traits in ws.store.fetchall(
        sql, params
    ):
        out.append(
            {
                "event_id": event_id,
                "ts": ts,
                "person_id": person,
                "event": name,
                "channel": channel,
                "properties": json.loads(props or "{}"),
                "revenue": revenue,
                "traits": json.loads(traits) if traits else {},
            }
        )
    return out


@auto_app.command("validate")
def validate(
    path: Annotated[Path, typer.Argument(help="A YAML file or a folder of them.")],
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Also check event names, properties and traits against this workspace.",
            callback=given_workspace,
        ),
    ] = None,
) -> None:
    """Check automation files; errors name the line and the field. With --workspace, event
    names are checked against the data ("did you mean ...?")."""
    from journeykit.orchestrate import validate_file

    automations = validate_file(path)
    findings = [] if workspace is None else _check_workspace(automations, workspace)
    for f in findings:
        colour = "red" if f.level == "error" else "yellow"
        console.print(f"[{colour}]{f.level}:[/{colour}] {escape(str(f).split(': ', 1)[1])}")
    errors = sum(f.level == "error" for f in findings)
    if errors:
        from journeykit.errors import InvalidSpec

        raise InvalidSpec(f"{errors} name(s) in {path} match nothing in the workspace (above)")
    for a in automations:
        console.print(f"[green]ok[/green] {a.id}: {len(a.steps)} steps")


def _check_workspace(automations: list[Any], workspace: Path) -> list[Any]:
    """Event names, properties and traits of ``automations`` against a workspace."""
    from journeykit.journey.spec_check import closest_names, event_names
    from journeykit.orchestrate.checks import check, mentions

    ws = open_ws(workspace)
    listened = sorted({n for a in automations for n in mentions(a).listened})
    properties: dict[str, set[str]] = {}
    if listened:
        marks = ", ".join("?" for _ in listened)
        for event, key in ws.store.fetchall(
            "SELECT DISTINCT event, k FROM (SELECT event, unnest(json_keys(properties)) AS k "
            f"FROM events WHERE event IN ({marks}) AND json_valid(properties))",
            listened,
        ):
            properties.setdefault(event, set()).add(key)
    traits = {
        r[0]
        for r in ws.store.fetchall(
            "SELECT DISTINCT k FROM (SELECT unnest(json_keys(traits)) AS k FROM people "
            "WHERE traits IS NOT NULL AND json_valid(traits))"
        )
    }
    return check(
        automations,
        events=event_names(ws),
        closest=lambda name, known: closest_names(name, known),
        properties=properties,
        traits=traits,
    )


@auto_app.command("list")
def list_(state: StateOpt = DEFAULT_STATE, json_: JsonOpt = False, csv: CsvOpt = None) -> None:
    """Automations with people entered, waiting, completed, converted."""
    from journeykit.orchestrate import list_automations

    show_frame(list_automations(state), "automations")


@auto_app.command("stats")
def stats(
    automation: Annotated[str, typer.Argument(help="Automation id.")],
    state: StateOpt = DEFAULT_STATE,
    confidence: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="Level of the intervals.")
    ] = 0.95,
    method: Annotated[
        str, typer.Option(help="Uplift interval: newcombe, wald, agresti-caffo or score.")
    ] = "newcombe",
    since: Annotated[
        datetime | None, typer.Option(help="Count people whose first journey starts here.")
    ] = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """People per arm against the holdout: conversion, uplift with its interval, the funnel."""
    from journeykit.errors import InputError
    from journeykit.orchestrate.measure import METHODS, report

    if method not in METHODS:
        raise InputError(f"unknown method {method!r} (use {', '.join(METHODS)})", field="method")
    require_state(state)
    result = report(state, automation, confidence=confidence, method=method, since=since)  # type: ignore[arg-type]
    level = f"{confidence:.0%}"
    groups = result.groups.reset_index(drop=True)
    cols = ["arm", "entered", "converted", "conversion_rate", "rate_low", "rate_high"]
    cols += ["in_window", "journeys", "uplift", "uplift_low", "uplift_high"]
    shown = groups[cols].rename(
        columns={
            "entered": "people",
            "rate_low": f"rate {level} low",
            "rate_high": f"rate {level} high",
            "uplift_low": f"uplift {level} low",
            "uplift_high": f"uplift {level} high",
        }
    )
    show_frame(shown, f"{automation}: people by arm (each counted once, at first entry)")
    u = result.uplift
    if u is not None:
        console.print(
            f"uplift (treatment − holdout): {u.uplift * 100:+.1f} pts, {level} interval "
            f"[{u.low * 100:+.1f}, {u.high * 100:+.1f}] — {u.method_label} interval "
            f"(statsmodels), {u.treatment_people:,} treated vs {u.holdout_people:,} held-out people"
        )
    else:
        console.print(f"interval method: {result.method_label} at {level}")
    for warning in result.warnings:
        console.print(f"[yellow]Warning:[/yellow] {warning}")
    if len(result.funnel):
        show_frame(result.funnel, "per step (treated people reaching each step)")


def require_state(state: str) -> None:
    """Refuse a state file that does not exist (a read must not create an empty one)."""
    from journeykit.errors import NotFound
    from journeykit.orchestrate.state import normalise_url

    url = normalise_url(state)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise NotFound("orchestration state", str(path), [])


@auto_app.command("backtest")
def backtest_(
    path: Annotated[Path, typer.Argument(help="Automation YAML file or folder.")],
    as_of: Annotated[datetime, typer.Option("--as-of", help="Pretend launch time.")],
    workspace: WorkspaceOpt = None,
    lookback_days: Annotated[int, typer.Option(help="History that builds profiles.")] = 28,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Replay stored events: who would enter, messages per person per week, conversion."""
    from datetime import timedelta

    from journeykit.orchestrate import validate_file
    from journeykit.orchestrate.backtest import backtest

    automations = validate_file(path)
    ws = open_ws(workspace)
    events = _events(ws, as_of - timedelta(days=lookback_days))
    import pandas as pd

    rows = [
        vars(r)
        if not hasattr(r, "__dataclass_fields__")
        else {k: getattr(r, k) for k in r.__dataclass_fields__}
        for r in backtest(automations, events, as_of=as_of, lookback=timedelta(days=lookback_days))
    ]
    show_frame(pd.DataFrame(rows).drop(columns=["by_channel"], errors="ignore"), "backtest")


def _follow(
    ws: Workspace, since: datetime | None, follow: bool, stop: threading.Event
) -> Iterator[dict[str, Any]]:
    last: tuple[Any, str] | None = None
    first = True
    while not stop.is_set():
        batch = _events(ws, since if first else None, last, limit=5000)
        first = False
        yield from batch
        if batch:
            last = (batch[-1]["ts"], batch[-1]["event_id"])
            continue
        if not follow:
            return
        time.sleep(1.0)


@app.command()
def orchestrate(
    path: Annotated[Path, typer.Argument(help="Automation YAML file or folder.")],
    workspace: WorkspaceOpt = None,
    state: StateOpt = DEFAULT_STATE,
    since: Annotated[datetime | None, typer.Option(help="Replay stored events from here.")] = None,
    follow: Annotated[bool, typer.Option(help="Keep running and pick up new events.")] = False,
) -> None:
    """Run automations over the workspace's events (and new ones with --follow)."""
    from journeykit.orchestrate import IterableSource, run_worker, validate_file

    automations = validate_file(path)
    ws = open_ws(workspace)
    stop = threading.Event()
    source = IterableSource(_follow(ws, since, follow, stop))
    try:
        result = run_worker(state, automations, source, stop, stop_when_idle=not follow)
    except KeyboardInterrupt:
        stop.set()
        return
    console.print(result)


@app.command()
def alerts(
    workspace: WorkspaceOpt = None,
    event: Annotated[
        str, typer.Option(help="Error event whose daily count is watched.")
    ] = "Payment Failed",
    days: Annotated[int, typer.Option(help="Days to scan.")] = 60,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Scan a daily metric for values outside their expected range."""
    import pandas as pd

    from journeykit.monitor import Watch, scan

    ws = open_ws(workspace)
    daily = ws.store.df(
        "SELECT CAST(ts AS DATE) AS day, count(*) AS n FROM events WHERE event = ? "
        "GROUP BY 1 ORDER BY 1",
        [event],
    )
    series = pd.Series(daily["n"].to_numpy(), index=pd.to_datetime(daily["day"]))
    import dataclasses

    found = scan(series, Watch(metric=f"daily {event}", direction="high"))
    cutoff = series.index.max() - pd.Timedelta(days=days) if len(series) else None
    frame = pd.DataFrame([dataclasses.asdict(a) for a in found])
    if not frame.empty and cutoff is not None:
        frame = frame[pd.to_datetime(frame["date"]) > cutoff]
    if frame.empty:
        console.print("no alerts")
    else:
        show_frame(frame, f"alerts on daily {event}")
